#include "ui/qrview.h"

#include <curses.h>
#include <errno.h>
#include <termios.h>
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ui/ui.h"

#define VIEW_QUIET 2u
/* Status and SHA-256 lines above the code, the key help below. */
#define VIEW_TEXT_LINES 3
#define PACE_MIN 500
#define PACE_MAX 10000
#define PACE_STEP 500
#define PACE_START 2000

struct view {
	const struct cer_qr_set *set;
	const char *title;
	WINDOW *win;
	unsigned idx;
	bool paused, inverted, colour;
	int pace_ms;
	char **lines;
	unsigned nlines, cols, lines_for;
	bool have_lines;
	bool drawable;
};

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static int render(struct view *v)
{
	struct cer_qr_code code;
	int ret;

	if (v->have_lines && v->lines_for == v->idx)
		return CER_OK;
	cer_qr_lines_free(v->lines, v->nlines);
	v->lines = NULL;
	v->nlines = 0;
	v->have_lines = false;
	ret = cer_qr_encode(v->set->parts[v->idx], v->set->ec, &code);
	if (ret != CER_OK)
		return ret;
	ret = cer_qr_halfblock(&code, VIEW_QUIET, true, &v->lines, &v->nlines);
	v->cols = code.width + 2 * VIEW_QUIET;
	cer_qr_code_free(&code);
	if (ret != CER_OK)
		return ret;
	v->have_lines = true;
	v->lines_for = v->idx;
	return CER_OK;
}

static void draw(struct view *v)
{
	int h, w, top, left;
	unsigned i;
	char status[256];
	attr_t qr_attr = v->colour ? COLOR_PAIR(UI_QRVIEW_PAIR) : A_NORMAL;

	getmaxyx(v->win, h, w);
	werase(v->win);
	if (v->set->count < 2)
		snprintf(status, sizeof status, "part 1 of 1 - %s", v->title);
	else if (v->paused)
		snprintf(status, sizeof status, "part %u of %u - paused - %s", v->idx + 1,
		         v->set->count, v->title);
	else
		snprintf(status, sizeof status, "part %u of %u - next in %d.%d s - %s", v->idx + 1,
		         v->set->count, v->pace_ms / 1000, v->pace_ms % 1000 / 100, v->title);
	mvwaddnstr(v->win, 0, 0, status, w);
	snprintf(status, sizeof status, "sha256 %s  (%zu bytes)", v->set->sha256_hex,
	         v->set->file_len);
	mvwaddnstr(v->win, 1, 0, status, w);
	mvwaddnstr(v->win, h - 1, 0,
	           "Left/Right step  Space pause  +/- pace  Home/End  i invert  q quit", w);
	v->drawable = false;
	if (render(v) != CER_OK) {
		mvwaddnstr(v->win, 3, 0, cer_errmsg(), w);
	} else if ((int)v->nlines > h - VIEW_TEXT_LINES || (int)v->cols > w) {
		char msg[200];

		mvwaddnstr(v->win, 3, 0, "The window is too small for this code:", w);
		snprintf(msg, sizeof msg, "it needs %u columns and %u lines, it has %d x %d.",
		         v->cols, v->nlines + VIEW_TEXT_LINES, w, h);
		mvwaddnstr(v->win, 4, 0, msg, w);
		mvwaddnstr(v->win, 5, 0, "Enlarge it or use a smaller font; 'qr show FILE'", w);
		mvwaddnstr(v->win, 6, 0, "splits the file to fit the window.", w);
		mvwaddnstr(v->win, 7, 0, "Auto-advance waits until the code fits.", w);
	} else {
		v->drawable = true;
		top = 2 + (h - VIEW_TEXT_LINES - (int)v->nlines) / 2;
		left = (w - (int)v->cols) / 2;
		if (v->inverted)
			qr_attr |= A_REVERSE;
		wattron(v->win, qr_attr);
		for (i = 0; i < v->nlines; i++)
			mvwaddstr(v->win, top + (int)i, left, v->lines[i]);
		wattroff(v->win, qr_attr);
	}
	wnoutrefresh(v->win);
	doupdate();
}

static void step(struct view *v, int delta)
{
	unsigned n = v->set->count;

	v->idx = (unsigned)(((int)v->idx + delta + (int)n) % (int)n);
}

static bool terminal_gone(void)
{
	struct termios t;

	return tcgetattr(STDIN_FILENO, &t) != 0 && errno != EINTR;
}

static int loop(struct view *v)
{
	for (;;) {
		int ch;

		draw(v);
		if (v->paused || v->set->count < 2)
			wtimeout(v->win, -1);
		else
			wtimeout(v->win, v->drawable ? v->pace_ms : 1000);
		ch = wgetch(v->win);
		switch (ch) {
		case ERR:
			if (terminal_gone())
				return cer_fail(CER_EIO, "the terminal is gone");
			if (!v->paused && v->set->count > 1 && v->drawable)
				step(v, 1);
			break;
		case KEY_RIGHT: case KEY_DOWN: case KEY_NPAGE: case 'n': case 'l': case 'j':
			step(v, 1);
			break;
		case KEY_LEFT: case KEY_UP: case KEY_PPAGE: case 'p': case 'h': case 'k':
		case KEY_BACKSPACE:
			step(v, -1);
			break;
		case KEY_HOME: case 'g':
			v->idx = 0;
			break;
		case KEY_END: case 'G':
			v->idx = v->set->count - 1;
			break;
		case ' ':
			v->paused = !v->paused;
			break;
		case '+': case '=':
			if (v->pace_ms > PACE_MIN)
				v->pace_ms -= PACE_STEP;
			break;
		case '-': case '_':
			if (v->pace_ms < PACE_MAX)
				v->pace_ms += PACE_STEP;
			break;
		case 'i':
			v->inverted = !v->inverted;
			break;
		case KEY_RESIZE:
			wresize(v->win, LINES, COLS);
			clearok(v->win, TRUE);
			break;
		case 'q': case 'Q': case 27:
			return CER_OK;
		default:
			break;
		}
	}
}

static void setup_colour(struct view *v)
{
	v->colour = false;
	if (!has_colors())
		return;
	if (COLORS == 0 && start_color() != OK)
		return;
	if (COLOR_PAIRS <= UI_QRVIEW_PAIR)
		return;
	if (init_pair(UI_QRVIEW_PAIR, COLORS >= 16 ? 15 : COLOR_WHITE, COLOR_BLACK) != OK)
		return;
	v->colour = true;
}

int ui_qr_view(const struct cer_qr_set *parts, const char *title)
{
	struct view v = { .set = parts, .title = title, .pace_ms = PACE_START };
	bool started = false, resumed = false;
	int ret = CER_OK, cursor = ERR;

	if (parts == NULL || parts->count == 0)
		return cer_fail(CER_EUSAGE, "no QR parts to show");
	if (stdscr == NULL) {
		if (!ui_interactive())
			return cer_fail(CER_EUSAGE, "showing QR codes needs a terminal (use 'qr split' "
			                            "to write images instead)");
		setlocale(LC_ALL, "");
		if (!utf8_locale() && setlocale(LC_CTYPE, "C.UTF-8") == NULL)
			return cer_fail(CER_EUSAGE, "showing QR codes needs a UTF-8 locale "
			                            "(e.g. LANG=C.UTF-8)");
		if (initscr() == NULL)
			return cer_fail(CER_EINTERNAL, "cannot start the terminal screen");
		started = true;
		cbreak();
		noecho();
		nonl();
		set_escdelay(50);
	} else if (isendwin()) {
		refresh();
		resumed = true;
	}
	if (!utf8_locale()) {
		ret = cer_fail(CER_EUSAGE, "showing QR codes needs a UTF-8 locale (e.g. LANG=C.UTF-8)");
		goto out;
	}
	setup_colour(&v);
	v.win = newwin(0, 0, 0, 0);
	if (v.win == NULL) {
		ret = cer_fail(CER_EINTERNAL, "cannot create a window for the QR codes");
		goto out;
	}
	keypad(v.win, TRUE);
	cursor = curs_set(0);
	ret = loop(&v);
out:
	cer_qr_lines_free(v.lines, v.nlines);
	if (v.win != NULL)
		delwin(v.win);
	if (cursor != ERR)
		curs_set(cursor);
	if (started || resumed) {
		endwin();
	} else {
		touchwin(stdscr);
		wnoutrefresh(stdscr);
	}
	return ret;
}

static void terminal_size(int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	} else {
		*rows = 24;
		*cols = 80;
	}
}

int ui_qr_view_data(const uint8_t *data, size_t len, enum cer_qr_ec ec, const char *title)
{
	struct cer_qr_set set = { 0 };
	int rows, cols, ret;
	unsigned fit;
	bool own = stdscr == NULL;

	if (own) {
		if (!ui_interactive())
			return cer_fail(CER_EUSAGE, "showing QR codes needs a terminal (use 'qr split' "
			                            "to write images instead)");
		terminal_size(&rows, &cols);
	} else {
		getmaxyx(stdscr, rows, cols);
	}
	fit = (unsigned)(2 * (rows - VIEW_TEXT_LINES) - 1 < cols ? 2 * (rows - VIEW_TEXT_LINES) - 1
	                                                         : cols);
	fit = rows > VIEW_TEXT_LINES + 1 && fit > 2 * VIEW_QUIET ? fit - 2 * VIEW_QUIET : 0;
	ret = cer_qr_split_fit(data, len, ec, fit, &set);
	if (ret == CER_OK)
		ret = ui_qr_view(&set, title);
	cer_qr_set_free(&set);
	return ret;
}
