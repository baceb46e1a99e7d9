#include "ui/qrview.h"

#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <termios.h>
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/ui.h"

#define VIEW_QUIET 2u
/* Status and SHA-256 lines above the code, the key help below. */
#define VIEW_TEXT_LINES 3
/* A window too small for that keeps one line: part number and SHA-256. */
#define VIEW_MIN_TEXT_LINES 1
#define PACE_MIN 500
#define PACE_MAX 10000
#define PACE_STEP 500
#define PACE_START 2000

struct view {
	const struct cer_qr_set *set; /* what is shown: given, or own */
	const struct cer_qr_set *given;
	struct cer_qr_set own; /* the file split for this window */
	const uint8_t *data;   /* the file, or NULL: given is shown as it is */
	size_t len;
	enum cer_qr_ec ec;
	bool resplit, intro;
	unsigned given_widest, widest;
	unsigned fewest, fewest_widest;
	char sha256_hex[65];
	size_t file_len;
	char fit_error[256];
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

static unsigned version_of(unsigned width)
{
	return width >= 21 ? (width - 17) / 4 : 0;
}

int ui_qr_wrap(WINDOW *win, int y, int x, const char *text)
{
	int h, w, len = (int)strlen(text);

	getmaxyx(win, h, w);
	w -= 2 * x;
	if (w < 10)
		w = 10;
	while (len > 0 && y < h - 1) {
		int n = len <= w ? len : w, b = n;

		if (len > w) {
			while (b > 0 && text[b] != ' ')
				b--;
			if (b > 0)
				n = b;
		}
		mvwaddnstr(win, y++, x, text, n);
		text += n;
		len -= n;
		while (len > 0 && *text == ' ') {
			text++;
			len--;
		}
	}
	return y;
}

/* The widest code of a set, in modules (UINT_MAX if one cannot be encoded). */
static unsigned widest_code(const struct cer_qr_set *set)
{
	unsigned i, widest = 0;

	for (i = 0; i < set->count; i++) {
		struct cer_qr_code code;

		if (cer_qr_encode(set->parts[i], set->ec, &code) != CER_OK)
			return UINT_MAX;
		if (code.width > widest)
			widest = code.width;
		cer_qr_code_free(&code);
	}
	return widest;
}

/* Widest code that a window of rows x cols draws, with one text line. */
static unsigned room_for(int rows, int cols)
{
	int by_rows = 2 * (rows - VIEW_MIN_TEXT_LINES) - 2 * (int)VIEW_QUIET;
	int by_cols = cols - 2 * (int)VIEW_QUIET;
	int fit = by_rows < by_cols ? by_rows : by_cols;

	return fit > 0 ? (unsigned)fit : 0;
}

/* Window columns and lines a code of width modules needs (one text line). */
static void needs(unsigned width, unsigned *cols, unsigned *lines)
{
	*cols = width + 2 * VIEW_QUIET;
	*lines = (width + 2 * VIEW_QUIET + 1) / 2 + VIEW_MIN_TEXT_LINES;
}

/*
 * Chooses what to show in a window of rows x cols: the given parts when
 * their codes fit, else the file split again to fit.
 */
static void fit(struct view *v, int rows, int cols)
{
	unsigned room = room_for(rows, cols);

	cer_qr_lines_free(v->lines, v->nlines);
	v->lines = NULL;
	v->nlines = 0;
	v->have_lines = false;
	v->fit_error[0] = '\0';
	if (v->set == &v->own)
		v->set = NULL;
	cer_qr_set_free(&v->own);
	v->resplit = false;
	if (v->given != NULL && (v->given_widest <= room || v->data == NULL)) {
		v->set = v->given;
		v->widest = v->given_widest;
	} else if (cer_qr_split_fit(v->data, v->len, v->ec, room, &v->own) == CER_OK) {
		v->set = &v->own;
		v->widest = widest_code(&v->own);
		v->resplit = v->given != NULL;
	} else {
		snprintf(v->fit_error, sizeof v->fit_error, "%s", cer_errmsg());
		v->set = v->given;
		v->widest = v->given_widest;
	}
	if (v->set != NULL && v->idx >= v->set->count)
		v->idx = 0;
}

static void draw_intro(struct view *v)
{
	char msg[900];
	int h, w, y = 1;
	unsigned c, l;

	getmaxyx(v->win, h, w);
	werase(v->win);
	snprintf(msg, sizeof msg, "Show %s as QR codes", v->title);
	wattron(v->win, A_BOLD);
	y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	wattroff(v->win, A_BOLD);
	snprintf(msg, sizeof msg, "SHA-256 %s (%zu bytes): compare it with the receiver's.",
	         v->sha256_hex, v->file_len);
	y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	if (v->fit_error[0] != '\0' || v->set == NULL) {
		snprintf(msg, sizeof msg, "This window (%d x %d) is too small for any code: %s.", w,
		         h, v->fit_error);
		y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	} else {
		snprintf(msg, sizeof msg,
		         "%u part%s at this window size (%d x %d), one QR code each, up to version "
		         "%u.",
		         v->set->count, v->set->count > 1 ? "s" : "", w, h, version_of(v->widest));
		y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	}
	if (v->resplit) {
		needs(v->given_widest, &c, &l);
		snprintf(msg, sizeof msg,
		         "The %u codes of %s need a window of %u x %u: this window shows the file "
		         "split again, into %u. A receiver must not mix them with %s's images.",
		         v->given->count, v->title, c, l, v->set->count, v->title);
		y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	}
	if (v->fewest > 0 && (v->set == NULL || v->set->count > v->fewest)) {
		needs(v->fewest_widest, &c, &l);
		if (v->given != NULL)
			snprintf(
			        msg, sizeof msg,
			        "For fewer codes: a larger window or a smaller font (%u x %u shows "
			        "the fewest, %u), or %s/index.html in a browser (the same %u "
			        "codes, "
			        "a fast mode for cameras).",
			        c, l, v->fewest, v->title, v->fewest);
		else
			snprintf(
			        msg, sizeof msg,
			        "For fewer codes: a larger window or a smaller font (%u x %u shows "
			        "the fewest, %u), or 'sdceremony qr split FILE --out DIR' and "
			        "DIR/index.html in a browser (%u codes, a fast mode for cameras).",
			        c, l, v->fewest, v->fewest);
		y = ui_qr_wrap(v->win, y, 2, msg) + 1;
	}
	if (v->set != NULL && v->fit_error[0] == '\0') {
		snprintf(msg, sizeof msg, "Enter shows part 1 of %u.", v->set->count);
		ui_qr_wrap(v->win, y, 2, msg);
	}
	mvwaddnstr(v->win, h - 1, 0,
	           "Enter start  Left/Right step  Space pause  +/- pace  i invert  q quit", w);
	wnoutrefresh(v->win);
	doupdate();
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
	int h, w, top, left, text_lines;
	unsigned i;
	char status[256];
	attr_t qr_attr = v->colour ? COLOR_PAIR(UI_QRVIEW_PAIR) : A_NORMAL;

	if (v->intro || v->set == NULL) {
		draw_intro(v);
		return;
	}
	getmaxyx(v->win, h, w);
	werase(v->win);
	v->drawable = false;
	if (render(v) != CER_OK) {
		mvwaddnstr(v->win, 0, 0, cer_errmsg(), w);
		wnoutrefresh(v->win);
		doupdate();
		return;
	}
	text_lines = (int)v->nlines + VIEW_TEXT_LINES <= h ? VIEW_TEXT_LINES : VIEW_MIN_TEXT_LINES;
	if (text_lines == VIEW_TEXT_LINES) {
		if (v->set->count < 2)
			snprintf(status, sizeof status, "part 1 of 1 - %s", v->title);
		else if (v->paused)
			snprintf(status, sizeof status, "part %u of %u - paused - %s", v->idx + 1,
			         v->set->count, v->title);
		else
			snprintf(status, sizeof status, "part %u of %u - next in %d.%d s - %s",
			         v->idx + 1, v->set->count, v->pace_ms / 1000,
			         v->pace_ms % 1000 / 100, v->title);
		mvwaddnstr(v->win, 0, 0, status, w);
		snprintf(status, sizeof status, "sha256 %s  (%zu bytes)", v->set->sha256_hex,
		         v->set->file_len);
		mvwaddnstr(v->win, 1, 0, status, w);
		mvwaddnstr(v->win, h - 1, 0,
		           "Left/Right step  Space pause  +/- pace  Home/End  i invert  q quit", w);
	} else {
		/* Tight: one line, the SHA-256 as far as it goes (in full on the intro). */
		snprintf(status, sizeof status, "part %u of %u%s - sha256 %s", v->idx + 1,
		         v->set->count, v->paused ? " - paused" : "", v->set->sha256_hex);
		mvwaddnstr(v->win, 0, 0, status, w);
	}
	if ((int)v->nlines + text_lines > h || (int)v->cols > w) {
		char msg[200];

		mvwaddnstr(v->win, 2, 0, "The window is too small for this code:", w);
		snprintf(msg, sizeof msg, "it needs %u columns and %u lines, it has %d x %d.",
		         v->cols, v->nlines + VIEW_MIN_TEXT_LINES, w, h);
		mvwaddnstr(v->win, 3, 0, msg, w);
		mvwaddnstr(v->win, 4, 0, "Enlarge it or use a smaller font, or leave (q)", w);
		mvwaddnstr(v->win, 5, 0, "and show again to split the file for this window.", w);
		mvwaddnstr(v->win, 6, 0, "Auto-advance waits until the code fits.", w);
	} else {
		v->drawable = true;
		if (text_lines == VIEW_TEXT_LINES)
			top = 2 + (h - VIEW_TEXT_LINES - (int)v->nlines) / 2;
		else
			top = 1 + (h - VIEW_MIN_TEXT_LINES - (int)v->nlines) / 2;
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

static int intro_key(struct view *v, int ch)
{
	int rows, cols;

	switch (ch) {
	case ERR:
		if (terminal_gone())
			return cer_fail(CER_EIO, "the terminal is gone");
		return -1;
	case KEY_RESIZE:
		wresize(v->win, LINES, COLS);
		clearok(v->win, TRUE);
		getmaxyx(v->win, rows, cols);
		if (v->data != NULL)
			fit(v, rows, cols);
		return -1;
	case 'q':
	case 'Q':
	case 27: return CER_OK;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (v->set != NULL && v->fit_error[0] == '\0')
			v->intro = false;
		return -1;
	default: return -1;
	}
}

static int loop(struct view *v)
{
	for (;;) {
		int ch;

		draw(v);
		if (v->intro || v->set == NULL) {
			int ret;

			wtimeout(v->win, 1000);
			ret = intro_key(v, wgetch(v->win));
			if (ret >= 0)
				return ret;
			continue;
		}
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
		case KEY_RIGHT:
		case KEY_DOWN:
		case KEY_NPAGE:
		case 'n':
		case 'l':
		case 'j': step(v, 1); break;
		case KEY_LEFT:
		case KEY_UP:
		case KEY_PPAGE:
		case 'p':
		case 'h':
		case 'k':
		case KEY_BACKSPACE: step(v, -1); break;
		case KEY_HOME:
		case 'g': v->idx = 0; break;
		case KEY_END:
		case 'G': v->idx = v->set->count - 1; break;
		case ' ': v->paused = !v->paused; break;
		case '+':
		case '=':
			if (v->pace_ms > PACE_MIN)
				v->pace_ms -= PACE_STEP;
			break;
		case '-':
		case '_':
			if (v->pace_ms < PACE_MAX)
				v->pace_ms += PACE_STEP;
			break;
		case 'i': v->inverted = !v->inverted; break;
		case KEY_RESIZE:
			wresize(v->win, LINES, COLS);
			clearok(v->win, TRUE);
			break;
		case 'q':
		case 'Q':
		case 27: return CER_OK;
		default: break;
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

/*
 * The fewest codes: the file split with the default part size.  Fails as
 * split does (a private key, a file too large), before any screen is drawn.
 */
static int fewest(struct view *v)
{
	struct cer_qr_set set;
	int ret;

	if (v->given != NULL) {
		v->given_widest = widest_code(v->given);
		v->fewest = v->given->count;
		v->fewest_widest = v->given_widest;
		memcpy(v->sha256_hex, v->given->sha256_hex, sizeof v->sha256_hex);
		v->file_len = v->given->file_len;
	}
	if (v->data == NULL)
		return CER_OK;
	ret = cer_qr_split(v->data, v->len, cer_qr_default_max_bytes(v->ec), v->ec, &set);
	if (ret != CER_OK)
		return ret;
	memcpy(v->sha256_hex, set.sha256_hex, sizeof v->sha256_hex);
	v->file_len = set.file_len;
	if (v->given == NULL || set.count < v->fewest) {
		v->fewest = set.count;
		v->fewest_widest = widest_code(&set);
	}
	cer_qr_set_free(&set);
	return CER_OK;
}

static int show(struct view *v)
{
	bool started = false, resumed = false;
	int ret = CER_OK, cursor = ERR, rows, cols;

	if (stdscr == NULL && !ui_interactive())
		return cer_fail(CER_EUSAGE, "showing QR codes needs a terminal (use 'qr split' "
		                            "to write images instead)");
	ret = fewest(v);
	if (ret != CER_OK)
		return ret;
	if (stdscr == NULL) {
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
		ret = cer_fail(CER_EUSAGE,
		               "showing QR codes needs a UTF-8 locale (e.g. LANG=C.UTF-8)");
		goto out;
	}
	setup_colour(v);
	v->win = newwin(0, 0, 0, 0);
	if (v->win == NULL) {
		ret = cer_fail(CER_EINTERNAL, "cannot create a window for the QR codes");
		goto out;
	}
	keypad(v->win, TRUE);
	cursor = curs_set(0);
	getmaxyx(v->win, rows, cols);
	fit(v, rows, cols);
	v->intro = true;
	ret = loop(v);
out:
	cer_qr_lines_free(v->lines, v->nlines);
	cer_qr_set_free(&v->own);
	if (v->win != NULL)
		delwin(v->win);
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

int ui_qr_view_split(const struct cer_qr_set *parts, const uint8_t *data, size_t len,
                     const char *title)
{
	struct view v = {
	        .given = parts, .data = data, .len = len, .title = title, .pace_ms = PACE_START};

	if (parts == NULL || parts->count == 0)
		return cer_fail(CER_EUSAGE, "no QR parts to show");
	v.ec = parts->ec;
	return show(&v);
}

int ui_qr_view_data(const uint8_t *data, size_t len, enum cer_qr_ec ec, const char *title)
{
	struct view v = {.data = data, .len = len, .ec = ec, .title = title, .pace_ms = PACE_START};

	return show(&v);
}
