#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/exchange.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/qr.h"
#include "ceremony/recovery.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ui/qrscan.h"
#include "ui/wiz.h"

/*
 * Recovery and the DR drill share this file: the same custodian loop, then
 * either the restore blob (recovery) or verify's report (drill).
 */

enum phase {
	P_FILES,
	P_QRJOIN,
	P_EXCHANGE,
	P_TURN, /* ui/wiz_turn.c: one custodian after another */
	P_WORKING,
	P_BLOB,
	P_DONE
};

static bool drill;
static enum phase phase;
static struct ui_wiz_field f_sd, f_exchange, f_hsm, f_attest, f_mrsigner, f_certs, f_part, f_blob;
static struct ui_wiz_form files_form, part_form, blob_form;
static struct ui_wiz_turn turn;
static struct cer_sd *sd;
static struct cer_recovery *rec;
static struct cer_exchange *exchange;
static struct ui_wiz_text facts;
static const char *const attest_choices[] = {"accept a key without one", "require it"};
static struct cer_qr_join *join;
static char certs_dir[WIZ_FIELD_MAX];
static struct ui_wiz_note note;
static char prog_what[128];
static unsigned prog_done, prog_total;
static struct ui_wiz_text result;
static char blob_path[WIZ_FIELD_MAX];
static struct ui_wiz_drill_call *dcall; /* a drill run for another flow (rekey), or NULL */

static const char *flow(void)
{
	return drill ? "drill" : "recovery";
}

static void end_session(void)
{
	ui_wiz_turn_wipe(&turn);
	cer_recovery_free(rec);
	rec = NULL;
	cer_sd_free(sd);
	sd = NULL;
	cer_exchange_free(exchange);
	exchange = NULL;
	cer_qr_join_free(join);
	join = NULL;
}

static void common_init(struct wiz *w, bool is_drill)
{
	drill = is_drill;
	phase = P_FILES;
	ui_wiz_note_clear(&note);
	files_form = part_form = blob_form = (struct ui_wiz_form){0};
	bool camera = ui_qrscan_available();

	if (ui_wiz_field_init(
	            &f_sd, camera ? "Security-domain file (empty: camera)" : "Security-domain file",
	            WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_exchange,
	                      camera ? "Exchange key (empty: camera or QR parts)"
	                             : "Exchange key (empty: QR parts)",
	                      WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_hsm, "New HSM's name (optional)", WF_TEXT) != CER_OK ||
	    ui_wiz_field_init(&f_attest, "SGX attestation", WF_CHOICE) != CER_OK ||
	    ui_wiz_field_init(&f_mrsigner, "Expected MRSIGNER (optional)", WF_TEXT) != CER_OK ||
	    ui_wiz_field_init(&f_certs, "Certificates dir (optional)", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&f_part, "Part", WF_TEXT) != CER_OK ||
	    ui_wiz_turn_init(&turn) != CER_OK ||
	    ui_wiz_field_init(&f_blob, "Write the restore blob to", WF_PATH) != CER_OK) {
		ui_wiz_error_status(w, CER_EINTERNAL);
		return;
	}
	ui_wiz_form_add(&files_form, &f_sd);
	f_attest.choices = attest_choices;
	f_attest.nchoices = 2;
	if (!drill) {
		ui_wiz_form_add(&files_form, &f_exchange);
		ui_wiz_form_add(&files_form, &f_hsm);
		ui_wiz_form_add(&files_form, &f_attest);
		ui_wiz_form_add(&files_form, &f_mrsigner);
	}
	ui_wiz_form_add(&files_form, &f_certs);
	dcall = drill ? w->drill_call : NULL;
	if (dcall != NULL) {
		ui_wiz_field_set(&f_sd, dcall->sd_path);
		if (dcall->certs_dir != NULL)
			ui_wiz_field_set(&f_certs, dcall->certs_dir);
	}
	ui_wiz_form_add(&part_form, &f_part);
	turn.flow = flow();
	turn.allow_finish = drill;
	turn.go_on = drill ? NULL : "write the restore blob";
	ui_wiz_field_set(&f_blob, "restore-blob.json");
	ui_wiz_form_add(&blob_form, &f_blob);
	ui_wiz_text_clear(&result);
	ui_wiz_text_clear(&facts);
}

static void recovery_init(struct wiz *w)
{
	common_init(w, false);
}

static void drill_init(struct wiz *w)
{
	common_init(w, true);
}

static void draw_files(struct wiz *w, int y)
{
	ui_wiz_help(w, dcall != NULL
	                       ? "Enter: next   Up/Down: field   Tab: complete path   Esc: back"
	                       : "Enter: next   Up/Down: field   Tab: complete path   Esc: menu");
	if (drill)
		y = ui_wiz_wrap(
		            w, y, 2, WC_NORMAL,
		            "DR drill: custodians prove that their keys and passphrases still "
		            "recover the security domain. Nothing is written. A single custodian "
		            "may check their own key alone.") +
		    1;
	else
		y = ui_wiz_wrap(
		            w, y, 2, WC_NORMAL,
		            "Recovery: custodians unlock their keys one at a time; at the quorum "
		            "the restore blob for 'az keyvault security-domain upload "
		            "--restore-blob' is written, encrypted to the new HSM's exchange "
		            "key.") +
		    1;
	y = ui_wiz_form_draw(w, &files_form, y) + 1;
	y = ui_wiz_wrap(w, y, 2, WC_DIM,
	                "Key certificates are found beside each key (.cer) or, when given, in the "
	                "certificates directory.") +
	    1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_qrjoin(struct wiz *w, int y)
{
	char status[256];

	bool camera = ui_qrscan_available();

	ui_wiz_help(w, camera ? "Enter: add the part   F2: scan with the camera   Ctrl-U: clear   "
	                        "Esc: back"
	                      : "Enter: add the part   Ctrl-U: clear   Esc: back");
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Scan or paste the exchange key's QR parts (SDC2:... or SDC1:...), one "
	                "per line, in any order; duplicates are fine.") +
	    1;
	if (camera)
		y = ui_wiz_wrap(w, y, 2, WC_DIM,
		                "F2 reads them with the camera; the parts already in are kept.") +
		    1;
	cer_qr_join_status(join, status, sizeof status);
	y = ui_wiz_print(w, y, 2, WC_NORMAL, "Parts: %s", status) + 1;
	y = ui_wiz_form_draw(w, &part_form, y) + 1;
	ui_wiz_note_draw(w, &note, y);
}

static void draw_exchange(struct wiz *w, int y)
{
	ui_wiz_help(w, "y: they match, go on   n/Esc: they do not, back   Up/Down: scroll");
	y = ui_wiz_wrap(w, y, 2, WC_WARN,
	                "Check the exchange key before any custodian unlocks a key: whoever "
	                "holds its private key gets every key in the HSM. The online "
	                "administrators, who each fetched it, read out its SHA-256; compare "
	                "every digit.") +
	    1;
	y = ui_wiz_text_draw(w, &facts, y, ui_wiz_bottom(w) - 3);
	ui_wiz_print(w, ui_wiz_bottom(w) - 1, 2, WC_NORMAL,
	             "Do the SHA-256, CN and thumbprint match what they read out? (y/n)");
}

static void recover_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	switch (phase) {
	case P_FILES: draw_files(w, y); break;
	case P_QRJOIN: draw_qrjoin(w, y); break;
	case P_EXCHANGE: draw_exchange(w, y); break;
	case P_TURN: ui_wiz_turn_draw(w, &turn, y); break;
	case P_WORKING:
		ui_wiz_help(w, "Please wait");
		ui_wiz_progress_draw(w, y + 1, prog_what, prog_done, prog_total);
		break;
	case P_BLOB:
		ui_wiz_help(w, "Enter: write   Tab: complete path   Esc: back to the custodians");
		y = ui_wiz_print(w, y, 2, WC_OK,
		                 "[OK] %u shares in, %u required: the quorum is reached.",
		                 cer_recovery_good(rec), cer_recovery_required(rec)) +
		    1;
		y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
		                "The master key is rebuilt, every item is authenticated, and the "
		                "restore blob is written encrypted to the exchange key.") +
		    1;
		y = ui_wiz_form_draw(w, &blob_form, y) + 1;
		ui_wiz_note_draw(w, &note, y);
		break;
	case P_DONE:
		if (drill)
			ui_wiz_help(w, dcall != NULL ? "Up/Down/PgDn: scroll   Enter/Esc: back"
			                             : "Up/Down/PgDn: scroll   Enter/Esc: menu");
		else
			ui_wiz_help(
			        w,
			        "q: show the blob as QR codes   Up/Down: scroll   Enter/Esc: menu");
		ui_wiz_text_draw(w, &result, y, ui_wiz_bottom(w) - 1);
		break;
	}
}

static void on_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	snprintf(prog_what, sizeof prog_what, "%s", what);
	prog_done = done;
	prog_total = total;
	ui_wiz_redraw(ctx);
}

static int read_policy(struct cer_exchange_policy *p)
{
	int ret;

	memset(p, 0, sizeof *p);
	p->now = time(NULL);
	p->require_attestation = f_attest.choice == 1;
	ret = cer_exchange_policy_hsm_name(p, ui_wiz_field_value(&f_hsm));
	if (ret == CER_OK)
		ret = cer_exchange_policy_mrsigner(p, ui_wiz_field_value(&f_mrsigner));
	return ret;
}

/* What the records call the security-domain file: its path, or how it came in. */
static const char *sd_label(void)
{
	const char *path = ui_wiz_field_value(&f_sd);

	return path[0] != '\0' ? path : "(scanned security-domain file)";
}

/* A drill or recovery stopped before its session: recorded as batch records it. */
static void log_failure(struct wiz *w, const char *sd_path, int status)
{
	if (cer_recovery_failed(ui_wiz_transcript(w), flow(), sd_path, status) != status)
		ui_wiz_transcript_lost(w);
}

/*
 * Opens the exchange key (a file, or joined QR parts when data is given),
 * binds it to the session and shows its facts for the operator to confirm.
 */
static int take_exchange(struct wiz *w, const char *path, const uint8_t *data, size_t len)
{
	struct cer_exchange_policy policy;
	const struct cer_report *rep;
	size_t i;
	int ret = read_policy(&policy);

	if (ret == CER_OK)
		ret = data != NULL ? cer_exchange_open_mem(data, len, path, &policy, &exchange)
		                   : cer_exchange_open(path, &policy, &exchange);
	if (ret == CER_OK)
		ret = cer_recovery_set_exchange(rec, exchange, certs_dir[0] ? certs_dir : NULL);
	if (ret != CER_OK) {
		log_failure(w, sd_label(), ret);
		return ret;
	}
	rep = cer_exchange_report(exchange);
	ui_wiz_log_report(w, rep);
	ui_wiz_text_clear(&facts);
	for (i = 0; i < cer_report_line_count(rep); i++)
		ui_wiz_text_add(&facts, "%s", cer_report_line(rep, i));
	phase = P_EXCHANGE;
	return CER_OK;
}

static void start_turn(void)
{
	snprintf(turn.heading, sizeof turn.heading, "Security domain %s (version %u)",
	         cer_sd_name(sd), cer_sd_version(sd));
	turn.certs_dir = certs_dir[0] != '\0' ? certs_dir : NULL;
	ui_wiz_turn_begin(&turn, rec);
	phase = P_TURN;
}

static void confirm_exchange(struct wiz *w, bool match)
{
	if (!match) {
		ui_wiz_log(w,
		           "recovery: exchange key %s: [FAIL] the operator found it does not "
		           "match what the online administrators read out",
		           cer_exchange_name(exchange));
		end_session();
		ui_wiz_note_set(&note, WC_FAIL,
		                "[FAIL] the exchange key was not confirmed: fetch it again on the "
		                "online side and compare before any key is unlocked.");
		files_form.focus = 1;
		phase = P_FILES;
		return;
	}
	ui_wiz_log(w,
	           "recovery: exchange key %s confirmed by the operator: sha256 %s matches "
	           "what the online administrators read out",
	           cer_exchange_name(exchange), cer_exchange_sha256_hex(exchange));
	ui_wiz_note_clear(&note);
	start_turn();
}

/* After a scan view: the wizard's own screen settings back. */
static void after_scan(void)
{
	keypad(stdscr, TRUE);
	timeout(WIZ_TICK_MS);
	clearok(stdscr, TRUE);
}

/* The record of a join held in memory: what came in, from how many parts, its SHA-256. */
static void log_join(struct wiz *w, const struct cer_qr_join *j, const char *what,
                     const uint8_t *data, size_t len)
{
	struct cer_report *rep = NULL;

	if (cer_qr_join_report(j, NULL, what, data, len, &rep) == CER_OK)
		ui_wiz_log_report(w, rep);
	else
		ui_wiz_log(w, "qr join: %s: [FAIL] %s", what, cer_errmsg());
	cer_report_free(rep);
}

/* The security-domain file by camera, parsed from memory into sd. */
static int scan_sd(struct wiz *w)
{
	struct cer_qr_join *j = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = cer_qr_join_new(&j);

	if (ret == CER_OK) {
		cer_qr_join_set_lenient(j, true);
		ret = ui_qrscan_view(j, "the security-domain file");
		after_scan();
	}
	if (ret == CER_OK)
		ret = cer_qr_join_finish(j, &data, &len);
	if (ret == CER_OK) {
		char what[256];

		snprintf(what, sizeof what, "the security-domain file scanned from %s",
		         ui_qrscan_source_name());
		log_join(w, j, what, data, len);
		ret = cer_sd_parse(data, len, "(scanned security-domain file)", &sd);
	} else if (ret != CER_EUSAGE) {
		ui_wiz_log(w, "%s: security-domain file by camera: [FAIL] %s", flow(),
		           cer_errmsg());
	}
	free(data);
	cer_qr_join_free(j);
	return ret;
}

static void scan_exchange(struct wiz *w);

static void submit_files(struct wiz *w)
{
	const char *path = ui_wiz_field_value(&f_sd);
	int ret;

	end_session();
	ui_wiz_note_clear(&note);
	if (path[0] == '\0' && !ui_qrscan_available()) {
		ui_wiz_error(w, "The file is missing", "Type the security-domain file's path.");
		files_form.focus = 0;
		return;
	}
	snprintf(certs_dir, sizeof certs_dir, "%s", ui_wiz_field_value(&f_certs));
	if (path[0] == '\0') {
		path = "(scanned security-domain file)";
		ret = scan_sd(w);
		if (ret == CER_EUSAGE) {
			ui_wiz_note_set(
			        &note, WC_WARN,
			        "Scan stopped: type the security-domain file's path, or leave "
			        "it empty to scan again.");
			files_form.focus = 0;
			return;
		}
	} else {
		ret = cer_sd_load(path, &sd);
	}
	if (ret == CER_OK)
		ret = cer_recovery_new(sd, &rec);
	if (ret == CER_OK && certs_dir[0] != '\0')
		ret = cer_recovery_name_shares(rec, certs_dir);
	if (ret != CER_OK) {
		log_failure(w, path, ret);
		ui_wiz_error_status(w, ret);
		end_session();
		files_form.focus = 0;
		return;
	}
	if (!ui_wiz_recovery_transcript(w, rec, flow(), path)) {
		end_session();
		return;
	}
	if (!drill) {
		struct cer_exchange_policy policy;

		ret = read_policy(&policy);
		if (ret != CER_OK) {
			ui_wiz_error_status(w, ret);
			end_session();
			files_form.focus = 2;
			return;
		}
	}
	if (!drill && ui_wiz_field_value(&f_exchange)[0] == '\0') {
		if (cer_qr_join_new(&join) != CER_OK) {
			ui_wiz_error_status(w, CER_EINTERNAL);
			end_session();
			return;
		}
		cer_qr_join_set_lenient(join, true);
		ui_wiz_field_wipe(&f_part);
		phase = P_QRJOIN;
		if (ui_qrscan_available())
			scan_exchange(w);
		return;
	}
	if (!drill) {
		ret = take_exchange(w, ui_wiz_field_value(&f_exchange), NULL, 0);
		if (ret != CER_OK) {
			ui_wiz_error_status(w, ret);
			end_session();
			files_form.focus = 1;
		}
		return;
	}
	start_turn();
}

static int join_exchange(struct wiz *w)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = cer_qr_join_finish(join, &data, &len);

	if (ret == CER_OK) {
		log_join(w, join, "the exchange key", data, len);
		ret = take_exchange(w, "(joined QR parts)", data, len);
	}
	free(data);
	return ret;
}

static void exchange_parts_in(struct wiz *w);

static void submit_part(struct wiz *w)
{
	const char *text = ui_wiz_field_value(&f_part);
	int ret;

	if (text[0] == '\0')
		return;
	ret = cer_qr_join_add(join, "pasted text", text, strlen(text));
	ui_wiz_field_wipe(&f_part);
	if (ret != CER_OK) {
		ui_wiz_note_set(&note, WC_FAIL, "[FAIL] %s", cer_errmsg());
		ui_wiz_error_status(w, ret);
		return;
	}
	ui_wiz_note_set(&note, WC_OK, "[OK] part accepted");
	exchange_parts_in(w);
}

/* Once every part of the exchange key is in (pasted, scanned or both). */
static void exchange_parts_in(struct wiz *w)
{
	int ret;

	if (!cer_qr_join_complete(join))
		return;
	ret = join_exchange(w);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		end_session();
		ui_wiz_note_clear(&note);
		phase = P_FILES;
		return;
	}
	cer_qr_join_free(join);
	join = NULL;
}

/* For the flow that called the drill: whose keys were found good. */
static void note_for_caller(int ret)
{
	size_t i;

	dcall->drills++;
	if (ret != CER_OK && ret != CER_EQUORUM)
		return;
	for (i = 0; i < cer_recovery_share_count(rec); i++) {
		struct cer_recovery_share sh;

		cer_recovery_share(rec, i, &sh);
		if (sh.in && sh.number >= 1 && sh.number <= WIZ_CALL_MAX_KEYS)
			dcall->passed[sh.number - 1] = true;
	}
}

/* The exchange key's parts by camera, into the same join as pasted parts. */
static void scan_exchange(struct wiz *w)
{
	int ret = ui_qrscan_view(join, "the exchange key");

	after_scan();
	if (ret == CER_OK) {
		ui_wiz_note_clear(&note);
		exchange_parts_in(w);
	} else if (ret == CER_EUSAGE) {
		ui_wiz_note_set(
		        &note, WC_WARN,
		        "Scan stopped with %u parts in: paste the rest, or F2 to scan again.",
		        cer_qr_join_count(join));
	} else {
		ui_wiz_note_set(&note, WC_FAIL, "[FAIL] %s", cer_errmsg());
		ui_wiz_error_status(w, ret);
	}
}

static void run_verify(struct wiz *w)
{
	struct cer_progress progress = {on_step, NULL, w};
	struct cer_report *report = NULL;
	size_t i;
	int ret;

	phase = P_WORKING;
	snprintf(prog_what, sizeof prog_what, "checking");
	prog_done = 0;
	prog_total = 1;
	ui_wiz_redraw(w);
	ret = cer_recovery_verify(rec, &progress, &report);
	ui_wiz_text_clear(&result);
	if (report == NULL) {
		ui_wiz_error_status(w, ret);
		phase = P_TURN;
		return;
	}
	if (ret == CER_OK)
		ui_wiz_text_add(&result,
		                "[OK] DR drill passed: the keys recover the security domain");
	else if (ret == CER_EQUORUM)
		ui_wiz_text_add(&result,
		                "[OK] every key given is good, but the quorum is not reached");
	else
		ui_wiz_text_add(&result, "[FAIL] DR drill failed (%s)", cer_status_name(ret));
	for (i = 0; i < cer_report_line_count(report); i++)
		ui_wiz_text_add(&result, "%s", cer_report_line(report, i));
	if (dcall != NULL && strcmp(cer_sd_sha256_hex(sd), dcall->sha256) == 0)
		note_for_caller(ret);
	cer_report_free(report);
	end_session();
	phase = P_DONE;
}

/* The session ended because a custodian's key is the exchange key. */
static void exchange_was_custodians(struct wiz *w)
{
	ui_wiz_error(w, "The exchange key is a custodian's", cer_errmsg());
	end_session();
	ui_wiz_note_set(&note, WC_FAIL,
	                "[FAIL] the exchange key belongs to a custodian: the session was "
	                "ended. Fetch the new HSM's exchange key again.");
	files_form.focus = 1;
	phase = P_FILES;
}

static void finish_drill(struct wiz *w)
{
	char msg[256];

	snprintf(msg, sizeof msg,
	         "Check now with the %u good share%s in (%u required)? The report then says "
	         "whether each key is good and how many more shares would be needed.",
	         cer_recovery_good(rec), cer_recovery_good(rec) == 1 ? "" : "s",
	         cer_recovery_required(rec));
	if (ui_wiz_confirm(w, "Check the keys now", msg))
		run_verify(w);
}

/* The blob's report (the lines batch prints), framed for the custodians. */
static void show_blob(struct wiz *w, const char *hex)
{
	struct cer_report *rep = NULL;
	size_t i, width = (size_t)(w->cols > 30 ? w->cols - 8 : 72);
	int ret = cer_recovery_blob_report(blob_path, hex, ui_wiz_field_value(&f_hsm), &rep);

	ui_wiz_text_clear(&result);
	ui_wiz_text_add(&result, "[OK] restore blob written: %s", blob_path);
	ui_wiz_text_add(&result, "%s", "");
	for (i = 0; ret == CER_OK && i < cer_report_line_count(rep); i++) {
		const char *line = cer_report_line(rep, i);

		if (strncmp(line, "  ", 2) == 0)
			ui_wiz_text_add_command(&result, line + 2, width);
		else
			ui_wiz_text_add(&result, "%s", line);
	}
	if (ret != CER_OK)
		ui_wiz_text_add(&result, "SHA-256 %s", hex);
	ui_wiz_text_add(&result, "%s", "");
	ui_wiz_text_add(&result, "Every item was authenticated before writing. The shares and the");
	ui_wiz_text_add(&result,
	                "master key are wiped. Carry the blob to the admin host and check");
	ui_wiz_text_add(&result, "its SHA-256 there before the upload.");
	cer_report_free(rep);
}

static void write_blob(struct wiz *w)
{
	struct cer_progress progress = {on_step, NULL, w};
	char hex[65], msg[WIZ_FIELD_MAX + 128];
	bool force = false;
	int ret;

	snprintf(blob_path, sizeof blob_path, "%s", ui_wiz_field_value(&f_blob));
	if (blob_path[0] == '\0')
		return;
	if (cer_path_exists(blob_path)) {
		snprintf(msg, sizeof msg, "%s already exists. Replace it?", blob_path);
		if (!ui_wiz_confirm(w, "WARNING: replace a file", msg))
			return;
		force = true;
	} else {
		snprintf(msg, sizeof msg, "Write the restore blob to %s?", blob_path);
		if (!ui_wiz_confirm(w, "Write the restore blob", msg))
			return;
	}
	phase = P_WORKING;
	snprintf(prog_what, sizeof prog_what, "recovering");
	prog_done = 0;
	prog_total = 1;
	ui_wiz_redraw(w);
	ret = cer_recovery_restore_blob(rec, blob_path, force, &progress, hex);
	if (ret == CER_EIO && cer_errreason() == CER_REASON_STALE_TEMP &&
	    ui_wiz_stale_confirm(w, "recovery")) {
		ret = cer_stale_temps_remove(blob_path, true);
		if (ret == CER_OK)
			ret = cer_recovery_restore_blob(rec, blob_path, force, &progress, hex);
	}
	if (ret != CER_OK) {
		phase = P_BLOB;
		ui_wiz_error_status(w, ret);
		return;
	}
	end_session();
	show_blob(w, hex);
	phase = P_DONE;
}

static bool abandon(struct wiz *w)
{
	if (!ui_wiz_confirm(w, "Abandon",
	                    "Abandon this session? The shares collected so far are "
	                    "wiped."))
		return false;
	ui_wiz_log(w, "%s: abandoned", flow());
	end_session();
	ui_wiz_note_clear(&note);
	phase = P_FILES;
	return true;
}

static enum ui_wiz_state recover_key(struct wiz *w, int ch)
{
	enum ui_wiz_state self = drill ? WIZ_DRILL : WIZ_RECOVERY;

	if (ch == ERR)
		return self;
	switch (phase) {
	case P_FILES:
		if (ch == WIZ_KEY_ESC)
			return dcall != NULL ? dcall->back : WIZ_MENU;
		if (ui_wiz_form_key(&files_form, ch) == WIZ_FORM_SUBMIT)
			submit_files(w);
		break;
	case P_QRJOIN:
		if (ch == WIZ_KEY_ESC) {
			end_session();
			phase = P_FILES;
		} else if (ch == KEY_F(2) && ui_qrscan_available()) {
			scan_exchange(w);
		} else if (ui_wiz_is_enter(ch)) {
			submit_part(w);
		} else {
			ui_wiz_field_key(&f_part, ch);
		}
		break;
	case P_EXCHANGE:
		if (ch == 'y' || ch == 'Y')
			confirm_exchange(w, true);
		else if (ch == 'n' || ch == 'N' || ch == WIZ_KEY_ESC)
			confirm_exchange(w, false);
		else
			ui_wiz_text_key(&facts, ch, ui_wiz_bottom(w) - ui_wiz_top(w) - 6);
		break;
	case P_TURN:
		switch (ui_wiz_turn_key(w, &turn, ch)) {
		case WIZ_TURN_SHARE_IN:
			if (cer_recovery_ready(rec) && drill)
				run_verify(w);
			else if (cer_recovery_ready(rec))
				phase = P_BLOB;
			break;
		case WIZ_TURN_ABANDON: abandon(w); break;
		case WIZ_TURN_FINISH: finish_drill(w); break;
		case WIZ_TURN_GO_ON: phase = P_BLOB; break;
		case WIZ_TURN_EXCHANGE: exchange_was_custodians(w); break;
		case WIZ_TURN_NONE: break;
		}
		break;
	case P_WORKING: break;
	case P_BLOB:
		if (ch == WIZ_KEY_ESC)
			phase = P_TURN;
		else if (ui_wiz_form_key(&blob_form, ch) == WIZ_FORM_SUBMIT)
			write_blob(w);
		break;
	case P_DONE:
		if (!drill && (ch == 'q' || ch == 'Q'))
			ui_wiz_show_qr(w, blob_path);
		else if (ch == WIZ_KEY_ESC || ui_wiz_is_enter(ch) || ch == 'm')
			return dcall != NULL ? dcall->back : WIZ_MENU;
		else
			ui_wiz_text_key(&result, ch, ui_wiz_bottom(w) - ui_wiz_top(w));
		break;
	}
	return self;
}

static void recover_leave(struct wiz *w)
{
	w->drill_call = NULL;
	dcall = NULL;
	end_session();
	ui_wiz_field_free(&f_sd);
	ui_wiz_field_free(&f_exchange);
	ui_wiz_field_free(&f_hsm);
	ui_wiz_field_free(&f_attest);
	ui_wiz_field_free(&f_mrsigner);
	ui_wiz_field_free(&f_certs);
	ui_wiz_field_free(&f_part);
	ui_wiz_turn_free(&turn);
	ui_wiz_field_free(&f_blob);
	ui_wiz_text_clear(&result);
	ui_wiz_text_clear(&facts);
}

const struct ui_wiz_screen ui_wiz_recovery_screen = {
        .title = "recovery",
        .init = recovery_init,
        .draw = recover_draw,
        .key = recover_key,
        .leave = recover_leave,
};

const struct ui_wiz_screen ui_wiz_drill_screen = {
        .title = "DR drill (writes nothing)",
        .init = drill_init,
        .draw = recover_draw,
        .key = recover_key,
        .leave = recover_leave,
};
