#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"
#include "ceremony/qr.h"
#include "ui/qrview.h"
#include "ui/wiz.h"

static struct ui_wiz_field path;
static struct ui_wiz_form form;

void ui_wiz_show_qr(struct wiz *w, const char *file)
{
	uint8_t *data = NULL, digest[CER_SHA256_LEN];
	size_t len = 0;
	char hex[2 * CER_SHA256_LEN + 1];
	int ret = cer_file_read(file, CER_QR_MAX_FILE, &data, &len);

	if (ret == CER_OK)
		ret = cer_sha256(data, len, digest);
	if (ret == CER_OK) {
		cer_hex_encode(digest, sizeof digest, hex);
		ret = ui_qr_view_data(data, len, CER_QR_EC_L, file);
		if (ret == CER_OK)
			ui_wiz_log(w, "qr display: %s sha256 %s (%zu bytes)", file, hex, len);
		else
			ret = cer_fail_context(ret, file);
	}
	free(data);
	keypad(stdscr, TRUE);
	timeout(WIZ_TICK_MS);
	clearok(stdscr, TRUE);
	if (ret != CER_OK) {
		ui_wiz_error_status(w, ret);
		ui_wiz_log(w, "qr display: [FAIL] %s", cer_errmsg());
	}
	ui_wiz_redraw(w);
}

static void qrshow_init(struct wiz *w)
{
	(void)w;
	form = (struct ui_wiz_form){0};
	if (ui_wiz_field_init(&path, "File to show", WF_PATH) != CER_OK)
		return;
	ui_wiz_form_add(&form, &path);
}

static void qrshow_draw(struct wiz *w)
{
	int y = ui_wiz_top(w);

	ui_wiz_help(w, "Enter: show   Tab: complete path   Esc: menu");
	y = ui_wiz_wrap(w, y, 2, WC_NORMAL,
	                "Show a public file (a certificate, the download package, a restore blob) "
	                "as a sequence of QR codes for a phone or webcam on the other side of the "
	                "air gap; join the scanned parts there with 'sdceremony qr join'. "
	                "Never show a private key.") +
	    1;
	ui_wiz_form_draw(w, &form, y);
}

static enum ui_wiz_state qrshow_key(struct wiz *w, int ch)
{
	if (ch == WIZ_KEY_ESC)
		return WIZ_MENU;
	if (ch != ERR && ui_wiz_form_key(&form, ch) == WIZ_FORM_SUBMIT) {
		if (ui_wiz_field_value(&path)[0] == '\0')
			ui_wiz_error(w, "The file is missing", "Type the path of the file to show.");
		else
			ui_wiz_show_qr(w, ui_wiz_field_value(&path));
	}
	return WIZ_QRSHOW;
}

static void qrshow_leave(struct wiz *w)
{
	(void)w;
	ui_wiz_field_free(&path);
}

const struct ui_wiz_screen ui_wiz_qrshow_screen = {
        .title = "show a file as QR codes",
        .init = qrshow_init,
        .draw = qrshow_draw,
        .key = qrshow_key,
        .leave = qrshow_leave,
};
