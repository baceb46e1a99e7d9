#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "ui/wiz.h"

/*
 * Modal dialogs: a bordered box over a cleared area, in plain words, with the
 * keys they take on their last line.  They handle resize themselves and
 * return at once when the wizard is stopping.
 */

struct dialog {
	const char *title, *msg, *keys;
	enum ui_wiz_color color;
};

/* A bordered box over a cleared area one cell wider, so that nothing of the
 * screen below shows around it. */
static void draw_box(struct wiz *w, int y, int x, int h, int width, enum ui_wiz_color c)
{
	int i;

	attrset(A_NORMAL);
	for (i = y - 1; i <= y + h; i++)
		if (i >= 0 && i < w->rows)
			mvhline(i, x > 0 ? x - 1 : 0, ' ', width + 2);
	attrset(ui_wiz_attr(c));
	for (i = y; i < y + h; i++)
		mvhline(i, x, ' ', width);
	mvaddch(y, x, ACS_ULCORNER);
	mvhline(y, x + 1, ACS_HLINE, width - 2);
	mvaddch(y, x + width - 1, ACS_URCORNER);
	mvvline(y + 1, x, ACS_VLINE, h - 2);
	mvvline(y + 1, x + width - 1, ACS_VLINE, h - 2);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvhline(y + h - 1, x + 1, ACS_HLINE, width - 2);
	mvaddch(y + h - 1, x + width - 1, ACS_LRCORNER);
}

static void draw_dialog(struct wiz *w)
{
	const struct dialog *d = w->overlay_ctx;
	const char *start[WIZ_WRAP_MAX];
	int len[WIZ_WRAP_MAX], n, i, y;
	int width = w->cols - 10, x = 5;

	n = ui_wiz_split_lines(d->msg, width - 6, start, len, WIZ_WRAP_MAX);
	if (n > w->rows - 10)
		n = w->rows - 10;
	y = (w->rows - n - 6) / 2;
	draw_box(w, y, x, n + 6, width, d->color);
	attrset(ui_wiz_attr(d->color) | A_BOLD);
	mvaddnstr(y + 1, x + 3, d->title, width - 6);
	attrset(ui_wiz_attr(d->color));
	for (i = 0; i < n; i++)
		mvaddnstr(y + 3 + i, x + 3, start[i], len[i]);
	attrset(ui_wiz_attr(d->color) | A_BOLD);
	mvaddnstr(y + n + 4, x + 3, d->keys, width - 6);
	attrset(A_NORMAL);
}

static int run_dialog(struct wiz *w, const struct dialog *d, const char *accept)
{
	int ch;
	void (*saved)(struct wiz *) = w->overlay;
	const void *saved_ctx = w->overlay_ctx;

	w->overlay = draw_dialog;
	w->overlay_ctx = d;
	ui_wiz_redraw(w);
	for (;;) {
		ch = ui_wiz_getch(w);
		if (ch == WIZ_KEY_STOP)
			break;
		if (ch == ERR || ch == KEY_RESIZE)
			continue;
		if (ch == WIZ_KEY_ESC || (ch > 0 && ch < 256 && strchr(accept, ch) != NULL) ||
		    (ui_wiz_is_enter(ch) && strchr(accept, '\n') != NULL))
			break;
	}
	w->overlay = saved;
	w->overlay_ctx = saved_ctx;
	ui_wiz_redraw(w);
	return ch;
}

void ui_wiz_error(struct wiz *w, const char *title, const char *msg)
{
	struct dialog d = {title, msg, "[Enter] OK", WC_WARN};

	run_dialog(w, &d, "\n ");
}

const char *ui_wiz_status_title(int status)
{
	switch (status) {
	case CER_EUSAGE: return "Please check what was typed";
	case CER_EINPUT: return "This file cannot be used";
	case CER_EAUTH: return "Not accepted";
	case CER_EIO: return "A file cannot be read or written";
	case CER_EQUORUM: return "Not enough shares yet";
	case CER_ENOLOCK: return "Memory cannot be locked";
	default: return "Something went wrong inside the tool";
	}
}

void ui_wiz_error_status(struct wiz *w, int status)
{
	const char *msg = cer_errmsg();

	ui_wiz_error(w, ui_wiz_status_title(status),
	             msg[0] != '\0' ? msg : ui_wiz_status_title(status));
}

bool ui_wiz_confirm(struct wiz *w, const char *title, const char *msg)
{
	struct dialog d = {title, msg, "[y] yes    [n] no    [Esc] back", WC_DIALOG};
	int ch = run_dialog(w, &d, "yYnN");

	return ch == 'y' || ch == 'Y';
}

bool ui_wiz_stale_confirm(struct wiz *w, const char *flow)
{
	char msg[1200];

	snprintf(msg, sizeof msg, "%s\n\nRemove what the interrupted run left and go on?",
	         cer_errmsg());
	if (!ui_wiz_confirm(w, "An interrupted run left files behind", msg))
		return false;
	ui_wiz_log(w, "%s: the operator removed what an interrupted run left: %s", flow,
	           cer_errmsg());
	return true;
}

void ui_wiz_busy(struct wiz *w, const char *msg)
{
	int width = (int)strlen(msg) + 6, x, y = w->rows / 2 - 1;

	if (width > w->cols - 4)
		width = w->cols - 4;
	x = (w->cols - width) / 2;
	draw_box(w, y, x, 3, width, WC_DIALOG);
	attrset(ui_wiz_attr(WC_DIALOG) | A_BOLD);
	mvaddnstr(y + 1, x + 3, msg, width - 6);
	attrset(A_NORMAL);
	refresh();
}
