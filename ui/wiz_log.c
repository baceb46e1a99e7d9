#include <stdarg.h>
#include <stdio.h>

#include "ceremony/io.h"
#include "ceremony/recovery.h"
#include "ceremony/transcript.h"
#include "ui/wiz.h"

/*
 * The wizard's transcript: opened at the first record, one line per record,
 * never a secret.  It is the session's record for the witnesses, so a
 * failure to write it stops the session.
 */

/* The transcript is the session's record for the witnesses: once it cannot
 * be written, the wizard says so and stops (secrets wiped, exit 5). */
static void transcript_failed(struct wiz *w)
{
	char msg[1024];

	w->transcript_failed = true;
	snprintf(msg, sizeof msg,
	         "%s\n\nThe transcript is the record of this session, so the wizard stops "
	         "now. Secrets are wiped. Fix the cause (for example free disk space), then "
	         "start again.",
	         cer_errmsg());
	ui_wiz_error(w, "The transcript cannot be written", msg);
	ui_wiz_stop_session();
}

static bool transcript_ready(struct wiz *w)
{
	int ret;

	if (w->transcript != NULL)
		return true;
	if (w->transcript_failed)
		return false;
	ret = cer_transcript_open(w->transcript_path, &w->transcript);
	if (ret != CER_OK) {
		transcript_failed(w);
		return false;
	}
	return true;
}

void ui_wiz_log(struct wiz *w, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!transcript_ready(w))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (cer_transcript_add(w->transcript, "%s", line) != CER_OK) {
		cer_transcript_close(w->transcript);
		w->transcript = NULL;
		transcript_failed(w);
	}
}

void ui_wiz_log_file(struct wiz *w, const char *what, const char *path)
{
	char hex[65];

	if (cer_file_sha256_hex(path, hex) == CER_OK)
		ui_wiz_log(w, "%s: %s sha256 %s", what, path, hex);
	else
		ui_wiz_log(w, "%s: %s (cannot hash: %s)", what, path, cer_errmsg());
}

void ui_wiz_log_report(struct wiz *w, const struct cer_report *r)
{
	if (r == NULL || !transcript_ready(w))
		return;
	if (cer_transcript_add_report(w->transcript, r) != CER_OK) {
		cer_transcript_close(w->transcript);
		w->transcript = NULL;
		transcript_failed(w);
	}
}

struct cer_transcript *ui_wiz_transcript(struct wiz *w)
{
	return transcript_ready(w) ? w->transcript : NULL;
}

void ui_wiz_transcript_lost(struct wiz *w)
{
	if (!w->transcript_failed)
		transcript_failed(w);
}

bool ui_wiz_recovery_transcript(struct wiz *w, struct cer_recovery *rec, const char *flow,
                                const char *sd_label)
{
	if (!transcript_ready(w))
		return false;
	if (cer_recovery_set_transcript(rec, w->transcript, flow, sd_label) != CER_OK) {
		transcript_failed(w);
		return false;
	}
	return true;
}

void ui_wiz_recovery_recorded(struct wiz *w, const struct cer_recovery *rec)
{
	if (!w->transcript_failed && cer_recovery_transcript_status(rec) != CER_OK)
		transcript_failed(w);
}
