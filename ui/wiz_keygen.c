#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/io.h"
#include "ceremony/keygen.h"
#include "ceremony/token.h"
#include "ceremony/token_keygen.h"
#include "ui/wiz.h"

/*
 * Each custodian's turn: P_HANDOVER (no text field; keys typed there are
 * ignored), P_KEYPATH (where the key goes, checked at once), then P_PASS1
 * and P_PASS2, each passphrase prompt alone on its screen.  No dialog opens
 * during a turn, and Esc from a passphrase prompt goes back to P_HANDOVER,
 * never to a visible field.  Going back keeps what later custodians set.
 * A custodian whose key goes on a token picks it instead (P_TOKEN), and
 * types its PIN alone on its screen (P_PIN), checked at once by a login.
 */
enum phase {
	P_PARAMS,
	P_HANDOVER,
	P_KEYPATH,
	P_PASS1,
	P_PASS2,
	P_TOKEN,
	P_PIN,
	P_CONFIRM,
	P_RUN,
	P_SUMMARY
};

static const char *const bit_choices[] = {"2048", "3072", "4096"};

static enum phase phase;
static struct ui_wiz_field f_count, f_quorum, f_bits, f_days, f_dir, f_names;
static struct ui_wiz_field f_pass, f_again, f_keypath, f_pin;
static struct ui_wiz_form params_form, path_form, pass1_form, pass2_form, pin_form;
static struct cer_keygen_params params;
static char names[CER_KEYGEN_MAX_KEYS][CER_NAME_MAX + 1];
static char key_paths[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX];
static char *passes[CER_KEYGEN_MAX_KEYS];
static char token_uris[CER_KEYGEN_MAX_KEYS][WIZ_URI_MAX]; /* "" for a key file */
static char *pins[CER_KEYGEN_MAX_KEYS];                   /* NULL on a PIN-pad token */
static bool turn_done[CER_KEYGEN_MAX_KEYS];
static struct ui_wiz_token_pick pick;
static char picked[WIZ_URI_MAX]; /* the token chosen, until its PIN is checked */
static char *pending;            /* the first typing of the passphrase, until it is typed again */
static bool guard;               /* P_HANDOVER after Esc from a passphrase prompt, P_KEYPATH after a
                                  * refusal: only Enter is taken */
static struct ui_wiz_note note;
static char dir[CER_KG_PATH_MAX];
static unsigned current;
static unsigned prog_done, prog_total;
static char prog_what[128];
static struct cer_keygen_result *result;
static struct ui_wiz_text summary;
static struct ui_wiz_keygen_call *call; /* run for another flow (rekey), or NULL */

static void wipe_passes(void)
{
	unsigned i;

	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		cer_secret_free(passes[i]);
		passes[i] = NULL;
		params.custodians[i].passphrase = NULL;
		cer_secret_free(pins[i]);
		pins[i] = NULL;
		params.custodians[i].pin = NULL;
		turn_done[i] = false;
	}
	cer_secret_free(pending);
	pending = NULL;
}

static void keygen_init(struct wiz *w)
{
	call = w->keygen_call;
	phase = P_PARAMS;
	guard = false;
	params_form = (struct ui_wiz_form){0};
	path_form = pass1_form = pass2_form = pin_form = (struct ui_wiz_form){0};
	ui_wiz_note_clear(&note);
	if (ui_wiz_field_init(&f_count,
	                      "Number of custodians (" CER_XSTR(CER_KEYGEN_MIN_KEYS) "-" CER_XSTR(
	                              CER_KEYGEN_MAX_KEYS) ")",
	                      WF_NUMBER) != CER_OK ||
	    ui_wiz_field_init(&f_quorum, "Quorum (2-N)", WF_NUMBER) != CER_OK ||
	    ui_wiz_field_init(&f_bits, "RSA key size", WF_CHOICE) != CER_OK ||
	    ui_wiz_field_init(&f_days, "Validity in days", WF_NUMBER) != CER_OK ||
	    ui_wiz_field_init(&f_dir, "Output directory", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_names, "Names (comma separated)", WF_TEXT) != CER_OK ||
	    ui_wiz_field_init(&f_pass, "Passphrase", WF_SECRET) != CER_OK ||
	    ui_wiz_field_init(&f_again, "Passphrase again", WF_SECRET) != CER_OK ||
	    ui_wiz_field_init(&f_keypath, "Write your key to", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_pin, "Token PIN", WF_SECRET) != CER_OK) {
		ui_wiz_error_status(w, CER_EINTERNAL);
		return;
	}
	ui_wiz_field_set(&f_count, "3");
	ui_wiz_field_set(&f_quorum, "2");
	f_bits.choices = bit_choices;
	f_bits.nchoices = 3;
	f_bits.choice = 1;
	ui_wiz_field_set(&f_days, CER_XSTR(CER_KEYGEN_DEFAULT_DAYS));
	ui_wiz_field_set(&f_dir, call != NULL && call->dir != NULL ? call->dir : "ceremony");
	ui_wiz_form_add(&params_form, &f_count);
	ui_wiz_form_add(&params_form, &f_quorum);
	ui_wiz_form_add(&params_form, &f_bits);
	ui_wiz_form_add(&params_form, &f_days);
	ui_wiz_form_add(&params_form, &f_dir);
	ui_wiz_form_add(&params_form, &f_names);
	ui_wiz_form_add(&path_form, &f_keypath);
	ui_wiz_form_add(&pass1_form, &f_pass);
	ui_wiz_form_add(&pass2_form, &f_again);
	ui_wiz_form_add(&pin_form, &f_pin);
	pick = (struct ui_wiz_token_pick){.keys = false};
	cer_keygen_params_init(&params);
	memset(names, 0, sizeof names);
	memset(key_paths, 0, sizeof key_paths);
	memset(token_uris, 0, sizeof token_uris);
	ui_wiz_text_clear(&summary);
}

static void draw_params(struct wiz *w, int y)
{
	ui_wiz_help(w, call != NULL ? "Enter: next  Up/Down: field  Left/Right: key size  Tab: "
	                              "complete  Esc: back"
	                            : "Enter: next  Up/Down: field  Left/Right: key size  Tab: "
	                              "complete  Esc: menu");
	if (call != NULL && call->why != NULL)
		y = ui_wiz_wrap(w, y, 2, WC_WARN, call->why);
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Generate the custodians' RSA key pairs and certificates. Each custodian "
	                "then chooses where their private key goes (their own USB stick, never "
	                "the output directory) and types a passphrase. The output directory gets "
	                "only public files: certificates, download package, manifest.") +
	    1;
	y = ui_wiz_form_draw(w, &params_form, y) + 1;
	ui_wiz_wrap(w, y, 2, WC_DIM,
	            "Names are optional (default custodian-1..N). The service never checks "
	            "certificate expiry. RSA-3072 is the default; 4096 takes longer.");
}

static const char *custodian_name(unsigned i)
{
	static char def[CER_NAME_MAX + 1];

	cer_keygen_name(names[i], i, def);
	return def;
}

static int draw_turn_title(struct wiz *w, int y)
{
	return ui_wiz_print(w, y, 2, WC_NORMAL, "Custodian %u of %u: %s", current + 1, params.count,
	                    custodian_name(current)) +
	       1;
}

static void draw_handover(struct wiz *w, int y)
{
	y = draw_turn_title(w, y);
	if (guard) {
		ui_wiz_help(w, "Enter: go on");
		ui_wiz_wrap(
		        w, y, 2, WC_WARN,
		        "The passphrase typed so far was wiped, and keys typed now are ignored. "
		        "Press Enter to go on.");
		return;
	}
	if (turn_done[current]) {
		ui_wiz_help(w, "Enter: keep and go on   c: change   Esc: back");
		if (token_uris[current][0] != '\0')
			y = ui_wiz_print(w, y, 2, WC_OK, "[OK] key on the token %s, PIN checked.",
			                 token_uris[current]) +
			    1;
		else
			y = ui_wiz_print(w, y, 2, WC_OK, "[OK] key to %s, passphrase set.",
			                 key_paths[current]) +
			    1;
	} else {
		ui_wiz_help(w, "Enter: start (key in a file)   F2: key on a token   Esc: back");
		y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
		                "Please come to the keyboard and press Enter. Everyone else, look "
		                "away from the screen and the keyboard.") +
		    1;
	}
	ui_wiz_note_draw(w, &note, y);
}

static void draw_keypath(struct wiz *w, int y)
{
	if (guard) {
		ui_wiz_help(w, "Enter: type the key path again");
		y = draw_turn_title(w, y);
		y = ui_wiz_note_draw(w, &note, y) + 1;
		ui_wiz_wrap(w, y, 2, WC_WARN,
		            "Keys typed now are ignored. Press Enter to type the key path again.");
		return;
	}
	ui_wiz_help(w, "Enter: next   Tab: complete path   Ctrl-U: clear   Esc: back");
	y = draw_turn_title(w, y);
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Where does your private key go? Your own medium, e.g. /media/you/ (a "
	                "directory means cert_N.key in it). A copy of your certificate is "
	                "written beside it.") +
	    1;
	y = ui_wiz_form_draw(w, &path_form, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_pass(struct wiz *w, int y, bool again)
{
	ui_wiz_help(w, "Enter: next   Esc: back (what you typed is wiped)");
	y = draw_turn_title(w, y);
	y = ui_wiz_print(w, y, 2, WC_DIM, "Key file: %s", key_paths[current]) + 1;
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                again ? "Type the same passphrase again. Nothing is shown."
	                      : "Type a passphrase of at least " CER_XSTR(
	                                CER_PASSPHRASE_MIN) " characters, different from the "
	                                                    "other custodians'. Nothing is shown "
	                                                    "while you type.") +
	    1;
	y = ui_wiz_form_draw(w, again ? &pass2_form : &pass1_form, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_token(struct wiz *w, int y)
{
	ui_wiz_help(w, pick.n > 0 ? "Enter/digit: use this token   r: look again   Esc: back"
	                          : "r: look again   Esc: back");
	y = draw_turn_title(w, y);
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Your key pair is made on the token and never leaves it. Choose the "
	                "token; its PIN is asked next, on its own screen.") +
	    1;
	y = ui_wiz_token_pick_draw(w, &pick, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_pin(struct wiz *w, int y)
{
	ui_wiz_help(w, "Enter: check the PIN   Esc: back (what you typed is wiped)");
	y = draw_turn_title(w, y);
	y = ui_wiz_print(w, y, 2, WC_DIM, "Token: %s", picked) + 1;
	y = ui_wiz_pin_prompt_draw(w, picked, y);
	y = ui_wiz_form_draw(w, &pin_form, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_confirm(struct wiz *w, int y)
{
	unsigned i;

	ui_wiz_help(w, "Enter: generate   Esc: back to the last custodian");
	y = ui_wiz_print(w, y, 2, WC_NORMAL,
	                 "Ready to generate %u RSA-%u keys, quorum %u, valid %u "
	                 "days.",
	                 params.count, params.bits, params.quorum, params.days);
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Certificates and package: %s/", dir) + 1;
	for (i = 0; i < params.count; i++) {
		y = ui_wiz_print(w, y, 4, WC_NORMAL, "%2u. %-20.20s key -> %s", i + 1,
		                 custodian_name(i),
		                 token_uris[i][0] != '\0' ? token_uris[i] : key_paths[i]);
	}
	ui_wiz_print(w, y + 1, 2, WC_NORMAL, "Press Enter to generate.");
}

static void keygen_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	switch (phase) {
	case P_PARAMS: draw_params(w, y); break;
	case P_HANDOVER: draw_handover(w, y); break;
	case P_KEYPATH: draw_keypath(w, y); break;
	case P_PASS1: draw_pass(w, y, false); break;
	case P_PASS2: draw_pass(w, y, true); break;
	case P_TOKEN: draw_token(w, y); break;
	case P_PIN: draw_pin(w, y); break;
	case P_CONFIRM: draw_confirm(w, y); break;
	case P_RUN:
		ui_wiz_help(w, "Please wait   Ctrl-C: cancel");
		y = ui_wiz_print(w, y, 2, WC_NORMAL, "Generating %u RSA-%u keys...", params.count,
		                 params.bits) +
		    1;
		ui_wiz_progress_draw(w, y, prog_what, prog_done, prog_total);
		break;
	case P_SUMMARY:
		ui_wiz_help(w, call != NULL ? "Up/Down/PgDn: scroll   Enter/Esc: go back with the "
		                              "certificates"
		                            : "q: show the package as QR codes   Up/Down/PgDn: "
		                              "scroll   Enter/Esc: menu");
		ui_wiz_text_draw(w, &summary, y, ui_wiz_bottom(w) - 1);
		break;
	}
}

static bool parse_names(struct wiz *w)
{
	char msg[128];
	unsigned n = 0, i;
	int ret;

	memset(names, 0, sizeof names);
	ret = cer_keygen_split_names(ui_wiz_field_value(&f_names), names, CER_KEYGEN_MAX_KEYS, &n);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		return false;
	}
	if (n == 0)
		return true;
	if (n != params.count) {
		snprintf(msg, sizeof msg, "Give %u names (one per custodian), or none.",
		         params.count);
		ui_wiz_error(w, "The names do not fit", msg);
		return false;
	}
	for (i = 0; i < n; i++) {
		ret = cer_keygen_check_name(i, names[i]);
		if (ret != CER_OK) {
			ui_wiz_error_status(w, ret);
			return false;
		}
	}
	return true;
}

static void submit_params(struct wiz *w)
{
	long n = 0, q = 0, days = 0;
	int ret;

	if (!ui_wiz_field_number(&f_count, 0, 1000, &n) ||
	    !ui_wiz_field_number(&f_quorum, 0, 1000, &q)) {
		ui_wiz_error(w, "Numbers missing", "Type the number of custodians and the quorum.");
		return;
	}
	ret = cer_keygen_check_counts((unsigned)n, (unsigned)q);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		return;
	}
	if (!ui_wiz_field_number(&f_days, 1, CER_KEYGEN_MAX_DAYS, &days)) {
		ui_wiz_error(w, "Validity out of range",
		             "Validity is a number of days from 1 to " CER_XSTR(
		                     CER_KEYGEN_MAX_DAYS) ".");
		return;
	}
	if (ui_wiz_field_value(&f_dir)[0] == '\0') {
		ui_wiz_error(w, "Output directory missing", "Type where the certificates go.");
		return;
	}
	if (params.count != (unsigned)n) {
		wipe_passes();
		memset(key_paths, 0, sizeof key_paths);
		memset(token_uris, 0, sizeof token_uris);
	}
	params.count = (unsigned)n;
	params.quorum = (unsigned)q;
	params.days = (unsigned)days;
	params.bits = (unsigned)atoi(ui_wiz_field_value(&f_bits));
	snprintf(dir, sizeof dir, "%s", ui_wiz_field_value(&f_dir));
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	params.out_dir = dir;
	if (!parse_names(w))
		return;
	current = 0;
	ui_wiz_note_clear(&note);
	phase = P_HANDOVER;
}

static void set_key_paths(void)
{
	unsigned i;

	for (i = 0; i < params.count; i++)
		params.custodians[i].key_path = token_uris[i][0] != '\0' ? NULL : key_paths[i];
}

/* A refused key path: what was typed ahead (a passphrase, before its prompt
 * came) is dropped, and the prompt takes only Enter until the note is read. */
static void path_guard(void)
{
	flushinp();
	guard = true;
}

static void submit_keypath(void)
{
	const char *typed = ui_wiz_field_value(&f_keypath);
	char out[CER_KG_PATH_MAX];
	int ret;

	if (typed[0] == '\0') {
		ui_wiz_note_set(&note, WC_NORMAL,
		                "Type where your key goes (Tab completes). Keys never go in the "
		                "output directory %s, which goes to the online side.",
		                dir);
		path_guard();
		return;
	}
	set_key_paths();
	params.custodians[current].key_path = "";
	ret = cer_keygen_key_path(&params, current, typed, out);
	if (ret != CER_OK) {
		ui_wiz_note_set(&note, WC_FAIL, "[FAIL] %s", cer_errmsg());
		path_guard();
		return;
	}
	snprintf(key_paths[current], sizeof key_paths[0], "%s", out);
	ui_wiz_note_clear(&note);
	phase = P_PASS1;
}

static void submit_pass1(void)
{
	const char *pass = ui_wiz_field_value(&f_pass);
	int ret;

	if (pass[0] == '\0') {
		ui_wiz_note_set(&note, WC_NORMAL, "Type your passphrase first.");
		return;
	}
	ret = cer_passphrase_check(current, pass, (const char *const *)passes, params.count);
	if (ret == CER_OK) {
		cer_secret_free(pending);
		pending = cer_secret_strdup(pass);
		ret = pending != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
	}
	ui_wiz_field_wipe(&f_pass);
	flushinp();
	if (ret != CER_OK) {
		ui_wiz_note_set(&note, WC_FAIL, "[FAIL] %s. Type another one.", cer_errmsg());
		return;
	}
	ui_wiz_note_clear(&note);
	phase = P_PASS2;
}

static void next_custodian(void)
{
	ui_wiz_note_clear(&note);
	if (current + 1 == params.count) {
		phase = P_CONFIRM;
		return;
	}
	current++;
	phase = P_HANDOVER;
}

static void submit_pass2(void)
{
	bool same = cer_passphrase_equal(pending, ui_wiz_field_value(&f_again));

	ui_wiz_field_wipe(&f_again);
	flushinp();
	if (!same) {
		cer_secret_free(pending);
		pending = NULL;
		ui_wiz_note_set(&note, WC_FAIL,
		                "[FAIL] The two passphrases differ. Type it again, twice.");
		phase = P_PASS1;
		return;
	}
	passes[current] = pending;
	pending = NULL;
	token_uris[current][0] = '\0';
	turn_done[current] = true;
	next_custodian();
}

/* Esc during a turn: back to the hand-over screen, wiping what was typed;
 * from a passphrase prompt the screen then takes nothing but Enter. */
static void back_to_handover(void)
{
	guard = phase == P_PASS1 || phase == P_PASS2 || phase == P_PIN;
	flushinp();
	ui_wiz_field_wipe(&f_pass);
	ui_wiz_field_wipe(&f_again);
	ui_wiz_field_wipe(&f_pin);
	cer_secret_free(pending);
	pending = NULL;
	ui_wiz_note_clear(&note);
	phase = P_HANDOVER;
}

/* Forgets custodian i's choice (to choose again). */
static void forget_turn(unsigned i)
{
	cer_secret_free(passes[i]);
	passes[i] = NULL;
	cer_secret_free(pins[i]);
	pins[i] = NULL;
	token_uris[i][0] = '\0';
	turn_done[i] = false;
}

static void change_turn(void)
{
	forget_turn(current);
	ui_wiz_field_set(&f_keypath, key_paths[current]);
	ui_wiz_note_clear(&note);
	phase = P_KEYPATH;
}

static void to_tokens(struct wiz *w)
{
	ui_wiz_note_clear(&note);
	ui_wiz_token_scan(w, &pick, NULL);
	phase = P_TOKEN;
}

/* P_TOKEN: a token another custodian has is refused; otherwise its PIN is
 * asked (checked at once), or, on a PIN-pad token, checked now. */
static void token_chosen(struct wiz *w, int i);

static void pin_checked(struct wiz *w, char *pin)
{
	struct cer_token_info info;
	int ret;

	ui_wiz_busy(w, pin != NULL ? "Checking the PIN and the token..."
	                           : "Checking the token (type the PIN on its PIN pad if it "
	                             "asks)...");
	ret = cer_token_keygen_check(w->tokens, picked, pin, params.bits, &info);
	ui_wiz_field_wipe(&f_pin);
	flushinp();
	if (ret != CER_OK) {
		cer_secret_free(pin);
		ui_wiz_log(w, "key ceremony: custodian %u: [FAIL] %s", current + 1, cer_errmsg());
		if (ret == CER_EAUTH && !info.pin_locked) {
			ui_wiz_note_set(
			        &note, WC_FAIL,
			        "[FAIL] That PIN does not open the token. Type it again, or "
			        "press Esc.");
			phase = P_PIN;
		} else {
			ui_wiz_note_set(&note, WC_FAIL, "[FAIL] %s", cer_errmsg());
			phase = P_TOKEN;
		}
		return;
	}
	forget_turn(current);
	snprintf(token_uris[current], sizeof token_uris[0], "%s", picked);
	pins[current] = pin;
	turn_done[current] = true;
	ui_wiz_log(w, "key ceremony: custodian %u: key to be made on %s", current + 1, picked);
	next_custodian();
}

static void token_chosen(struct wiz *w, int i)
{
	unsigned j;

	snprintf(picked, sizeof picked, "%s", pick.uri[i]);
	for (j = 0; j < params.count; j++)
		if (j != current && strcmp(token_uris[j], picked) == 0) {
			ui_wiz_note_set(
			        &note, WC_FAIL,
			        "[FAIL] Custodian %u has this token already: each custodian "
			        "needs a token of their own.",
			        j + 1);
			return;
		}
	ui_wiz_note_clear(&note);
	switch (ui_wiz_token_pin_way(w, picked, &note)) {
	case WIZ_PIN_LOCKED: return;
	case WIZ_PIN_NONE: pin_checked(w, NULL); return;
	case WIZ_PIN_ASK: break;
	}
	ui_wiz_field_wipe(&f_pin);
	flushinp();
	phase = P_PIN;
}

static void submit_pin(struct wiz *w)
{
	char *pin;

	if (ui_wiz_field_value(&f_pin)[0] == '\0') {
		ui_wiz_note_set(&note, WC_NORMAL, "Type the token's PIN first.");
		return;
	}
	pin = cer_secret_strdup(ui_wiz_field_value(&f_pin));
	ui_wiz_field_wipe(&f_pin);
	if (pin == NULL) {
		ui_wiz_error_status(w, cer_fail(CER_EINTERNAL, "out of memory"));
		return;
	}
	pin_checked(w, pin);
}

static void handover_key(struct wiz *w, int ch)
{
	if (guard) {
		guard = !ui_wiz_is_enter(ch);
		return;
	}
	if (ch == WIZ_KEY_ESC) {
		ui_wiz_note_clear(&note);
		if (current == 0) {
			params_form.focus = 0;
			phase = P_PARAMS;
		} else {
			current--;
		}
	} else if (turn_done[current] && (ch == 'c' || ch == 'C')) {
		change_turn();
	} else if (!turn_done[current] && ui_wiz_is_token_key(ch)) {
		to_tokens(w);
	} else if (ui_wiz_is_enter(ch)) {
		if (turn_done[current]) {
			next_custodian();
			return;
		}
		ui_wiz_field_set(&f_keypath, key_paths[current]);
		phase = P_KEYPATH;
	}
}

static void on_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	snprintf(prog_what, sizeof prog_what, "%s", what);
	prog_done = done;
	prog_total = total;
	if (!ui_wiz_stopping())
		ui_wiz_redraw(ctx);
}

static void build_summary(struct wiz *w)
{
	unsigned i;

	ui_wiz_text_clear(&summary);
	ui_wiz_text_add(&summary, "[OK] %u keys generated, quorum %u", result->count,
	                result->quorum);
	if (call != NULL)
		ui_wiz_text_add(&summary, "Next: press Enter to go back; these certificates "
		                          "receive the new shares.");
	if (result->old_dir[0] != '\0')
		ui_wiz_text_add(&summary, "Old directory moved aside to %s", result->old_dir);
	for (i = 0; i < result->count; i++) {
		const struct cer_keygen_key *k = &result->keys[i];

		ui_wiz_text_add(&summary, "%u. %s (RSA-%u, valid to %s)", i + 1, k->name, k->bits,
		                k->not_after);
		ui_wiz_text_add(&summary, "   cert      %s", k->cert_path);
		if (k->token_uri[0] != '\0')
			ui_wiz_text_add(&summary, "   key       on the token %s", k->token_uri);
		else
			ui_wiz_text_add(&summary, "   key       %s%s", k->key_path,
			                k->encrypted ? "" : " (NOT encrypted)");
		ui_wiz_text_add(&summary, "   thumbprint (base64url) %s", k->thumb_b64url);
		ui_wiz_text_add(&summary, "   thumbprint (hex)       %s", k->thumb_hex);
	}
	ui_wiz_text_add(&summary, "Manifest:         %s", result->manifest_path);
	if (call != NULL) /* the download package is not for it: the domain exists */
		return;
	ui_wiz_text_add(&summary, "Download package: %s", result->request_path);
	ui_wiz_text_add(&summary, "Next, on the admin host (with the certificates):");
	ui_wiz_text_add_command(&summary, result->az_command,
	                        (size_t)(w->cols > 30 ? w->cols - 8 : 72));
}

/* A killed run's temporaries beside the outputs: removed only when the
 * operator says so, and recorded. */
static bool remove_stale(struct wiz *w)
{
	int ret;

	if (!ui_wiz_stale_confirm(w, "key ceremony"))
		return false;
	ret = cer_keygen_remove_stale(&params);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		return false;
	}
	return true;
}

static void generate(struct wiz *w)
{
	struct cer_progress progress = {on_step, NULL, w};
	unsigned i;
	int ret;

	set_key_paths();
	for (i = 0; i < params.count; i++) {
		params.custodians[i].name = names[i];
		params.custodians[i].passphrase = passes[i];
		params.custodians[i].token_uri = token_uris[i][0] != '\0' ? token_uris[i] : NULL;
		params.custodians[i].pin = pins[i];
	}
	params.tokens = w->tokens;
	params.force = false;
	ret = cer_keygen_check_params(&params);
	if (ret == CER_EIO && cer_errreason() != CER_REASON_STALE_TEMP && cer_path_exists(dir)) {
		char msg[2 * CER_KG_PATH_MAX + 160];

		snprintf(
		        msg, sizeof msg,
		        "The output directory %s exists and is not empty.\n\n"
		        "Move it aside (it is renamed to %s.old-<time>, nothing is deleted) and go "
		        "on?",
		        dir, dir);
		if (!ui_wiz_confirm(w, "WARNING: output directory in use", msg))
			return;
		params.force = true;
		ret = cer_keygen_check_params(&params);
	}
	if (ret == CER_EIO && cer_errreason() == CER_REASON_STALE_TEMP && !remove_stale(w))
		return;
	if (ret == CER_EIO && cer_errreason() == CER_REASON_STALE_TEMP)
		ret = cer_keygen_check_params(&params);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		return;
	}
	if (!ui_wiz_confirm(w, "Generate keys",
	                    "Generate the keys and write the private keys, certificates and "
	                    "package now?"))
		return;
	params.transcript = ui_wiz_transcript(w);
	if (params.transcript == NULL)
		return;
	phase = P_RUN;
	prog_done = 0;
	prog_total = params.count;
	snprintf(prog_what, sizeof prog_what, "generating keys");
	ui_wiz_redraw(w);
	params.cancel = ui_wiz_long_call_begin();
	ret = cer_keygen(&params, &progress, &result);
	ui_wiz_long_call_end();
	params.cancel = NULL;
	wipe_passes();
	if (ret != CER_OK && result != NULL) { /* the keys are written, their record is not */
		ui_wiz_transcript_lost(w);
		return;
	}
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		current = 0;
		phase = P_PARAMS;
		return;
	}
	if (call != NULL)
		ui_wiz_log(w,
		           "next step: back to the flow that called the key ceremony, with %u new "
		           "certificates in %s and quorum %u (the download package is not used)",
		           result->count, result->out_dir, result->quorum);
	build_summary(w);
	phase = P_SUMMARY;
}

static enum ui_wiz_state keygen_key(struct wiz *w, int ch)
{
	if (ch == ERR)
		return WIZ_KEYGEN;
	switch (phase) {
	case P_PARAMS:
		if (ch == WIZ_KEY_ESC)
			return call != NULL ? call->back : WIZ_MENU;
		if (ui_wiz_form_key(&params_form, ch) == WIZ_FORM_SUBMIT)
			submit_params(w);
		break;
	case P_HANDOVER: handover_key(w, ch); break;
	case P_TOKEN: {
		int i;

		if (ch == WIZ_KEY_ESC) {
			ui_wiz_note_clear(&note);
			phase = P_HANDOVER;
		} else if ((i = ui_wiz_token_pick_key(w, &pick, NULL, ch)) >= 0) {
			token_chosen(w, i);
		}
		break;
	}
	case P_PIN:
		if (ch == WIZ_KEY_ESC)
			back_to_handover();
		else if (ui_wiz_is_enter(ch))
			submit_pin(w);
		else
			ui_wiz_field_key(&f_pin, ch);
		break;
	case P_KEYPATH:
		if (guard)
			guard = !ui_wiz_is_enter(ch);
		else if (ch == WIZ_KEY_ESC)
			back_to_handover();
		else if (ui_wiz_form_key(&path_form, ch) == WIZ_FORM_SUBMIT)
			submit_keypath();
		break;
	case P_PASS1:
	case P_PASS2:
		if (ch == WIZ_KEY_ESC)
			back_to_handover();
		else if (ui_wiz_is_enter(ch) && phase == P_PASS1)
			submit_pass1();
		else if (ui_wiz_is_enter(ch))
			submit_pass2();
		else
			ui_wiz_field_key(phase == P_PASS1 ? &f_pass : &f_again, ch);
		break;
	case P_CONFIRM:
		if (ch == WIZ_KEY_ESC) {
			current = params.count - 1;
			phase = P_HANDOVER;
		} else if (ui_wiz_is_enter(ch)) {
			generate(w);
		}
		break;
	case P_RUN: break;
	case P_SUMMARY:
		if (call != NULL && (ch == WIZ_KEY_ESC || ui_wiz_is_enter(ch) || ch == 'm')) {
			call->done = true;
			call->count = result->count;
			call->quorum = result->quorum;
			snprintf(call->out_dir, sizeof call->out_dir, "%s", result->out_dir);
			return call->back;
		}
		if (call != NULL)
			ui_wiz_text_key(&summary, ch, ui_wiz_bottom(w) - ui_wiz_top(w));
		else if (ch == 'q' || ch == 'Q')
			ui_wiz_show_qr(w, result->request_path);
		else if (ch == WIZ_KEY_ESC || ui_wiz_is_enter(ch) || ch == 'm')
			return WIZ_MENU;
		else
			ui_wiz_text_key(&summary, ch, ui_wiz_bottom(w) - ui_wiz_top(w));
		break;
	}
	return WIZ_KEYGEN;
}

static void keygen_leave(struct wiz *w)
{
	w->keygen_call = NULL;
	call = NULL;
	wipe_passes();
	ui_wiz_field_free(&f_pass);
	ui_wiz_field_free(&f_again);
	ui_wiz_field_free(&f_keypath);
	ui_wiz_field_free(&f_pin);
	ui_wiz_field_free(&f_count);
	ui_wiz_field_free(&f_quorum);
	ui_wiz_field_free(&f_bits);
	ui_wiz_field_free(&f_days);
	ui_wiz_field_free(&f_dir);
	ui_wiz_field_free(&f_names);
	cer_keygen_result_free(result);
	result = NULL;
	ui_wiz_text_clear(&summary);
}

const struct ui_wiz_screen ui_wiz_keygen_screen = {
        .title = "new key ceremony",
        .init = keygen_init,
        .draw = keygen_draw,
        .key = keygen_key,
        .leave = keygen_leave,
};
