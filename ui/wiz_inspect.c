#include <curses.h>
#include <stdio.h>

#include "ceremony/report.h"
#include "ui/wiz.h"

static struct ui_wiz_field sd_file, certs_dir;
static struct ui_wiz_form form;
static struct ui_wiz_text text;
static bool showing;

static void inspect_init(struct wiz *w)
{
	(void)w;
	form = (struct ui_wiz_form){0};
	if (ui_wiz_field_init(&sd_file, "Security-domain file", WF_PATH) != CER_OK ||
	    ui_wiz_field_init(&certs_dir, "Certificates dir (optional)", WF_PATH) != CER_OK)
		return;
	ui_wiz_form_add(&form, &sd_file);
	ui_wiz_form_add(&form, &certs_dir);
	ui_wiz_text_clear(&text);
	showing = false;
}

static void inspect_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	if (showing) {
		ui_wiz_help(w, "Up/Down/PgUp/PgDn: scroll   Esc: back   m: menu");
		ui_wiz_text_draw(w, &text, y, ui_wiz_bottom(w) - 1);
		return;
	}
	ui_wiz_help(w, "Enter: next/inspect   Tab: complete path   Up/Down: field   Esc: menu");
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Describe a security-domain file: version, quorum, shares and items. "
	                "No key is needed. With a certificates directory, each share is matched "
	                "to its certificate file.") +
	    1;
	ui_wiz_form_draw(w, &form, y);
}

static void run_inspect(struct wiz *w)
{
	struct cer_report *r = NULL;
	const char *dir = ui_wiz_field_value(&certs_dir);
	int ret;
	size_t i;

	if (ui_wiz_field_value(&sd_file)[0] == '\0') {
		ui_wiz_error(w, "The file is missing", "Type the security-domain file's path.");
		form.focus = 0;
		return;
	}
	ui_wiz_busy(w, "Reading the security-domain file...");
	ret = cer_inspect(ui_wiz_field_value(&sd_file), dir[0] != '\0' ? dir : NULL,
	                  ui_wiz_transcript(w), &r);
	if (ret == CER_EIO && cer_errreason() == CER_REASON_TRANSCRIPT) {
		cer_report_free(r); /* the report stands, its record is lost */
		ui_wiz_transcript_lost(w);
		return;
	}
	if (r == NULL) {
		ui_wiz_error_status(w, ret);
		form.focus = 0;
		return;
	}
	ui_wiz_text_clear(&text);
	ui_wiz_text_add(&text, "%s",
	                ret == CER_OK ? "[OK] well-formed"
	                              : "[FAIL] the file has malformed parts (listed below)");
	for (i = 0; i < cer_report_line_count(r); i++)
		ui_wiz_text_add(&text, "%s", cer_report_line(r, i));
	cer_report_free(r);
	showing = true;
}

static enum ui_wiz_state inspect_key(struct wiz *w, int ch)
{
	if (showing) {
		if (ch == WIZ_KEY_ESC)
			showing = false;
		else if (ch == 'm')
			return WIZ_MENU;
		else
			ui_wiz_text_key(&text, ch, ui_wiz_bottom(w) - ui_wiz_top(w));
		return WIZ_INSPECT;
	}
	if (ch == WIZ_KEY_ESC)
		return WIZ_MENU;
	if (ch != ERR && ui_wiz_form_key(&form, ch) == WIZ_FORM_SUBMIT)
		run_inspect(w);
	return WIZ_INSPECT;
}

static void inspect_leave(struct wiz *w)
{
	(void)w;
	ui_wiz_field_free(&sd_file);
	ui_wiz_field_free(&certs_dir);
	ui_wiz_text_clear(&text);
}

const struct ui_wiz_screen ui_wiz_inspect_screen = {
        .title = "inspect a security-domain file",
        .init = inspect_init,
        .draw = inspect_draw,
        .key = inspect_key,
        .leave = inspect_leave,
};
