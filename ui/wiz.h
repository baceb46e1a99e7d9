#ifndef UI_WIZ_H
#define UI_WIZ_H

/*
 * The ncurses wizard: one state enum drives the loop in ui/wizard.c; each
 * state is a screen in its own ui/wiz_<name>.c with init/draw/key/leave
 * functions.  Colours come from one table, resize is handled in one place
 * (wiz_getch), and the widgets below are the only things that draw fields,
 * bars and dialogs.  Screens call ceremony/ for every decision; they only
 * collect input and render results.
 *
 * Secrets: passphrase fields live in cer_secret_alloc memory, show a fixed
 * marker instead of characters, and are wiped by the screen right after the
 * ceremony call that uses them (and by wiz_field_free on every exit).
 */

#include <stdbool.h>
#include <stddef.h>

#include "ceremony/cer.h"

#define WIZ_MIN_ROWS 24
#define WIZ_MIN_COLS 80
#define WIZ_FIELD_MAX 8200  /* text and path fields (a QR part), bytes incl. NUL */
#define WIZ_SECRET_MAX 1024 /* passphrase fields, bytes incl. NUL */
#define WIZ_TICK_MS 250     /* getch timeout: clock and progress refresh */

enum wiz_state {
	WIZ_START,
	WIZ_MENU,
	WIZ_KEYGEN,
	WIZ_RECOVERY,
	WIZ_DRILL,
	WIZ_INSPECT,
	WIZ_QRSHOW,
	WIZ_QUIT,
	WIZ_NSTATES
};

/* Colour roles; wiz_attr() maps each to a colour pair or, on a monochrome
 * terminal, to an attribute.  Meaning is always carried by text too. */
enum wiz_color {
	WC_NORMAL = 1,
	WC_TITLE,
	WC_HELP,
	WC_WARN,
	WC_OK,
	WC_FAIL,
	WC_FIELD,
	WC_FOCUS,
	WC_DIALOG,
	WC_BAR,
	WC_DIM,
	WC_NCOLORS
};

struct cer_transcript;
struct cer_report;

struct wiz {
	enum wiz_state state;
	int rows, cols;
	bool isolated;              /* air-gap check found nothing up */
	bool airgap_confirmed;      /* the operator chose to go on anyway */
	char self_sha256[65];
	const char *transcript_path;
	struct cer_transcript *transcript; /* opened at the first record */
	bool transcript_failed;            /* told once, then records are dropped */
	int cur_y, cur_x;                  /* where the focused field wants the cursor */
	void (*overlay)(struct wiz *w);    /* the open dialog, drawn last */
	const void *overlay_ctx;
};

struct wiz_screen {
	const char *title;
	void (*init)(struct wiz *w);
	void (*draw)(struct wiz *w);
	/* ch is a key, or ERR when WIZ_TICK_MS passed without one. */
	enum wiz_state (*key)(struct wiz *w, int ch);
	void (*leave)(struct wiz *w); /* wipes the screen's secrets */
};

extern const struct wiz_screen wiz_start_screen, wiz_menu_screen, wiz_keygen_screen,
	wiz_recovery_screen, wiz_drill_screen, wiz_inspect_screen, wiz_qrshow_screen;

/* ---- frame (ui/wizard.c) ---- */

/* Redraws the whole screen: frame, current screen, open dialog. */
void wiz_redraw(struct wiz *w);
/* getch that redraws on KEY_RESIZE (returned, so callers may ignore it). */
int wiz_getch(struct wiz *w);
/* Appends a line to the ceremony transcript (opened on first use); a
 * failure is shown in an error dialog once.  Never pass a secret. */
void wiz_log(struct wiz *w, const char *fmt, ...) CER_PRINTF(2, 3);
/* Logs "WHAT: PATH sha256 HEX" (or why it could not be hashed). */
void wiz_log_file(struct wiz *w, const char *what, const char *path);
/* Logs a report's summary and lines. */
void wiz_log_report(struct wiz *w, const struct cer_report *r);
/* Shows a public file as QR codes (ui/qrview.h), logs it, then redraws. */
void wiz_show_qr(struct wiz *w, const char *path);

/* ---- drawing helpers (ui/wiz_kit.c) ---- */

void wiz_colors_init(void);
int wiz_attr(enum wiz_color c);
/* Keys of the current screen, drawn on the last line. */
void wiz_help(struct wiz *w, const char *keys);
/* Text clipped to the screen width; returns the next free row. */
int wiz_print(struct wiz *w, int y, int x, enum wiz_color c, const char *fmt, ...)
	CER_PRINTF(5, 6);
/* Word-wrapped text from column x to the right edge; returns the next row. */
int wiz_wrap(struct wiz *w, int y, int x, enum wiz_color c, const char *text);
/* First content row (below the title bar) and last (above the help line). */
int wiz_top(const struct wiz *w);
int wiz_bottom(const struct wiz *w);

/* ---- widgets (ui/wiz_kit.c) ---- */

enum wiz_field_kind { WF_TEXT, WF_NUMBER, WF_PATH, WF_SECRET, WF_CHOICE };

struct wiz_field {
	const char *label;
	enum wiz_field_kind kind;
	char text[WIZ_FIELD_MAX];   /* unused for WF_SECRET */
	char *secret;               /* WF_SECRET: WIZ_SECRET_MAX bytes, secret memory */
	size_t len;
	const char *const *choices; /* WF_CHOICE: Left/Right cycles */
	int nchoices, choice;
	char hint[256];             /* completion candidates, shown under the form */
};

/* Sets up a field; WF_SECRET allocates secret memory (returns CER_EINTERNAL). */
int wiz_field_init(struct wiz_field *f, const char *label, enum wiz_field_kind kind) CER_WUR;
void wiz_field_set(struct wiz_field *f, const char *text);
/* Empties the field; a passphrase is wiped. */
void wiz_field_wipe(struct wiz_field *f);
void wiz_field_free(struct wiz_field *f);
const char *wiz_field_value(const struct wiz_field *f);
/* Parses a WF_NUMBER field; false if empty or not a number in [lo, hi]. */
bool wiz_field_number(const struct wiz_field *f, long lo, long hi, long *out);
void wiz_field_draw(struct wiz *w, const struct wiz_field *f, int y, int label_w, bool focus);
/* Editing keys; true if the key was used. */
bool wiz_field_key(struct wiz_field *f, int ch);

#define WIZ_FORM_MAX 12
struct wiz_form {
	struct wiz_field *fields[WIZ_FORM_MAX];
	int n, focus, label_w;
};
enum wiz_form_event { WIZ_FORM_NONE, WIZ_FORM_SUBMIT };
void wiz_form_add(struct wiz_form *form, struct wiz_field *f);
/* Draws the fields from row y; returns the next free row. */
int wiz_form_draw(struct wiz *w, const struct wiz_form *form, int y);
/* Up/Down move, Enter moves on and submits from the last field; a path
 * field's leading "~/" becomes $HOME on Tab and on Enter. */
enum wiz_form_event wiz_form_key(struct wiz_form *form, int ch);

struct wiz_menu {
	const char *const *items;
	int n, sel;
};
void wiz_menu_draw(struct wiz *w, const struct wiz_menu *m, int y, int x);
/* Returns the chosen index on Enter (or its digit key), -1 otherwise. */
int wiz_menu_key(struct wiz_menu *m, int ch);

void wiz_progress_draw(struct wiz *w, int y, const char *what, unsigned done, unsigned total);

/* A scrollable list of text lines (reports, summaries). */
struct wiz_text {
	char **lines;
	size_t n, cap, top;
};
void wiz_text_add(struct wiz_text *t, const char *fmt, ...) CER_PRINTF(2, 3);
void wiz_text_clear(struct wiz_text *t);
/* Draws rows y..bottom; returns the next free row. */
int wiz_text_draw(struct wiz *w, const struct wiz_text *t, int y, int bottom);
bool wiz_text_key(struct wiz_text *t, int ch, int page);

/* Modal dialogs; they handle resize themselves. */
void wiz_error(struct wiz *w, const char *title, const char *msg);
/* The error dialog with cer_errmsg() (batch mode's message) for status. */
void wiz_error_status(struct wiz *w, int status);
/* True only when the user pressed y. */
bool wiz_confirm(struct wiz *w, const char *title, const char *msg);
/* Shows a one-line "working" box and refreshes at once (before a slow call). */
void wiz_busy(struct wiz *w, const char *msg);

bool wiz_is_enter(int ch);
#define WIZ_KEY_ESC 27

#endif
