#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ceremony/io.h"
#include "ceremony/recovery.h"
#include "ceremony/rekey.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ui/wiz.h"

/*
 * Rekey: re-share the security domain to new custodians or a new quorum.
 *
 * P_FILES (the current file, where the new one goes), P_SOURCE (the new
 * certificates from files, or a key ceremony run now through the keygen
 * screen, which comes back here), P_NEWCERTS (the certificates and the new
 * quorum: every refusal cer_rekey_new makes comes before any custodian
 * unlocks a key), P_TURN (ui/wiz_turn.c: the current custodians one after
 * another), P_CONFIRM, P_WORKING (cer_rekey_run), P_DONE (both SHA-256s,
 * the destroy-the-old-file instruction, and a drill on the new file for
 * each new custodian through the drill screen, which comes back here).
 *
 * The new certificates are settled before anyone unlocks a key, so that a
 * key ceremony for them never runs while old shares sit in memory: the
 * recovery session lives only from P_TURN to the write, inside this screen,
 * and is wiped whenever the screen is left.
 */

enum phase { P_FILES, P_SOURCE, P_NEWCERTS, P_TURN, P_CONFIRM, P_WORKING, P_DONE };

static const char *const source_items[] = {
        "From certificate files (a directory of .cer files, or the files)",
        "From a key ceremony now, for the new custodians",
};

struct new_share {
	char cn[128];
	bool in_old;
};

static enum phase phase;
static struct ui_wiz_field f_sd, f_certs, f_out, f_new, f_quorum;
static struct ui_wiz_form files_form, new_form;
static struct ui_wiz_menu source_menu = {source_items, 2, 0};
static struct ui_wiz_turn turn;
static bool ready; /* the fields were set up */
static struct cer_sd *sd;
static struct cer_recovery *rec;
static struct cer_rekey *rekey;
static bool force; /* the operator agreed to replace the output file */
static char sd_path[WIZ_FIELD_MAX], certs_dir[WIZ_FIELD_MAX], out_path[WIZ_FIELD_MAX];
static char new_dir[WIZ_FIELD_MAX]; /* the new certificates' directory, or "" */
static char cert_paths[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX];
static struct ui_wiz_note note;
static char prog_what[128];
static unsigned prog_done, prog_total;
/* After the write: what the result screen shows, kept over the drills. */
static char old_sha[65], new_sha[65];
static unsigned new_count, new_quorum;
static struct new_share shares[CER_KEYGEN_MAX_KEYS];
static struct cer_report *report;
static struct ui_wiz_text result;
static bool all_drilled_logged;
/* Calls to the keygen and drill screens; `calling` keeps this screen's
 * public state over the leave that the switch makes. */
static struct ui_wiz_keygen_call kcall;
static struct ui_wiz_drill_call dcall;
static enum { CALL_NONE, CALL_KEYGEN, CALL_DRILL } calling, returning;

/* Wipes the shares collected and forgets the files loaded. */
static void end_session(void)
{
	ui_wiz_turn_wipe(&turn);
	cer_recovery_free(rec);
	rec = NULL;
	cer_rekey_free(rekey);
	rekey = NULL;
	cer_sd_free(sd);
	sd = NULL;
}

static void free_all(void)
{
	end_session();
	if (ready) {
		ui_wiz_field_free(&f_sd);
		ui_wiz_field_free(&f_certs);
		ui_wiz_field_free(&f_out);
		ui_wiz_field_free(&f_new);
		ui_wiz_field_free(&f_quorum);
		ui_wiz_turn_free(&turn);
	}
	ready = false;
	cer_report_free(report);
	report = NULL;
	ui_wiz_text_clear(&result);
}

static void fresh_init(struct wiz *w)
{
	free_all();
	phase = P_FILES;
	ui_wiz_note_clear(&note);
	force = false;
	files_form = new_form = (struct ui_wiz_form){0};
	source_menu.sel = 0;
	if (ui_wiz_field_init(&f_sd, "Security-domain file", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_certs, "Its certificates dir (optional)", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_out, "Write the new file to", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_new, "New certificates", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_quorum, "New quorum (2-N)", WF_NUMBER) != CER_OK ||
	    ui_wiz_turn_init(&turn) != CER_OK) {
		ui_wiz_error_status(w, CER_EINTERNAL);
		return;
	}
	ready = true;
	ui_wiz_form_add(&files_form, &f_sd);
	ui_wiz_form_add(&files_form, &f_certs);
	ui_wiz_form_add(&files_form, &f_out);
	ui_wiz_form_add(&new_form, &f_new);
	ui_wiz_form_add(&new_form, &f_quorum);
	turn.flow = "rekey";
	turn.go_on = "check and write the new file";
}

static void build_result(void);
static bool load_sd(struct wiz *w);

static void rekey_init(struct wiz *w)
{
	if (returning == CALL_NONE || !ready) {
		returning = CALL_NONE;
		fresh_init(w);
		return;
	}
	if (returning == CALL_KEYGEN) {
		if (kcall.done) {
			char q[16];

			ui_wiz_field_set(&f_new, kcall.out_dir);
			snprintf(q, sizeof q, "%u", kcall.quorum);
			ui_wiz_field_set(&f_quorum, q);
			new_form.focus = 1;
			ui_wiz_note_set(
			        &note, WC_OK,
			        "[OK] the key ceremony made %u keys; their certificates in %s "
			        "receive the new shares. Check the quorum, then press Enter.",
			        kcall.count, kcall.out_dir);
			phase = P_NEWCERTS;
		} else if (load_sd(w)) {
			ui_wiz_note_set(&note, WC_NORMAL,
			                "The key ceremony was left before keys were made.");
			phase = P_SOURCE;
		} else {
			phase = P_FILES;
		}
	} else {
		build_result();
		phase = P_DONE;
	}
	returning = CALL_NONE;
}

/* ---- drawing ---- */

static void draw_files(struct wiz *w, int y)
{
	ui_wiz_help(w, "Enter: next   Up/Down: field   Tab: complete path   Esc: menu");
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Rekey: a quorum of the current custodians opens the security domain, "
	                "and a new file is written with a fresh master key, shared to new "
	                "certificates with a new quorum. The current file is never replaced; "
	                "it stays valid until every copy of it is destroyed.") +
	    1;
	y = ui_wiz_form_draw(w, &files_form, y) + 1;
	y = ui_wiz_wrap(w, y, 2, WC_DIM,
	                "The current custodians' certificates are found beside each key (.cer) "
	                "or, when given, in the certificates directory.") +
	    1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_source(struct wiz *w, int y)
{
	ui_wiz_help(w, "Up/Down: move   Enter or 1-2: choose   Esc: back");
	y = ui_wiz_print(w, y, 2, WC_NORMAL,
	                 "Security domain %s (version %u, %zu shares, %u "
	                 "required)",
	                 cer_sd_name(sd), cer_sd_version(sd), cer_sd_share_count(sd),
	                 cer_sd_required(sd));
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "New file: %s", out_path) + 1;
	y = ui_wiz_print(w, y, 2, WC_NORMAL,
	                 "Where do the new custodians' certificates come "
	                 "from?") +
	    1;
	ui_wiz_menu_draw(w, &source_menu, y, 4);
	y += 2 * source_menu.n + 1;
	y = ui_wiz_wrap(w, y, 2, WC_DIM,
	                "They are settled before any current custodian unlocks a key. Current "
	                "custodians may be among the new ones (their keys then open the new "
	                "file too).") +
	    1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_newcerts(struct wiz *w, int y)
{
	ui_wiz_help(w, "Enter: next   Up/Down: field   Tab: complete path   Esc: back");
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "The new custodians' certificates: a directory (its .cer files, in name "
	                "order) or the files separated by spaces, 3 to 10, RSA of 2048 bits or "
	                "more, each key different. Share x = 1..N goes to them in that order.") +
	    1;
	y = ui_wiz_form_draw(w, &new_form, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_confirm(struct wiz *w, int y)
{
	unsigned i;

	ui_wiz_help(w, "Enter: write the new file   Esc: back to the custodians");
	y = ui_wiz_print(w, y, 2, WC_OK, "[OK] %u shares in, %u required: the current file opens.",
	                 cer_recovery_good(rec), cer_recovery_required(rec));
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Current file: %s", cer_sd_name(sd));
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "  SHA-256 %s", cer_sd_sha256_hex(sd));
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "New file:     %s%s", out_path,
	                 force ? " (replaces the file there)" : "") +
	    1;
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "New shares: %u, any %u of them recover the domain:",
	                 cer_rekey_count(rekey), cer_rekey_quorum(rekey));
	for (i = 0; i < cer_rekey_count(rekey) && y < ui_wiz_bottom(w) - 3; i++) {
		struct cer_rekey_share sh;

		cer_rekey_share(rekey, sd, i, &sh);
		y = ui_wiz_print(w, y, 4, WC_NORMAL, "x=%u %-16.16s %s%s", sh.x,
		                 sh.subject_cn[0] ? sh.subject_cn : "(no CN)", sh.cert_path,
		                 sh.in_old_file ? " (also a current custodian)" : "");
	}
	ui_wiz_wrap(w, y + 1, 2, WC_NORMAL,
	            "Every item is re-encrypted under a fresh master key and the new file is "
	            "checked in memory before it is written.");
}

static void rekey_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	switch (phase) {
	case P_FILES: draw_files(w, y); break;
	case P_SOURCE: draw_source(w, y); break;
	case P_NEWCERTS: draw_newcerts(w, y); break;
	case P_TURN: ui_wiz_turn_draw(w, &turn, y); break;
	case P_CONFIRM: draw_confirm(w, y); break;
	case P_WORKING:
		ui_wiz_help(w, "Please wait");
		ui_wiz_progress_draw(w, y + 1, prog_what, prog_done, prog_total);
		break;
	case P_DONE:
		ui_wiz_help(w,
		            "d: a drill on the new file   Up/Down/PgDn: scroll   Enter/Esc: menu");
		ui_wiz_text_draw(w, &result, y, ui_wiz_bottom(w) - 1);
		break;
	}
}

/* ---- the steps ---- */

/* The record of a rekey stopped before it ran, worded by ceremony/ as batch's. */
static void log_failure(struct wiz *w, int status)
{
	if (cer_rekey_failed(ui_wiz_transcript(w), status) != status)
		ui_wiz_transcript_lost(w);
}

static bool load_sd(struct wiz *w)
{
	int ret;

	if (sd != NULL)
		return true;
	ret = cer_sd_load(sd_path, &sd);
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &rec);
	if (ret != CER_OK) {
		log_failure(w, ret);
		ui_wiz_error_status(w, ret);
		end_session();
		return false;
	}
	cer_recovery_free(rec);
	rec = NULL;
	return true;
}

/* The output is refused (same as the input) or, when it exists, replaced
 * only once the operator agrees. */
static bool check_out(struct wiz *w)
{
	struct cer_rekey_params p = {.sd_path = sd_path, .out_path = out_path, .force = false};
	char msg[WIZ_FIELD_MAX + 256];
	int ret = cer_rekey_check_out(&p);

	if (ret != CER_OK && cer_errreason() == CER_REASON_EXISTS) {
		snprintf(msg, sizeof msg,
		         "%s already exists. Replace it with the new security-domain file?",
		         out_path);
		if (!ui_wiz_confirm(w, "WARNING: replace a file", msg))
			return false;
		p.force = true;
		ret = cer_rekey_check_out(&p);
	}
	if (ret != CER_OK) {
		log_failure(w, ret);
		ui_wiz_error_status(w, ret);
		return false;
	}
	force = p.force;
	return true;
}

static void submit_files(struct wiz *w)
{
	end_session();
	ui_wiz_note_clear(&note);
	snprintf(sd_path, sizeof sd_path, "%s", ui_wiz_field_value(&f_sd));
	snprintf(certs_dir, sizeof certs_dir, "%s", ui_wiz_field_value(&f_certs));
	snprintf(out_path, sizeof out_path, "%s", ui_wiz_field_value(&f_out));
	if (sd_path[0] == '\0' || out_path[0] == '\0') {
		ui_wiz_error(w, "A file is missing",
		             "Type the current security-domain file and where the new one goes.");
		files_form.focus = sd_path[0] == '\0' ? 0 : 2;
		return;
	}
	if (!load_sd(w)) {
		files_form.focus = 0;
		return;
	}
	if (!check_out(w)) {
		end_session();
		files_form.focus = 2;
		return;
	}
	phase = P_SOURCE;
}

static void start_keygen(struct wiz *w)
{
	static char why[WIZ_FIELD_MAX + 128];

	snprintf(why, sizeof why,
	         "For the rekey of %s: the new custodians' keys. The quorum asked here becomes "
	         "the new file's.",
	         sd_path);
	memset(&kcall, 0, sizeof kcall);
	kcall.back = WIZ_REKEY;
	kcall.why = why;
	kcall.dir = "ceremony-rekey";
	w->keygen_call = &kcall;
	ui_wiz_log(w, "rekey: a key ceremony for the new custodians of %s", sd_path);
}

/* A directory gives its .cer files; otherwise the field holds paths. */
static int parse_new_certs(unsigned *count)
{
	char buf[WIZ_FIELD_MAX];
	char *save = NULL, *tok;
	struct stat st;
	unsigned n = 0;

	new_dir[0] = '\0';
	snprintf(buf, sizeof buf, "%s", ui_wiz_field_value(&f_new));
	if (buf[0] != '\0' && stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(new_dir, sizeof new_dir, "%s", buf);
		return cer_rekey_certs_in_dir(buf, cert_paths, count);
	}
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		if (n == CER_KEYGEN_MAX_KEYS)
			return cer_fail(CER_EUSAGE,
			                "more than %d new certificates: the service takes "
			                "%d to %d",
			                CER_KEYGEN_MAX_KEYS, CER_KEYGEN_MIN_KEYS,
			                CER_KEYGEN_MAX_KEYS);
		snprintf(cert_paths[n++], sizeof cert_paths[0], "%s", tok);
	}
	if (n == 0)
		return cer_fail(CER_EUSAGE, "type a directory of certificates or the certificate "
		                            "files");
	*count = n;
	return CER_OK;
}

static void start_turn(struct wiz *w)
{
	int ret = cer_recovery_new(sd, &rec);

	if (ret == CER_OK && certs_dir[0] != '\0')
		ret = cer_recovery_name_shares(rec, certs_dir);
	if (ret != CER_OK) {
		log_failure(w, ret);
		ui_wiz_error_status(w, ret);
		end_session();
		phase = P_FILES;
		return;
	}
	if (!ui_wiz_recovery_transcript(w, rec, "rekey", sd_path)) {
		end_session();
		phase = P_FILES;
		return;
	}
	snprintf(turn.heading, sizeof turn.heading, "Rekey of %s: the current custodians unlock",
	         cer_sd_name(sd));
	turn.certs_dir = certs_dir[0] != '\0' ? certs_dir : NULL;
	ui_wiz_turn_begin(&turn, rec);
	phase = P_TURN;
}

static void submit_newcerts(struct wiz *w)
{
	struct cer_rekey_params p = {.sd_path = sd_path,
	                             .out_path = out_path,
	                             .force = force,
	                             .transcript = ui_wiz_transcript(w)};
	unsigned i, count = 0;
	long q = 0;
	int ret;

	ui_wiz_note_clear(&note);
	ret = parse_new_certs(&count);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		new_form.focus = 0;
		return;
	}
	if (!ui_wiz_field_number(&f_quorum, 0, 1000, &q)) {
		ui_wiz_error(w, "The quorum is missing",
		             "Type the new quorum: how many of the new "
		             "custodians recover the domain (2 to N).");
		new_form.focus = 1;
		return;
	}
	p.count = count;
	p.quorum = (unsigned)q;
	for (i = 0; i < count; i++)
		p.cert_paths[i] = cert_paths[i];
	cer_rekey_free(rekey);
	rekey = NULL;
	if (!load_sd(w))
		return;
	ret = cer_rekey_new(&p, &rekey);
	if (ret != CER_OK) {
		log_failure(w, ret);
		ui_wiz_error_status(w, ret);
		return;
	}
	if (cer_rekey_record_plan(rekey, sd) != CER_OK) {
		ui_wiz_transcript_lost(w);
		return;
	}
	start_turn(w);
}

static bool abandon(struct wiz *w)
{
	int why;

	if (!ui_wiz_confirm(w, "Abandon",
	                    "Abandon this rekey? The shares collected so far are wiped and "
	                    "nothing is written."))
		return false;
	why = cer_rekey_check_session(rec, sd);
	if (why != CER_OK) {
		ui_wiz_log(w, "rekey: abandoned, nothing written: %s", cer_errmsg());
		ui_wiz_note_set(&note, WC_FAIL, "[FAIL] Rekey abandoned, nothing written: %s.",
		                cer_errmsg());
	} else {
		ui_wiz_log(w, "rekey: abandoned at the quorum, nothing written");
		ui_wiz_note_set(&note, WC_NORMAL, "Rekey abandoned, nothing written.");
	}
	end_session();
	files_form.focus = 0;
	phase = P_FILES;
	return true;
}

static void on_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	snprintf(prog_what, sizeof prog_what, "%s", what);
	prog_done = done;
	prog_total = total;
	if (!ui_wiz_stopping())
		ui_wiz_redraw(ctx);
}

static unsigned drilled(void)
{
	unsigned i, n = 0;

	for (i = 0; i < new_count; i++)
		n += dcall.passed[i];
	return n;
}

static void build_result(void)
{
	unsigned i;
	size_t j;

	ui_wiz_text_clear(&result);
	ui_wiz_text_add(&result, "[OK] New security-domain file written: %s", out_path);
	ui_wiz_text_add(&result, "  SHA-256 %s", new_sha);
	ui_wiz_text_add(&result, "Old file, still valid: %s", sd_path);
	ui_wiz_text_add(&result, "  SHA-256 %s", old_sha);
	ui_wiz_text_add(&result, "%s", "");
	if (drilled() == new_count) {
		ui_wiz_text_add(&result, "Every new custodian has passed a drill on the new file:");
		ui_wiz_text_add(&result, "NOW DESTROY EVERY COPY OF THE OLD FILE %s.", sd_path);
		ui_wiz_text_add(&result, "Its old keys still open it, a departed custodian's too.");
	} else {
		ui_wiz_text_add(&result, "The old file still opens with the old keys, a departed");
		ui_wiz_text_add(&result,
		                "custodian's too. Once each new custodian has passed a drill");
		ui_wiz_text_add(&result, "on the new file, DESTROY EVERY COPY OF THE OLD FILE.");
	}
	ui_wiz_text_add(&result, "%s", "");
	ui_wiz_text_add(&result,
	                "New custodians (any %u of %u recover), press d for a drill:", new_quorum,
	                new_count);
	for (i = 0; i < new_count; i++)
		ui_wiz_text_add(&result, "  x=%u %-20.20s %s%s", i + 1,
		                shares[i].cn[0] ? shares[i].cn : "(no CN)",
		                dcall.passed[i] ? "[OK] drill passed" : "no drill yet",
		                shares[i].in_old ? " (also a current custodian)" : "");
	ui_wiz_text_add(&result, "%s", "");
	for (j = 0; report != NULL && j < cer_report_line_count(report); j++)
		ui_wiz_text_add(&result, "%s", cer_report_line(report, j));
}

static void write_new(struct wiz *w)
{
	struct cer_progress progress = {on_step, NULL, w};
	char msg[WIZ_FIELD_MAX + 128];
	unsigned i;
	int ret;

	if (!force && cer_path_exists(out_path)) {
		/* It appeared while the custodians took their turns. */
		struct cer_rekey_params p = {.sd_path = sd_path,
		                             .out_path = out_path,
		                             .transcript = ui_wiz_transcript(w)};
		struct cer_rekey *again = NULL;

		snprintf(msg, sizeof msg, "%s appeared meanwhile. Replace it?", out_path);
		if (!ui_wiz_confirm(w, "WARNING: replace a file", msg))
			return;
		p.force = true;
		p.count = cer_rekey_count(rekey);
		p.quorum = cer_rekey_quorum(rekey);
		for (i = 0; i < p.count; i++)
			p.cert_paths[i] = cert_paths[i];
		ret = cer_rekey_new(&p, &again);
		if (ret != CER_OK) {
			log_failure(w, ret);
			ui_wiz_error_status(w, ret);
			return;
		}
		cer_rekey_free(rekey);
		rekey = again;
		force = true;
	} else {
		snprintf(msg, sizeof msg, "Write the new security-domain file to %s%s?", out_path,
		         force ? ", replacing the file there" : "");
		if (!ui_wiz_confirm(w, "Write the new file", msg))
			return;
	}
	phase = P_WORKING;
	snprintf(prog_what, sizeof prog_what, "opening the items");
	prog_done = 0;
	prog_total = 1;
	ui_wiz_redraw(w);
	cer_report_free(report);
	report = NULL;
	ret = cer_rekey_run(rekey, sd, rec, &progress, &report);
	if (ret == CER_EIO && cer_errreason() == CER_REASON_STALE_TEMP &&
	    ui_wiz_stale_confirm(w, "rekey")) {
		cer_report_free(report);
		report = NULL;
		ret = cer_stale_temps_remove(out_path, true);
		if (ret == CER_OK)
			ret = cer_rekey_run(rekey, sd, rec, &progress, &report);
	}
	if (ret == CER_EIO && cer_errreason() == CER_REASON_TRANSCRIPT) {
		ui_wiz_transcript_lost(w); /* the file is written, its record is not */
		return;
	}
	if (ret != CER_OK) { /* recorded by cer_rekey_run */
		phase = P_CONFIRM;
		ui_wiz_error_status(w, ret);
		return;
	}
	snprintf(old_sha, sizeof old_sha, "%s", cer_sd_sha256_hex(sd));
	if (cer_file_sha256_hex(out_path, new_sha) != CER_OK)
		snprintf(new_sha, sizeof new_sha, "(cannot hash: see the report)");
	new_count = cer_rekey_count(rekey);
	new_quorum = cer_rekey_quorum(rekey);
	for (i = 0; i < new_count; i++) {
		struct cer_rekey_share sh;

		cer_rekey_share(rekey, sd, i, &sh);
		snprintf(shares[i].cn, sizeof shares[i].cn, "%s", sh.subject_cn);
		shares[i].in_old = sh.in_old_file;
	}
	end_session();
	memset(&dcall, 0, sizeof dcall);
	all_drilled_logged = false;
	ui_wiz_log(w,
	           "rekey: next, each new custodian passes a drill on %s; then every copy of "
	           "%s must be destroyed",
	           out_path, sd_path);
	build_result();
	phase = P_DONE;
}

static void start_drill(struct wiz *w)
{
	dcall.back = WIZ_REKEY;
	dcall.sd_path = out_path;
	dcall.sha256 = new_sha;
	dcall.certs_dir = new_dir[0] != '\0' ? new_dir : NULL;
	w->drill_call = &dcall;
	ui_wiz_log(w, "rekey: a drill on the new file %s (drill %u)", out_path, dcall.drills + 1);
}

static void done_back(struct wiz *w)
{
	if (drilled() == new_count && !all_drilled_logged) {
		ui_wiz_log(w,
		           "rekey: every new custodian has passed a drill on %s (sha256 %s); "
		           "destroy every copy of %s (sha256 %s) now",
		           out_path, new_sha, sd_path, old_sha);
		all_drilled_logged = true;
	}
}

static enum ui_wiz_state rekey_key(struct wiz *w, int ch)
{
	int i;

	if (ch == ERR || !ready)
		return ch == WIZ_KEY_ESC ? WIZ_MENU : WIZ_REKEY;
	switch (phase) {
	case P_FILES:
		if (ch == WIZ_KEY_ESC)
			return WIZ_MENU;
		if (ui_wiz_form_key(&files_form, ch) == WIZ_FORM_SUBMIT)
			submit_files(w);
		break;
	case P_SOURCE:
		if (ch == WIZ_KEY_ESC) {
			end_session();
			ui_wiz_note_clear(&note);
			phase = P_FILES;
			break;
		}
		i = ui_wiz_menu_key(&source_menu, ch);
		if (i == 0) {
			ui_wiz_note_clear(&note);
			new_form.focus = 0;
			phase = P_NEWCERTS;
		} else if (i == 1) {
			start_keygen(w);
			calling = CALL_KEYGEN;
			return WIZ_KEYGEN;
		}
		break;
	case P_NEWCERTS:
		if (ch == WIZ_KEY_ESC) {
			ui_wiz_note_clear(&note);
			phase = load_sd(w) ? P_SOURCE : P_FILES;
		} else if (ui_wiz_form_key(&new_form, ch) == WIZ_FORM_SUBMIT) {
			submit_newcerts(w);
		}
		break;
	case P_TURN:
		switch (ui_wiz_turn_key(w, &turn, ch)) {
		case WIZ_TURN_SHARE_IN:
			if (cer_recovery_ready(rec))
				phase = P_CONFIRM;
			break;
		case WIZ_TURN_GO_ON: phase = P_CONFIRM; break;
		case WIZ_TURN_ABANDON: abandon(w); break;
		case WIZ_TURN_EXCHANGE: /* no exchange key is bound in a rekey */
		case WIZ_TURN_FINISH:
		case WIZ_TURN_NONE: break;
		}
		break;
	case P_CONFIRM:
		if (ch == WIZ_KEY_ESC)
			phase = P_TURN;
		else if (ui_wiz_is_enter(ch))
			write_new(w);
		break;
	case P_WORKING: break;
	case P_DONE:
		if (ch == 'd' || ch == 'D') {
			start_drill(w);
			calling = CALL_DRILL;
			return WIZ_DRILL;
		}
		if (ch == WIZ_KEY_ESC || ui_wiz_is_enter(ch) || ch == 'm')
			return WIZ_MENU;
		ui_wiz_text_key(&result, ch, ui_wiz_bottom(w) - ui_wiz_top(w));
		break;
	}
	return WIZ_REKEY;
}

/* Leaving wipes the session whatever the reason; the public fields and the
 * result stay only over a call to the keygen or drill screen. */
static void rekey_leave(struct wiz *w)
{
	(void)w;
	end_session();
	if (calling != CALL_NONE) {
		returning = calling;
		calling = CALL_NONE;
		return;
	}
	returning = CALL_NONE;
	free_all();
}

static void rekey_resume(struct wiz *w)
{
	rekey_init(w);
	if (phase == P_DONE)
		done_back(w);
}

const struct ui_wiz_screen ui_wiz_rekey_screen = {
        .title = "rekey: new custodians or quorum",
        .init = rekey_resume,
        .draw = rekey_draw,
        .key = rekey_key,
        .leave = rekey_leave,
};
