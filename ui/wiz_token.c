#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/token.h"
#include "ceremony/token_list.h"
#include "ui/wiz.h"

/*
 * Choosing where a custodian's key is on a PKCS#11 token: the modules are
 * loaded on first use (those registered with p11-kit, or --pkcs11-module)
 * and loaded again on "look again", so a token inserted meanwhile shows.
 * Listing logs in nowhere: a recovery lists the keys the tokens show without
 * a PIN (certificates and public keys), each with the share it opens; a key
 * ceremony lists the tokens.
 */

static int tokens_reopen(struct wiz *w)
{
	cer_tokens_close(w->tokens);
	w->tokens = NULL;
	return cer_tokens_open(w->pkcs11_module, &w->tokens);
}

static void add_entry(struct ui_wiz_token_pick *p, const char *uri, unsigned share, const char *cn,
                      const char *detail, const char *fmt, ...) CER_PRINTF(6, 7);

static void add_entry(struct ui_wiz_token_pick *p, const char *uri, unsigned share, const char *cn,
                      const char *detail, const char *fmt, ...)
{
	va_list ap;

	if (p->n == WIZ_PICK_MAX)
		return;
	snprintf(p->uri[p->n], sizeof p->uri[0], "%s", uri);
	snprintf(p->cn[p->n], sizeof p->cn[0], "%s", cn);
	snprintf(p->detail[p->n], sizeof p->detail[0], "%s", detail);
	p->share[p->n] = share;
	va_start(ap, fmt);
	vsnprintf(p->line[p->n], sizeof p->line[0], fmt, ap);
	va_end(ap);
	p->n++;
}

/* "token 'alice' (serial ...), key 'sd-wrap', RSA-2048, id 4651202badfaf2c6..." */
static void key_detail(const char *token, const struct cer_token_list_key *k, char *out, size_t cap)
{
	char bits[24] = "";

	if (k->bits > 0)
		snprintf(bits, sizeof bits, ", RSA-%u", k->bits);
	snprintf(out, cap, "%s, key '%s'%s, id %.16s%s", token, k->label, bits,
	         k->id_hex[0] ? k->id_hex : "none", strlen(k->id_hex) > 16 ? "..." : "");
}

static void list_keys(struct ui_wiz_token_pick *p, struct cer_tokens *t, const struct cer_sd *sd)
{
	struct cer_token_list *l = NULL;
	size_t i, j, nk;
	int ret = cer_token_list_scan(t, sd, &l);

	if (ret != CER_OK) {
		snprintf(p->error, sizeof p->error, "%s", cer_errmsg());
		return;
	}
	nk = cer_token_list_key_count(l);
	for (i = 0; i < cer_tokens_count(t); i++) {
		const struct cer_token_info *info = cer_tokens_info(t, i);
		char name[CER_TOKEN_NAME_LEN], uri[WIZ_URI_MAX], detail[240];
		bool any = false;

		cer_token_name(info, name);
		for (j = 0; j < nk; j++) {
			struct cer_token_list_key k;

			cer_token_list_key(l, j, &k);
			if (k.token != i)
				continue;
			any = true;
			key_detail(name, &k, detail, sizeof detail);
			if (k.share > 0)
				add_entry(p, k.uri, k.share, k.subject_cn, detail,
				          "certificate %s: share %u", k.subject_cn, k.share);
			else if (k.subject_cn[0] != '\0')
				add_entry(p, k.uri, 0, k.subject_cn, detail,
				          "certificate %s: no share in this file", k.subject_cn);
			else
				add_entry(p, k.uri, 0, k.subject_cn, detail, "%s",
				          "a key whose certificate is not on the token");
		}
		if (!any) {
			cer_token_uri_for(info, NULL, uri, sizeof uri);
			add_entry(p, uri, 0, "", "", "%s: its keys show once the PIN is given",
			          name);
		}
	}
	cer_token_list_free(l);
}

static void list_tokens(struct ui_wiz_token_pick *p, struct cer_tokens *t)
{
	size_t i;

	for (i = 0; i < cer_tokens_count(t); i++) {
		const struct cer_token_info *info = cer_tokens_info(t, i);
		char name[CER_TOKEN_NAME_LEN], uri[WIZ_URI_MAX], detail[240];

		cer_token_name(info, name);
		cer_token_uri_for(info, NULL, uri, sizeof uri);
		snprintf(detail, sizeof detail, "%s %s", info->manufacturer, info->model);
		add_entry(p, uri, 0, "", detail, "%s", name);
	}
}

void ui_wiz_token_scan(struct wiz *w, struct ui_wiz_token_pick *p, const struct cer_sd *sd)
{
	int ret;

	p->n = 0;
	p->error[0] = '\0';
	p->menu = (struct ui_wiz_menu){0};
	ui_wiz_busy(w, "Looking for tokens...");
	ret = tokens_reopen(w);
	if (ret != CER_OK) {
		snprintf(p->error, sizeof p->error, "%s", cer_errmsg());
		return;
	}
	if (p->keys)
		list_keys(p, w->tokens, sd);
	else
		list_tokens(p, w->tokens);
	p->menu.n = (int)p->n;
}

const struct cer_token_info *ui_wiz_token_info(const struct wiz *w, const char *uri)
{
	size_t i;

	for (i = 0; w->tokens != NULL && i < cer_tokens_count(w->tokens); i++) {
		const struct cer_token_info *info = cer_tokens_info(w->tokens, i);
		char mine[640];

		cer_token_uri_for(info, NULL, mine, sizeof mine);
		if (strncmp(uri, mine, strlen(mine)) == 0 &&
		    (uri[strlen(mine)] == '\0' || uri[strlen(mine)] == ';'))
			return info;
	}
	return NULL;
}

enum ui_wiz_pin_way ui_wiz_token_pin_way(const struct wiz *w, const char *uri,
                                         struct ui_wiz_note *note)
{
	const struct cer_token_info *info = ui_wiz_token_info(w, uri);
	char name[CER_TOKEN_NAME_LEN];

	if (info == NULL)
		return WIZ_PIN_ASK;
	if (info->pin_locked) {
		cer_token_name(info, name);
		ui_wiz_note_set(note, WC_FAIL,
		                "[FAIL] %s: the user PIN is locked. Its security officer must "
		                "unlock it; choose another key.",
		                name);
		return WIZ_PIN_LOCKED;
	}
	return !info->login_required || info->pin_pad ? WIZ_PIN_NONE : WIZ_PIN_ASK;
}

int ui_wiz_pin_prompt_draw(struct wiz *w, const char *uri, int y)
{
	const struct cer_token_info *info = ui_wiz_token_info(w, uri);
	const char *warning = info != NULL ? cer_token_pin_warning(info) : NULL;
	char name[CER_TOKEN_NAME_LEN] = "the token";

	if (info != NULL)
		cer_token_name(info, name);
	if (warning != NULL)
		y = ui_wiz_print(w, y, 2, WC_WARN, "WARNING: %s: %s", name, warning);
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Type the user PIN of %s.", name);
	return ui_wiz_print(w, y, 2, WC_NORMAL,
	                    "Then press Enter. Nothing is shown while you type.") +
	       1;
}

int ui_wiz_token_pick_draw(struct wiz *w, const struct ui_wiz_token_pick *p, int y)
{
	int rows = (ui_wiz_bottom(w) - 2 - y) / 2;
	size_t i, first = 0;

	if (p->error[0] != '\0')
		return ui_wiz_wrap(w, y, 2, WC_FAIL, p->error);
	if (p->n == 0)
		return ui_wiz_wrap(w, y, 2, WC_WARN,
		                   "No token is present. Insert the token (or plug in its reader) "
		                   "and press r to look again.");
	if (rows < 1)
		rows = 1;
	if (p->menu.sel >= rows)
		first = (size_t)(p->menu.sel - rows + 1);
	for (i = first; i < p->n && i < first + (size_t)rows; i++) {
		bool sel = (int)i == p->menu.sel;

		y = ui_wiz_print(w, y, 2, sel ? WC_FOCUS : WC_NORMAL, "%s %zu. %s", sel ? ">" : " ",
		                 i + 1, p->line[i]);
		y = ui_wiz_print(w, y, 7, WC_DIM, "%s", p->detail[i]);
	}
	return y;
}

int ui_wiz_token_pick_key(struct wiz *w, struct ui_wiz_token_pick *p, const struct cer_sd *sd,
                          int ch)
{
	if (ch == 'r' || ch == 'R') {
		ui_wiz_token_scan(w, p, sd);
		return -1;
	}
	if (p->n == 0)
		return -1;
	return ui_wiz_menu_key(&p->menu, ch);
}

void ui_wiz_token_close(struct wiz *w)
{
	cer_tokens_close(w->tokens);
	w->tokens = NULL;
}
