#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ui/ui.h"
#include "ui/wiz.h"

static const struct {
	short fg, bg;
	int mono;
} palette[WC_NCOLORS] = {
        [WC_NORMAL] = {-1, -1, A_NORMAL},
        [WC_TITLE] = {COLOR_WHITE, COLOR_BLUE, A_REVERSE},
        [WC_HELP] = {COLOR_BLACK, COLOR_CYAN, A_REVERSE},
        [WC_WARN] = {COLOR_WHITE, COLOR_RED, A_REVERSE | A_BOLD},
        [WC_OK] = {COLOR_GREEN, -1, A_BOLD},
        [WC_FAIL] = {COLOR_RED, -1, A_BOLD},
        [WC_FIELD] = {COLOR_WHITE, COLOR_BLACK, A_UNDERLINE},
        [WC_FOCUS] = {COLOR_BLACK, COLOR_YELLOW, A_REVERSE},
        [WC_DIALOG] = {COLOR_BLACK, COLOR_WHITE, A_REVERSE},
        [WC_BAR] = {COLOR_BLACK, COLOR_GREEN, A_REVERSE},
        [WC_DIM] = {COLOR_CYAN, -1, A_DIM},
};

static bool use_color;

void ui_wiz_colors_init(void)
{
	bool defaults;
	int i;

	use_color = has_colors() && start_color() == OK;
	if (!use_color)
		return;
	defaults = use_default_colors() == OK;
	for (i = 1; i < WC_NCOLORS; i++) {
		short fg = palette[i].fg, bg = palette[i].bg;

		if (!defaults) {
			fg = fg < 0 ? COLOR_WHITE : fg;
			bg = bg < 0 ? COLOR_BLACK : bg;
		}
		init_pair((short)i, fg, bg);
	}
}

int ui_wiz_attr(enum ui_wiz_color c)
{
	if (!use_color)
		return palette[c].mono;
	if (c == WC_WARN || c == WC_FAIL || c == WC_OK)
		return COLOR_PAIR(c) | A_BOLD;
	return COLOR_PAIR(c);
}

bool ui_wiz_is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

bool ui_wiz_is_token_key(int ch)
{
	return ch == KEY_F(2) || ch == ('T' & 0x1f);
}

int ui_wiz_top(const struct wiz *w)
{
	(void)w;
	return 2;
}

int ui_wiz_bottom(const struct wiz *w)
{
	return w->rows - 2;
}

void ui_wiz_help(struct wiz *w, const char *keys)
{
	attrset(ui_wiz_attr(WC_HELP));
	mvhline(w->rows - 1, 0, ' ', w->cols);
	mvaddnstr(w->rows - 1, 1, keys, w->cols - 2);
	attrset(A_NORMAL);
}

int ui_wiz_print(struct wiz *w, int y, int x, enum ui_wiz_color c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (y < 0 || y >= w->rows - 1 || x >= w->cols)
		return y + 1;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	attrset(ui_wiz_attr(c));
	mvaddnstr(y, x, line, w->cols - x - 1);
	attrset(A_NORMAL);
	return y + 1;
}

/* Splits text into at most max lines of at most width bytes, breaking at
 * spaces and newlines; returns the number of lines. */
int ui_wiz_split_lines(const char *text, int width, const char **start, int *len, int max)
{
	const char *p = text;
	int n = 0;

	if (width < 1)
		width = 1;
	while (*p != '\0' && n < max) {
		int l = (int)strcspn(p, "\n"), cut = l;

		if (l > width) {
			cut = width;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width;
		}
		start[n] = p;
		len[n++] = cut;
		p += cut;
		if (cut < l)
			while (*p == ' ')
				p++;
		else if (*p == '\n')
			p++;
	}
	return n;
}

int ui_wiz_wrap(struct wiz *w, int y, int x, enum ui_wiz_color c, const char *text)
{
	const char *start[WIZ_WRAP_MAX];
	int len[WIZ_WRAP_MAX], n, i;

	n = ui_wiz_split_lines(text, w->cols - x - 1, start, len, WIZ_WRAP_MAX);
	attrset(ui_wiz_attr(c));
	for (i = 0; i < n && y <= ui_wiz_bottom(w); i++, y++)
		mvaddnstr(y, x, start[i], len[i]);
	attrset(A_NORMAL);
	return y;
}

/* ---- fields ---- */

int ui_wiz_field_init(struct ui_wiz_field *f, const char *label, enum ui_wiz_field_kind kind)
{
	memset(f, 0, sizeof *f);
	f->label = label;
	f->kind = kind;
	if (kind == WF_SECRET) {
		f->secret = cer_secret_alloc(WIZ_SECRET_MAX);
		if (f->secret == NULL)
			return CER_EINTERNAL;
	}
	return CER_OK;
}

void ui_wiz_field_set(struct ui_wiz_field *f, const char *text)
{
	if (f->kind == WF_SECRET)
		return;
	snprintf(f->text, sizeof f->text, "%s", text);
	f->len = strlen(f->text);
	f->hint[0] = '\0';
}

void ui_wiz_field_wipe(struct ui_wiz_field *f)
{
	if (f->secret != NULL)
		sodium_memzero(f->secret, WIZ_SECRET_MAX);
	memset(f->text, 0, sizeof f->text);
	f->len = 0;
	f->hint[0] = '\0';
}

void ui_wiz_field_free(struct ui_wiz_field *f)
{
	cer_secret_free(f->secret);
	f->secret = NULL;
	ui_wiz_field_wipe(f);
}

const char *ui_wiz_field_value(const struct ui_wiz_field *f)
{
	if (f->kind == WF_SECRET)
		return f->secret;
	if (f->kind == WF_CHOICE)
		return f->nchoices > 0 ? f->choices[f->choice] : "";
	return f->text;
}

bool ui_wiz_field_number(const struct ui_wiz_field *f, long lo, long hi, long *out)
{
	char *end;
	long v;
	const char *s = ui_wiz_field_value(f);

	if (s[0] == '\0')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

void ui_wiz_field_draw(struct wiz *w, const struct ui_wiz_field *f, int y, int label_w, bool focus)
{
	int x = 2 + label_w + 2;
	int width = w->cols - x - 2;
	const char *shown;
	char choice[128];
	size_t skip = 0;

	if (y >= ui_wiz_bottom(w) + 1)
		return;
	attrset(focus ? A_BOLD : A_NORMAL);
	mvprintw(y, 2, "%-*.*s", label_w, label_w, f->label);
	attrset(ui_wiz_attr(focus ? WC_FOCUS : WC_FIELD));
	mvhline(y, x, ' ', width);
	if (f->kind == WF_SECRET) {
		shown = f->secret != NULL && f->secret[0] != '\0' ? "(hidden, typed)" : "";
	} else if (f->kind == WF_CHOICE) {
		snprintf(choice, sizeof choice, "< %s >", ui_wiz_field_value(f));
		shown = choice;
	} else {
		shown = f->text;
		if (f->len + 1 > (size_t)width)
			skip = f->len + 1 - (size_t)width;
	}
	mvaddnstr(y, x, shown + skip, width);
	attrset(A_NORMAL);
	if (focus && f->kind != WF_CHOICE) {
		size_t cur = f->kind == WF_SECRET ? strlen(shown) : f->len - skip;

		w->cur_y = y;
		w->cur_x = x + (int)cur;
	}
}

static void expand_home(struct ui_wiz_field *f)
{
	char buf[WIZ_FIELD_MAX];
	const char *home = getenv("HOME");
	int n;

	if (home == NULL || f->text[0] != '~' || (f->text[1] != '/' && f->text[1] != '\0'))
		return;
	n = snprintf(buf, sizeof buf, "%s%s", home, f->text[1] == '\0' ? "/" : f->text + 1);
	if (n < 0 || (size_t)n >= sizeof buf)
		return;
	memcpy(f->text, buf, (size_t)n + 1);
	f->len = (size_t)n;
}

static void complete_path(struct ui_wiz_field *f)
{
	char dir[WIZ_FIELD_MAX], common[WIZ_FIELD_MAX] = "";
	const char *slash = strrchr(f->text, '/');
	const char *base = slash != NULL ? slash + 1 : f->text;
	size_t baselen = strlen(base), dirlen = slash != NULL ? (size_t)(slash - f->text) + 1 : 0;
	size_t hintlen = 0;
	unsigned matches = 0;
	struct dirent *e;
	DIR *d;

	if (dirlen == 0)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)dirlen, f->text);
	f->hint[0] = '\0';
	d = opendir(dir);
	if (d == NULL) {
		snprintf(f->hint, sizeof f->hint, "cannot list %.200s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t i;

		if (strncmp(e->d_name, base, baselen) != 0 || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 || (e->d_name[0] == '.' && base[0] != '.'))
			continue;
		if (matches++ == 0) {
			snprintf(common, sizeof common, "%s", e->d_name);
		} else {
			for (i = 0; common[i] != '\0' && common[i] == e->d_name[i]; i++)
				;
			common[i] = '\0';
		}
		if (hintlen + strlen(e->d_name) + 3 < sizeof f->hint) {
			hintlen += (size_t)snprintf(f->hint + hintlen, sizeof f->hint - hintlen,
			                            "%s  ", e->d_name);
		}
	}
	closedir(d);
	if (matches == 0) {
		snprintf(f->hint, sizeof f->hint, "no file starts with '%.100s' in %.100s", base,
		         dir);
		return;
	}
	if (dirlen + strlen(common) + 2 > sizeof f->text)
		return;
	memcpy(f->text + dirlen, common, strlen(common) + 1);
	f->len = strlen(f->text);
	if (matches == 1) {
		struct stat st;

		f->hint[0] = '\0';
		if (stat(f->text, &st) == 0 && S_ISDIR(st.st_mode) && f->len + 2 < sizeof f->text) {
			f->text[f->len++] = '/';
			f->text[f->len] = '\0';
		}
	}
}

bool ui_wiz_field_key(struct ui_wiz_field *f, int ch)
{
	char *buf = f->kind == WF_SECRET ? f->secret : f->text;
	size_t max = f->kind == WF_SECRET ? WIZ_SECRET_MAX : sizeof f->text;

	if (f->kind == WF_CHOICE) {
		if (f->nchoices == 0)
			return false;
		if (ch == KEY_LEFT || ch == '-')
			f->choice = (f->choice + f->nchoices - 1) % f->nchoices;
		else if (ch == KEY_RIGHT || ch == ' ' || ch == '+')
			f->choice = (f->choice + 1) % f->nchoices;
		else
			return false;
		return true;
	}
	if (buf == NULL)
		return false;
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		while (f->len > 0 && ((unsigned char)buf[f->len - 1] & 0xc0) == 0x80)
			buf[--f->len] = '\0';
		if (f->len > 0)
			buf[--f->len] = '\0';
		return true;
	}
	if (ch == 21) { /* Ctrl-U */
		ui_wiz_field_wipe(f);
		return true;
	}
	if (ch == '\t' && f->kind == WF_PATH) {
		expand_home(f);
		complete_path(f);
		return true;
	}
	if (ch < 0x20 || ch > 0xff || ch == 127)
		return false;
	if (f->kind == WF_NUMBER && (ch < '0' || ch > '9'))
		return true;
	if (f->len + 1 < max) {
		buf[f->len++] = (char)ch;
		buf[f->len] = '\0';
	}
	return true;
}

/* ---- forms ---- */

void ui_wiz_form_add(struct ui_wiz_form *form, struct ui_wiz_field *f)
{
	int l = (int)strlen(f->label);

	if (form->n >= WIZ_FORM_MAX)
		return;
	form->fields[form->n++] = f;
	if (l > form->label_w)
		form->label_w = l;
}

int ui_wiz_form_draw(struct wiz *w, const struct ui_wiz_form *form, int y)
{
	int i;
	const struct ui_wiz_field *focused = NULL;

	for (i = 0; i < form->n; i++) {
		ui_wiz_field_draw(w, form->fields[i], y + i, form->label_w, i == form->focus);
		if (i == form->focus)
			focused = form->fields[i];
	}
	y += form->n;
	if (focused != NULL && focused->hint[0] != '\0')
		y = ui_wiz_wrap(w, y, 4, WC_DIM, focused->hint);
	return y;
}

enum ui_wiz_form_event ui_wiz_form_key(struct ui_wiz_form *form, int ch)
{
	if (form->n == 0)
		return WIZ_FORM_NONE;
	if (ch == KEY_UP || ch == KEY_BTAB) {
		form->focus = (form->focus + form->n - 1) % form->n;
		return WIZ_FORM_NONE;
	}
	if (ch == KEY_DOWN || (ch == '\t' && form->fields[form->focus]->kind != WF_PATH)) {
		form->focus = (form->focus + 1) % form->n;
		return WIZ_FORM_NONE;
	}
	if (ui_wiz_is_enter(ch)) {
		form->fields[form->focus]->hint[0] = '\0';
		if (form->fields[form->focus]->kind == WF_PATH)
			expand_home(form->fields[form->focus]);
		if (form->focus == form->n - 1)
			return WIZ_FORM_SUBMIT;
		form->focus++;
		return WIZ_FORM_NONE;
	}
	ui_wiz_field_key(form->fields[form->focus], ch);
	return WIZ_FORM_NONE;
}

/* ---- menu ---- */

void ui_wiz_menu_draw(struct wiz *w, const struct ui_wiz_menu *m, int y, int x)
{
	int i;

	for (i = 0; i < m->n; i++) {
		bool sel = i == m->sel;

		attrset(sel ? ui_wiz_attr(WC_FOCUS) | A_BOLD : A_NORMAL);
		mvprintw(y + 2 * i, x, "%s %d. %-40s", sel ? ">" : " ", i + 1, m->items[i]);
		attrset(A_NORMAL);
	}
	(void)w;
}

int ui_wiz_menu_key(struct ui_wiz_menu *m, int ch)
{
	if (ch == KEY_UP || ch == 'k')
		m->sel = (m->sel + m->n - 1) % m->n;
	else if (ch == KEY_DOWN || ch == 'j' || ch == '\t')
		m->sel = (m->sel + 1) % m->n;
	else if (ch >= '1' && ch < '1' + m->n)
		return m->sel = ch - '1';
	else if (ui_wiz_is_enter(ch))
		return m->sel;
	return -1;
}

/* ---- notes ---- */

void ui_wiz_note_set(struct ui_wiz_note *n, enum ui_wiz_color c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->text, sizeof n->text, fmt, ap);
	va_end(ap);
	n->color = c;
}

void ui_wiz_note_clear(struct ui_wiz_note *n)
{
	n->text[0] = '\0';
}

int ui_wiz_note_draw(struct wiz *w, const struct ui_wiz_note *n, int y)
{
	return n->text[0] != '\0' ? ui_wiz_wrap(w, y, 2, n->color, n->text) : y;
}

/* ---- progress bar ---- */

void ui_wiz_progress_draw(struct wiz *w, int y, const char *what, unsigned done, unsigned total)
{
	int width = w->cols - 20, filled;

	if (width < 10)
		width = 10;
	filled = total == 0 ? 0 : (int)((unsigned long)done * (unsigned)width / total);
	if (filled > width)
		filled = width;
	mvprintw(y, 2, "%.*s", w->cols - 4, what);
	mvaddch(y + 1, 2, '[');
	attrset(ui_wiz_attr(WC_BAR));
	mvhline(y + 1, 3, '#', filled);
	attrset(A_NORMAL);
	mvhline(y + 1, 3 + filled, '.', width - filled);
	mvprintw(y + 1, 3 + width, "] %u/%u", done, total);
}

/* ---- text view ---- */

void ui_wiz_text_add(struct ui_wiz_text *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 32 : 2 * t->cap;
		char **l = realloc(t->lines, cap * sizeof *l);

		if (l == NULL)
			return;
		t->lines = l;
		t->cap = cap;
	}
	t->lines[t->n++] = ui_xstrdup(line);
}

void ui_wiz_text_add_command(struct ui_wiz_text *t, const char *cmd, size_t width)
{
	const char *p = cmd;

	while (strlen(p) > width) {
		size_t cut = width;

		while (cut > 0 && p[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = width;
		ui_wiz_text_add(t, "  %.*s \\", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
	ui_wiz_text_add(t, "  %s", p);
}

void ui_wiz_text_clear(struct ui_wiz_text *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	memset(t, 0, sizeof *t);
}

int ui_wiz_text_draw(struct wiz *w, const struct ui_wiz_text *t, int y, int bottom)
{
	const char *start[WIZ_WRAP_MAX];
	int len[WIZ_WRAP_MAX];
	size_t i;

	for (i = t->top; i < t->n && y <= bottom; i++) {
		const char *l = t->lines[i];
		int indent = (int)strspn(l, " "), n, j, width;
		enum ui_wiz_color c = WC_NORMAL;

		if (strstr(l, "[FAIL]") != NULL || strncmp(l, "WARNING", 7) == 0)
			c = WC_FAIL;
		else if (strstr(l, "[OK]") != NULL)
			c = WC_OK;
		if (indent > 20)
			indent = 20;
		width = w->cols - 3 - indent;
		if ((int)strlen(l + indent) > width)
			width -= 2; /* continuation lines are indented by two more */
		n = ui_wiz_split_lines(l + indent, width, start, len, WIZ_WRAP_MAX);
		if (n == 0)
			y++;
		for (j = 0; j < n && y <= bottom; j++, y++) {
			attrset(ui_wiz_attr(c));
			mvaddnstr(y, 2 + indent + (j > 0 ? 2 : 0), start[j], len[j]);
			attrset(A_NORMAL);
		}
	}
	if (t->top > 0 || i < t->n)
		ui_wiz_print(w, bottom + 1 <= ui_wiz_bottom(w) ? bottom + 1 : bottom, w->cols - 24,
		             WC_DIM, "lines %zu-%zu of %zu", t->top + 1, i, t->n);
	return y;
}

bool ui_wiz_text_key(struct ui_wiz_text *t, int ch, int page)
{
	size_t p = page > 1 ? (size_t)page - 1 : 1;

	if (ch == KEY_DOWN && t->top + 1 < t->n)
		t->top++;
	else if (ch == KEY_UP && t->top > 0)
		t->top--;
	else if (ch == KEY_NPAGE || ch == ' ')
		t->top = t->top + p < t->n ? t->top + p : t->top;
	else if (ch == KEY_PPAGE)
		t->top = t->top > p ? t->top - p : 0;
	else if (ch == KEY_HOME)
		t->top = 0;
	else
		return false;
	return true;
}
