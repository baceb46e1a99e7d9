#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/recovery.h"
#include "ceremony/token.h"
#include "ui/wiz.h"

/*
 * The custodian's turn over a recovery session (drill, recovery, rekey):
 * TURN_HANDOVER (no text field; names the certificates the file holds
 * shares for and which are in), TURN_KEY (the key file only), TURN_PASS
 * (the passphrase alone on its screen).  No dialog opens on TURN_KEY or
 * TURN_PASS, and Esc from TURN_PASS leads to a guarded hand-over screen that
 * takes nothing but Enter, so a passphrase typed on after a slip goes nowhere.
 * A key file refused (or Enter on an empty one) likewise leaves the key
 * prompt taking nothing but Enter until the custodian has read why: a
 * passphrase typed ahead, before its prompt came, never lands in the visible
 * key-file field.  A key on a token: TURN_TOKEN lists the keys the tokens
 * present show without a PIN, each with the share it opens; TURN_PIN asks
 * the token's PIN alone on its screen, with what the token says about the
 * tries left, and is guarded as TURN_PASS is.
 */
enum { TURN_HANDOVER, TURN_KEY, TURN_PASS, TURN_TOKEN, TURN_PIN };

int ui_wiz_turn_init(struct ui_wiz_turn *t)
{
	memset(t, 0, sizeof *t);
	if (ui_wiz_field_init(&t->f_key, "Your key file", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&t->f_pass, "Your passphrase", WF_SECRET) != CER_OK ||
	    ui_wiz_field_init(&t->f_pin, "Token PIN", WF_SECRET) != CER_OK)
		return CER_EINTERNAL;
	ui_wiz_form_add(&t->key_form, &t->f_key);
	ui_wiz_form_add(&t->pass_form, &t->f_pass);
	ui_wiz_form_add(&t->pin_form, &t->f_pin);
	t->pick.keys = true;
	return CER_OK;
}

void ui_wiz_turn_begin(struct ui_wiz_turn *t, struct cer_recovery *rec)
{
	t->rec = rec;
	t->step = TURN_HANDOVER;
	t->guard = false;
	ui_wiz_note_clear(&t->note);
	ui_wiz_field_wipe(&t->f_key);
	ui_wiz_field_wipe(&t->f_pass);
	ui_wiz_field_wipe(&t->f_pin);
}

void ui_wiz_turn_wipe(struct ui_wiz_turn *t)
{
	ui_wiz_field_wipe(&t->f_key);
	ui_wiz_field_wipe(&t->f_pass);
	ui_wiz_field_wipe(&t->f_pin);
	t->rec = NULL;
}

void ui_wiz_turn_free(struct ui_wiz_turn *t)
{
	ui_wiz_field_free(&t->f_key);
	ui_wiz_field_free(&t->f_pass);
	ui_wiz_field_free(&t->f_pin);
	t->rec = NULL;
}

/* ---- drawing ---- */

static int draw_keys(struct wiz *w, const struct ui_wiz_turn *t, int y, int last)
{
	size_t i, n = cer_recovery_key_count(t->rec);
	size_t first = n > (size_t)(last - y) ? n - (size_t)(last - y) : 0;

	for (i = first; i < n && y < last; i++) {
		struct cer_recovery_key k;

		cer_recovery_key(t->rec, i, &k);
		if (k.outcome == CER_SHARE_GOOD)
			y = ui_wiz_print(w, y, 4, WC_OK, "[OK]    %s", k.key_path);
		else
			y = ui_wiz_print(w, y, 4, k.superseded ? WC_DIM : WC_FAIL, "%s %s: %s",
			                 k.superseded ? "[RETRY]" : "[FAIL] ", k.key_path,
			                 cer_share_outcome_text(k.outcome));
	}
	return y;
}

/* "alice" or, for a share whose certificate is not known yet, its x5t_256. */
static void share_label(const struct ui_wiz_turn *t, size_t i, char *out, size_t size)
{
	struct cer_recovery_share sh;

	cer_recovery_share(t->rec, i, &sh);
	if (sh.name[0] != '\0')
		snprintf(out, size, "%s", sh.name);
	else
		snprintf(out, size, "certificate x5t_256 %s", sh.x5t_256);
}

static int draw_progress(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	unsigned good = cer_recovery_good(t->rec), need = cer_recovery_required(t->rec);

	y = ui_wiz_print(w, y, 2, WC_NORMAL, "%s", t->heading);
	if (cer_recovery_ready(t->rec))
		return ui_wiz_print(w, y, 2, WC_OK,
		                    "[OK] %u shares in, %u required: quorum reached", good, need);
	return ui_wiz_print(w, y, 2, WC_NORMAL, "Shares in: %u of the %u required", good, need);
}

/* One line per certificate the file holds shares for (version 1 files hold
 * each twice), saying whether its share is in. */
static int draw_shares(struct wiz *w, const struct ui_wiz_turn *t, int y, int last)
{
	size_t i, j, n = cer_recovery_share_count(t->rec);

	y = ui_wiz_print(w, y, 2, WC_NORMAL, "The file holds shares for:");
	for (i = 0; i < n && y < last; i++) {
		struct cer_recovery_share sh, other;
		char label[160];
		bool seen = false, in;

		cer_recovery_share(t->rec, i, &sh);
		in = sh.in;
		for (j = 0; j < i && !seen; j++) {
			cer_recovery_share(t->rec, j, &other);
			seen = strcmp(other.x5t_256, sh.x5t_256) == 0;
		}
		if (seen)
			continue;
		for (j = i + 1; j < n; j++) {
			cer_recovery_share(t->rec, j, &other);
			if (strcmp(other.x5t_256, sh.x5t_256) == 0)
				in = in || other.in;
		}
		share_label(t, i, label, sizeof label);
		y = ui_wiz_print(w, y, 4, in ? WC_OK : WC_NORMAL, "%-8s %s", in ? "[in]" : "",
		                 label);
	}
	return y;
}

static bool go_on_ready(const struct ui_wiz_turn *t)
{
	return t->go_on != NULL && cer_recovery_ready(t->rec);
}

static void draw_handover(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	char help[160];
	int last = ui_wiz_bottom(w);

	if (t->guard) {
		ui_wiz_help(w, "Enter: go on");
		y = draw_progress(w, t, y) + 1;
		ui_wiz_wrap(
		        w, y, 2, WC_WARN,
		        "The passphrase typed so far was wiped, and keys typed now are ignored. "
		        "Press Enter to go on.");
		return;
	}
	if (go_on_ready(t))
		snprintf(help, sizeof help,
		         "Enter: %s   k: another custodian   F2: one with a token   Esc: abandon",
		         t->go_on);
	else if (t->allow_finish && cer_recovery_good(t->rec) > 0)
		snprintf(
		        help, sizeof help,
		        "Enter: key file   F2: key on a token   f: check with the shares in   Esc: "
		        "abandon");
	else
		snprintf(help, sizeof help,
		         "Enter: next custodian, key file   F2: key on a token   Esc: abandon");
	ui_wiz_help(w, help);
	y = draw_progress(w, t, y) + 1;
	y = draw_shares(w, t, y, last - 6) + 1;
	y = ui_wiz_note_draw(w, &t->note, y);
	if (go_on_ready(t))
		y = ui_wiz_print(w, y, 2, WC_NORMAL, "Press Enter: %s.", t->go_on);
	else
		y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
		                "Next custodian, please come to the keyboard and press Enter. "
		                "Everyone else, look away while the passphrase is typed.");
	if (cer_recovery_key_count(t->rec) > 0 && y + 1 < last) {
		y = ui_wiz_print(w, y + 1, 2, WC_NORMAL, "Keys presented:");
		draw_keys(w, t, y, last);
	}
}

static void draw_key(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	if (t->guard) {
		ui_wiz_help(w, "Enter: type the key file's path again");
		y = draw_progress(w, t, y) + 1;
		y = ui_wiz_note_draw(w, &t->note, y) + 1;
		ui_wiz_wrap(w, y, 2, WC_WARN,
		            "Keys typed now are ignored. Press Enter to type the key file's path "
		            "again.");
		return;
	}
	ui_wiz_help(w, "Enter: check the key   Tab: complete the path   Esc: back");
	y = draw_progress(w, t, y) + 1;
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Your key file: type its path (Tab completes). It is checked against "
	                "the file's shares before any passphrase is asked.") +
	    1;
	y = ui_wiz_form_draw(w, &t->key_form, y) + 1;
	ui_wiz_note_draw(w, &t->note, y);
}

static void draw_pass(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	char label[160];

	ui_wiz_help(w, "Enter: unlock   Esc: back (what you typed is wiped)");
	if (t->share >= 0) {
		share_label(t, (size_t)t->share, label, sizeof label);
		y = ui_wiz_print(w, y, 2, WC_NORMAL, "Custodian: %s", label);
	} else {
		y = ui_wiz_print(w, y, 2, WC_NORMAL, "Custodian with key %s", t->key);
	}
	y = ui_wiz_print(w, y, 2, WC_DIM, "Key file: %s", t->key) + 1;
	y = ui_wiz_wrap(
	            w, y, 2, WC_NORMAL,
	            "Type your passphrase, then press Enter. Nothing is shown while you type.") +
	    1;
	y = ui_wiz_form_draw(w, &t->pass_form, y) + 1;
	ui_wiz_note_draw(w, &t->note, y);
}

static void draw_token(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	ui_wiz_help(w, t->pick.n > 0 ? "Enter/digit: use this key   r: look again   Esc: back"
	                             : "r: look again   Esc: back");
	y = draw_progress(w, t, y) + 1;
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Your key on a token: choose it. The PIN is asked next, on its own "
	                "screen.") +
	    1;
	y = ui_wiz_token_pick_draw(w, &t->pick, y) + 1;
	ui_wiz_note_draw(w, &t->note, y);
}

static void draw_pin(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	ui_wiz_help(w, "Enter: unlock   Esc: back (what you typed is wiped)");
	if (t->token_cn[0] != '\0')
		y = ui_wiz_print(w, y, 2, WC_NORMAL, "Custodian: %s (certificate on the token)",
		                 t->token_cn);
	y = ui_wiz_print(w, y, 2, WC_DIM, "Key: %s", t->key) + 1;
	y = ui_wiz_pin_prompt_draw(w, t->key, y);
	y = ui_wiz_form_draw(w, &t->pin_form, y) + 1;
	ui_wiz_note_draw(w, &t->note, y);
}

void ui_wiz_turn_draw(struct wiz *w, const struct ui_wiz_turn *t, int y)
{
	switch (t->step) {
	case TURN_HANDOVER: draw_handover(w, t, y); break;
	case TURN_KEY: draw_key(w, t, y); break;
	case TURN_PASS: draw_pass(w, t, y); break;
	case TURN_TOKEN: draw_token(w, t, y); break;
	case TURN_PIN: draw_pin(w, t, y); break;
	}
}

/* ---- keys ---- */

static enum ui_wiz_turn_event share_in(struct wiz *w, struct ui_wiz_turn *t)
{
	ui_wiz_recovery_recorded(w, t->rec);
	ui_wiz_note_set(&t->note, WC_OK, "[OK] the share of %s is in: %u of the %u required.",
	                t->key, cer_recovery_good(t->rec), cer_recovery_required(t->rec));
	ui_wiz_field_wipe(&t->f_key);
	t->step = TURN_HANDOVER;
	return WIZ_TURN_SHARE_IN;
}

/* A refusal at the key prompt: drop what was typed ahead and take only
 * Enter until the custodian has read the note. */
static void key_guard(struct ui_wiz_turn *t)
{
	flushinp();
	t->guard = true;
}

static enum ui_wiz_turn_event failed(struct wiz *w, struct ui_wiz_turn *t,
                                     enum cer_share_outcome outcome)
{
	ui_wiz_recovery_recorded(w, t->rec);
	if (outcome == CER_SHARE_EXCHANGE_KEY) {
		t->step = TURN_HANDOVER;
		return WIZ_TURN_EXCHANGE;
	}
	ui_wiz_note_set(&t->note, WC_FAIL, "[FAIL] %s", cer_errmsg());
	if (t->step == TURN_KEY)
		key_guard(t);
	return WIZ_TURN_NONE;
}

/* TURN_KEY: an unencrypted key is used at once; for an encrypted one the
 * certificate beside it names its share before the passphrase is asked. */
static enum ui_wiz_turn_event submit_key(struct wiz *w, struct ui_wiz_turn *t)
{
	enum cer_share_outcome outcome = CER_SHARE_GOOD;
	int ret;

	if (ui_wiz_field_value(&t->f_key)[0] == '\0') {
		ui_wiz_note_set(&t->note, WC_NORMAL,
		                "Type the path of your key file first (Tab completes).");
		key_guard(t);
		return WIZ_TURN_NONE;
	}
	snprintf(t->key, sizeof t->key, "%s", ui_wiz_field_value(&t->f_key));
	ret = cer_recovery_add_key(t->rec, t->key, NULL, t->certs_dir, &outcome);
	if (ret == CER_OK)
		return share_in(w, t);
	if (outcome == CER_SHARE_NEEDS_PASSWORD)
		ret = cer_recovery_precheck(t->rec, t->key, &t->share, &outcome);
	if (ret != CER_OK)
		return failed(w, t, outcome);
	ui_wiz_note_clear(&t->note);
	ui_wiz_field_wipe(&t->f_pass);
	t->step = TURN_PASS;
	return WIZ_TURN_NONE;
}

/* TURN_PASS: whatever happens, the passphrase is wiped and the keys typed
 * meanwhile are dropped. */
static enum ui_wiz_turn_event submit_pass(struct wiz *w, struct ui_wiz_turn *t)
{
	enum cer_share_outcome outcome = CER_SHARE_GOOD;
	enum ui_wiz_turn_event ev;
	int ret;

	if (ui_wiz_field_value(&t->f_pass)[0] == '\0') {
		ui_wiz_note_set(&t->note, WC_NORMAL, "Type your passphrase first.");
		return WIZ_TURN_NONE;
	}
	ui_wiz_busy(w, "Unlocking the key and its share...");
	ret = cer_recovery_add_key(t->rec, t->key, ui_wiz_field_value(&t->f_pass), t->certs_dir,
	                           &outcome);
	ui_wiz_field_wipe(&t->f_pass);
	flushinp();
	if (ret == CER_OK)
		return share_in(w, t);
	ev = failed(w, t, outcome);
	if (outcome == CER_SHARE_WRONG_PASSWORD)
		ui_wiz_note_set(&t->note, WC_FAIL,
		                "[FAIL] That passphrase does not open %s. Type it "
		                "again, or press Esc to choose another key.",
		                t->key);
	else
		t->step = TURN_HANDOVER;
	return ev;
}

/* A token key, with pin (NULL on a PIN-pad token, or one that needs no login). */
static enum ui_wiz_turn_event add_token(struct wiz *w, struct ui_wiz_turn *t, const char *pin)
{
	enum cer_share_outcome outcome = CER_SHARE_GOOD;
	struct cer_token_info info;
	enum ui_wiz_turn_event ev;
	int ret;

	ui_wiz_busy(w, pin != NULL ? "Logging in to the token and unwrapping the share..."
	                           : "Unwrapping the share on the token (type the PIN on the "
	                             "token's PIN pad if it asks)...");
	ret = cer_recovery_add_token(t->rec, w->tokens, t->key, pin, t->certs_dir, NULL, &info,
	                             &outcome);
	ui_wiz_field_wipe(&t->f_pin);
	flushinp();
	if (ret == CER_OK)
		return share_in(w, t);
	ev = failed(w, t, outcome);
	if (outcome == CER_SHARE_WRONG_PASSWORD && !info.pin_locked) {
		ui_wiz_note_set(&t->note, WC_FAIL,
		                "[FAIL] That PIN does not open the token. Type it again, or press "
		                "Esc to choose another key.");
		t->step = TURN_PIN;
	} else {
		t->step = TURN_HANDOVER;
	}
	return ev;
}

/* TURN_TOKEN: the key chosen; its PIN comes next, unless the token has a
 * PIN pad or needs no login. */
static enum ui_wiz_turn_event token_chosen(struct wiz *w, struct ui_wiz_turn *t, int i)
{
	snprintf(t->key, sizeof t->key, "%s", t->pick.uri[i]);
	snprintf(t->token_cn, sizeof t->token_cn, "%s", t->pick.cn[i]);
	ui_wiz_note_clear(&t->note);
	switch (ui_wiz_token_pin_way(w, t->key, &t->note)) {
	case WIZ_PIN_LOCKED: return WIZ_TURN_NONE;
	case WIZ_PIN_NONE: return add_token(w, t, NULL);
	case WIZ_PIN_ASK: break;
	}
	ui_wiz_field_wipe(&t->f_pin);
	flushinp();
	t->step = TURN_PIN;
	return WIZ_TURN_NONE;
}

static enum ui_wiz_turn_event submit_pin(struct wiz *w, struct ui_wiz_turn *t)
{
	if (ui_wiz_field_value(&t->f_pin)[0] == '\0') {
		ui_wiz_note_set(&t->note, WC_NORMAL, "Type the token's PIN first.");
		return WIZ_TURN_NONE;
	}
	return add_token(w, t, ui_wiz_field_value(&t->f_pin));
}

static void to_tokens(struct wiz *w, struct ui_wiz_turn *t)
{
	ui_wiz_note_clear(&t->note);
	ui_wiz_token_scan(w, &t->pick, cer_recovery_sd(t->rec));
	t->step = TURN_TOKEN;
}

/* Esc from a secret prompt: wiped, typeahead dropped, and the hand-over
 * screen takes only Enter. */
static void secret_escape(struct ui_wiz_turn *t)
{
	ui_wiz_field_wipe(&t->f_pass);
	ui_wiz_field_wipe(&t->f_pin);
	flushinp();
	ui_wiz_note_clear(&t->note);
	t->guard = true;
	t->step = TURN_HANDOVER;
}

static enum ui_wiz_turn_event handover_key(struct wiz *w, struct ui_wiz_turn *t, int ch)
{
	if (t->guard) {
		t->guard = !ui_wiz_is_enter(ch);
		return WIZ_TURN_NONE;
	}
	if (ch == WIZ_KEY_ESC)
		return WIZ_TURN_ABANDON;
	if (t->allow_finish && (ch == 'f' || ch == 'F') && cer_recovery_good(t->rec) > 0)
		return WIZ_TURN_FINISH;
	if (go_on_ready(t) && ui_wiz_is_enter(ch))
		return WIZ_TURN_GO_ON;
	if (ui_wiz_is_token_key(ch)) {
		to_tokens(w, t);
		return WIZ_TURN_NONE;
	}
	if (ui_wiz_is_enter(ch) || (go_on_ready(t) && (ch == 'k' || ch == 'K'))) {
		ui_wiz_note_clear(&t->note);
		t->step = TURN_KEY;
	}
	return WIZ_TURN_NONE;
}

enum ui_wiz_turn_event ui_wiz_turn_key(struct wiz *w, struct ui_wiz_turn *t, int ch)
{
	switch (t->step) {
	case TURN_HANDOVER: return handover_key(w, t, ch);
	case TURN_KEY:
		if (t->guard) {
			t->guard = !ui_wiz_is_enter(ch);
		} else if (ch == WIZ_KEY_ESC) {
			ui_wiz_note_clear(&t->note);
			t->step = TURN_HANDOVER;
		} else if (ui_wiz_form_key(&t->key_form, ch) == WIZ_FORM_SUBMIT) {
			return submit_key(w, t);
		}
		return WIZ_TURN_NONE;
	case TURN_PASS:
		if (ch == WIZ_KEY_ESC)
			secret_escape(t);
		else if (ui_wiz_is_enter(ch))
			return submit_pass(w, t);
		else
			ui_wiz_field_key(&t->f_pass, ch);
		return WIZ_TURN_NONE;
	case TURN_TOKEN: {
		int i;

		if (ch == WIZ_KEY_ESC) {
			ui_wiz_note_clear(&t->note);
			t->step = TURN_HANDOVER;
			return WIZ_TURN_NONE;
		}
		i = ui_wiz_token_pick_key(w, &t->pick, cer_recovery_sd(t->rec), ch);
		return i >= 0 ? token_chosen(w, t, i) : WIZ_TURN_NONE;
	}
	case TURN_PIN:
		if (ch == WIZ_KEY_ESC)
			secret_escape(t);
		else if (ui_wiz_is_enter(ch))
			return submit_pin(w, t);
		else
			ui_wiz_field_key(&t->f_pin, ch);
		return WIZ_TURN_NONE;
	}
	return WIZ_TURN_NONE;
}
