#ifndef UI_WIZ_H
#define UI_WIZ_H

/*
 * The ncurses wizard: one state enum drives the loop in ui/wizard.c; each
 * state is a screen in its own ui/wiz_<name>.c with init/draw/key/leave
 * functions.  Colours come from one table, resize is handled in one place
 * (ui_wiz_getch), and the widgets below are the only things that draw fields,
 * bars and dialogs.  Screens call ceremony/ for every decision; they only
 * collect input and render results.
 *
 * Secrets: passphrase fields live in cer_secret_alloc memory, show a fixed
 * marker instead of characters, and are wiped by the screen right after the
 * ceremony call that uses them (and by ui_wiz_field_free on every exit).
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ceremony/cer.h"

#define WIZ_MIN_ROWS 24
#define WIZ_MIN_COLS 80
#define WIZ_FIELD_MAX 8200  /* text and path fields (a QR part), bytes incl. NUL */
#define WIZ_SECRET_MAX 1024 /* passphrase fields, bytes incl. NUL */
#define WIZ_TICK_MS 250     /* getch timeout: clock and progress refresh */

enum ui_wiz_state {
	WIZ_START,
	WIZ_MENU,
	WIZ_KEYGEN,
	WIZ_RECOVERY,
	WIZ_DRILL,
	WIZ_INSPECT,
	WIZ_QRSHOW,
	WIZ_REKEY,
	WIZ_QUIT,
	WIZ_NSTATES
};

/* Colour roles; ui_wiz_attr() maps each to a colour pair or, on a monochrome
 * terminal, to an attribute.  Meaning is always carried by text too. */
enum ui_wiz_color {
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
struct cer_tokens;
struct cer_token_info;
struct cer_sd;

/*
 * One flow calling another screen and getting the result back (rekey runs
 * a key ceremony for the new custodians, then offers each a drill on the
 * new file).  The caller points w->keygen_call or w->drill_call at its own
 * struct and switches state; the called screen reads it at init, goes back
 * to `back` instead of the menu, fills in the result, and clears the
 * pointer when it leaves.  Only public data passes: paths and counts.
 */
#define WIZ_CALL_PATH_MAX 4096
#define WIZ_CALL_MAX_KEYS 10
struct ui_wiz_keygen_call {
	enum ui_wiz_state back;
	const char *why; /* first line of the key ceremony's screens */
	const char *dir; /* the output directory proposed */
	/* Set by the key ceremony. */
	bool done; /* keys generated */
	unsigned count, quorum;
	char out_dir[WIZ_CALL_PATH_MAX];
};
struct ui_wiz_drill_call {
	enum ui_wiz_state back;
	const char *sd_path;   /* preselected */
	const char *sha256;    /* the file's: only drills on that file count below */
	const char *certs_dir; /* preselected, or NULL */
	/* Set by the drill: for share number x (1-based, file order), passed[x-1]
	 * becomes true once a drill found that share's key good (a full drill
	 * that passed, or a custodian's own check with fewer than the quorum). */
	bool passed[WIZ_CALL_MAX_KEYS];
	unsigned drills; /* drills finished */
};

struct wiz {
	enum ui_wiz_state state;
	int rows, cols;
	bool isolated;         /* air-gap check found nothing up */
	bool airgap_confirmed; /* the operator chose to go on anyway */
	char self_sha256[65];
	const char *transcript_path;
	struct cer_transcript *transcript; /* opened at the first record */
	bool transcript_failed;            /* told once, then records are dropped */
	int cur_y, cur_x;                  /* where the focused field wants the cursor */
	void (*overlay)(struct wiz *w);    /* the open dialog, drawn last */
	const void *overlay_ctx;
	struct ui_wiz_keygen_call *keygen_call; /* a key ceremony called by a flow, or NULL */
	struct ui_wiz_drill_call *drill_call;   /* a drill called by a flow, or NULL */
	const char *pkcs11_module;              /* --pkcs11-module, or NULL: p11-kit's */
	struct cer_tokens *tokens;              /* loaded on first use (ui/wiz_token.c) */
};

struct ui_wiz_screen {
	const char *title;
	void (*init)(struct wiz *w);
	void (*draw)(struct wiz *w);
	/* ch is a key, or ERR when WIZ_TICK_MS passed without one. */
	enum ui_wiz_state (*key)(struct wiz *w, int ch);
	void (*leave)(struct wiz *w); /* wipes the screen's secrets */
};

extern const struct ui_wiz_screen ui_wiz_start_screen, ui_wiz_menu_screen, ui_wiz_keygen_screen,
        ui_wiz_recovery_screen, ui_wiz_drill_screen, ui_wiz_inspect_screen, ui_wiz_qrshow_screen,
        ui_wiz_rekey_screen;

/* ---- frame (ui/wizard.c) ---- */

/* Redraws the whole screen: frame, current screen, open dialog. */
void ui_wiz_redraw(struct wiz *w);
/*
 * getch that redraws on KEY_RESIZE (returned, so callers may ignore it).
 * Returns WIZ_KEY_STOP, at once and from then on, once ui_wiz_stopping():
 * every loop that waits for keys must then end, so that the wizard wipes its
 * secrets and exits instead of spinning on a terminal that is gone.
 */
int ui_wiz_getch(struct wiz *w);
#define WIZ_KEY_STOP (-2)
/*
 * True once SIGHUP, SIGTERM, SIGINT or SIGQUIT arrived, or the terminal is
 * found gone (tcgetattr fails, the tty hung up, or getch keeps failing at
 * once without waiting).  A lost terminal counts as SIGHUP.  The session is
 * then abandoned: the loop in ui/wizard.c calls the screens' leave functions
 * and exits non-zero.
 */
bool ui_wiz_stopping(void);
/*
 * Around a long ceremony call that takes a cancel flag (cer_keygen): begin
 * returns the flag, which becomes non-zero on any stop and also on Ctrl-C,
 * which begin turns into SIGINT for the duration (the terminal's ISIG on,
 * its quit and suspend keys off); a SIGINT then cancels the call only and
 * the wizard goes on.  end restores the terminal as it was and drops the
 * keys typed meanwhile.
 */
const atomic_int *ui_wiz_long_call_begin(void);
void ui_wiz_long_call_end(void);
/* Stops the session as a signal would, but for a reason of the wizard's own
 * (the transcript failed): the loop wipes and the wizard exits 5. */
void ui_wiz_stop_session(void);

/* ---- the transcript (ui/wiz_log.c) ---- */

/* Appends a line to the ceremony transcript (opened on first use); a
 * failure is told in a dialog and stops the session.  Never pass a secret. */
void ui_wiz_log(struct wiz *w, const char *fmt, ...) CER_PRINTF(2, 3);
/* Logs "WHAT: PATH sha256 HEX" (or why it could not be hashed). */
void ui_wiz_log_file(struct wiz *w, const char *what, const char *path);
/* Logs a report's summary and lines. */
void ui_wiz_log_report(struct wiz *w, const struct cer_report *r);
/* The transcript, opened at first use, for an operation that writes its own
 * records (cer_keygen); NULL when it cannot be written (told, session stopped). */
struct cer_transcript *ui_wiz_transcript(struct wiz *w);
/* Such an operation could not write a record (cer_errmsg): told, session stopped. */
void ui_wiz_transcript_lost(struct wiz *w);
struct cer_recovery;
/* Hands the transcript to a recovery session (cer_recovery_set_transcript),
 * which then records its own attempts, report and blob; false (told, the
 * session stopped) when the transcript cannot be written. */
bool ui_wiz_recovery_transcript(struct wiz *w, struct cer_recovery *rec, const char *flow,
                                const char *sd_label);
/* After each attempt: stops the session if the session's record was lost. */
void ui_wiz_recovery_recorded(struct wiz *w, const struct cer_recovery *rec);
/* Shows a public file as QR codes (ui/qrview.h), logs it, then redraws. */
void ui_wiz_show_qr(struct wiz *w, const char *path);

/* ---- drawing helpers (ui/wiz_kit.c) ---- */

void ui_wiz_colors_init(void);
int ui_wiz_attr(enum ui_wiz_color c);
/* Keys of the current screen, drawn on the last line. */
void ui_wiz_help(struct wiz *w, const char *keys);
/* Text clipped to the screen width; returns the next free row. */
int ui_wiz_print(struct wiz *w, int y, int x, enum ui_wiz_color c, const char *fmt, ...)
        CER_PRINTF(5, 6);
/* Word-wrapped text from column x to the right edge; returns the next row. */
#define WIZ_WRAP_MAX 64 /* lines ui_wiz_split_lines gives at most */
/* Splits text into at most max lines of at most width columns (at spaces
 * and newlines): start[i], len[i]; returns the number of lines. */
int ui_wiz_split_lines(const char *text, int width, const char **start, int *len, int max);
int ui_wiz_wrap(struct wiz *w, int y, int x, enum ui_wiz_color c, const char *text);
/* First content row (below the title bar) and last (above the help line). */
int ui_wiz_top(const struct wiz *w);
int ui_wiz_bottom(const struct wiz *w);

/* ---- widgets (ui/wiz_kit.c) ---- */

enum ui_wiz_field_kind { WF_TEXT, WF_NUMBER, WF_PATH, WF_SECRET, WF_CHOICE };

struct ui_wiz_field {
	const char *label;
	enum ui_wiz_field_kind kind;
	char text[WIZ_FIELD_MAX]; /* unused for WF_SECRET */
	char *secret;             /* WF_SECRET: WIZ_SECRET_MAX bytes, secret memory */
	size_t len;
	const char *const *choices; /* WF_CHOICE: Left/Right cycles */
	int nchoices, choice;
	char hint[256]; /* completion candidates, shown under the form */
};

/* Sets up a field; WF_SECRET allocates secret memory (returns CER_EINTERNAL). */
int ui_wiz_field_init(struct ui_wiz_field *f, const char *label,
                      enum ui_wiz_field_kind kind) CER_WUR;
void ui_wiz_field_set(struct ui_wiz_field *f, const char *text);
/* Empties the field; a passphrase is wiped. */
void ui_wiz_field_wipe(struct ui_wiz_field *f);
void ui_wiz_field_free(struct ui_wiz_field *f);
const char *ui_wiz_field_value(const struct ui_wiz_field *f);
/* Parses a WF_NUMBER field; false if empty or not a number in [lo, hi]. */
bool ui_wiz_field_number(const struct ui_wiz_field *f, long lo, long hi, long *out);
void ui_wiz_field_draw(struct wiz *w, const struct ui_wiz_field *f, int y, int label_w, bool focus);
/* Editing keys; true if the key was used. */
bool ui_wiz_field_key(struct ui_wiz_field *f, int ch);

#define WIZ_FORM_MAX 12
struct ui_wiz_form {
	struct ui_wiz_field *fields[WIZ_FORM_MAX];
	int n, focus, label_w;
};
enum ui_wiz_form_event { WIZ_FORM_NONE, WIZ_FORM_SUBMIT };
void ui_wiz_form_add(struct ui_wiz_form *form, struct ui_wiz_field *f);
/* Draws the fields from row y; returns the next free row. */
int ui_wiz_form_draw(struct wiz *w, const struct ui_wiz_form *form, int y);
/* Up/Down move, Enter moves on and submits from the last field; a path
 * field's leading "~/" becomes $HOME on Tab and on Enter. */
enum ui_wiz_form_event ui_wiz_form_key(struct ui_wiz_form *form, int ch);

struct ui_wiz_menu {
	const char *const *items;
	int n, sel;
};
void ui_wiz_menu_draw(struct wiz *w, const struct ui_wiz_menu *m, int y, int x);
/* Returns the chosen index on Enter (or its digit key), -1 otherwise. */
int ui_wiz_menu_key(struct ui_wiz_menu *m, int ch);

/* A line or two under a form saying what just happened, in its colour. */
struct ui_wiz_note {
	char text[1024];
	enum ui_wiz_color color;
};
void ui_wiz_note_set(struct ui_wiz_note *n, enum ui_wiz_color c, const char *fmt, ...)
        CER_PRINTF(3, 4);
void ui_wiz_note_clear(struct ui_wiz_note *n);
/* Draws the note word-wrapped from row y (nothing when empty); returns the next row. */
int ui_wiz_note_draw(struct wiz *w, const struct ui_wiz_note *n, int y);

void ui_wiz_progress_draw(struct wiz *w, int y, const char *what, unsigned done, unsigned total);

/* A scrollable list of text lines (reports, summaries). */
struct ui_wiz_text {
	char **lines;
	size_t n, cap, top;
};
void ui_wiz_text_add(struct ui_wiz_text *t, const char *fmt, ...) CER_PRINTF(2, 3);
void ui_wiz_text_clear(struct ui_wiz_text *t);
/* A shell command, indented two columns and broken at spaces into lines of
 * at most width columns, each but the last ending in " \\" (as typed). */
void ui_wiz_text_add_command(struct ui_wiz_text *t, const char *cmd, size_t width);
/* Draws rows y..bottom; returns the next free row. */
int ui_wiz_text_draw(struct wiz *w, const struct ui_wiz_text *t, int y, int bottom);
bool ui_wiz_text_key(struct ui_wiz_text *t, int ch, int page);

/* Modal dialogs (ui/wiz_dialog.c); they handle resize themselves and return
 * at once when the wizard is stopping (ui_wiz_confirm then answers no). */
void ui_wiz_error(struct wiz *w, const char *title, const char *msg);
/* A dialog title in plain words for a status ("Not accepted", ...). */
const char *ui_wiz_status_title(int status);
/* The error dialog with cer_errmsg() (batch mode's message) for status. */
void ui_wiz_error_status(struct wiz *w, int status);
/* True only when the user pressed y. */
bool ui_wiz_confirm(struct wiz *w, const char *title, const char *msg);
/* After a refusal with reason CER_REASON_STALE_TEMP: shows it and asks to
 * remove what the killed run left; a yes is recorded ("FLOW: the operator
 * removed ..."), and the caller then removes it and tries again. */
bool ui_wiz_stale_confirm(struct wiz *w, const char *flow);
/* Shows a one-line "working" box and refreshes at once (before a slow call). */
void ui_wiz_busy(struct wiz *w, const char *msg);

bool ui_wiz_is_enter(int ch);
/* F2 or Ctrl-T: "my key is on a token", on a hand-over screen (no letter: a
 * passphrase typed there too early must not start anything). */
bool ui_wiz_is_token_key(int ch);
#define WIZ_KEY_ESC 27

/* ---- choosing a key or a token on PKCS#11 tokens (ui/wiz_token.c) ---- */

#define WIZ_PICK_MAX 32
#define WIZ_URI_MAX 640
struct ui_wiz_token_pick {
	bool keys; /* set by the caller: list keys (with the share each opens) or tokens */
	size_t n;
	char uri[WIZ_PICK_MAX][WIZ_URI_MAX]; /* what each entry names */
	char line[WIZ_PICK_MAX][240];        /* what a person looks for: whose share, which token */
	char detail[WIZ_PICK_MAX][240];      /* the token, label, size (dim, below) */
	unsigned share[WIZ_PICK_MAX];        /* keys: the share it opens (from 1), 0 none */
	char cn[WIZ_PICK_MAX][80]; /* keys: its certificate\'s CN, "" if none on the token */
	struct ui_wiz_menu menu;
	char error[1024]; /* why the modules could not be loaded or read */
};
/* Loads the modules again (w->tokens) and lists what they show now. */
void ui_wiz_token_scan(struct wiz *w, struct ui_wiz_token_pick *p, const struct cer_sd *sd);
int ui_wiz_token_pick_draw(struct wiz *w, const struct ui_wiz_token_pick *p, int y);
/* r looks again; otherwise as ui_wiz_menu_key (the chosen entry, or -1). */
int ui_wiz_token_pick_key(struct wiz *w, struct ui_wiz_token_pick *p, const struct cer_sd *sd,
                          int ch);
/* The token a URI of the list names, as last listed (NULL if not found). */
const struct cer_token_info *ui_wiz_token_info(const struct wiz *w, const char *uri);
/* How the PIN of a chosen token key is given: refused at once (a locked user
 * PIN; *note says why), not on screen (no login, or the reader's PIN pad), or
 * typed at the PIN prompt. */
enum ui_wiz_pin_way { WIZ_PIN_LOCKED, WIZ_PIN_NONE, WIZ_PIN_ASK };
enum ui_wiz_pin_way ui_wiz_token_pin_way(const struct wiz *w, const char *uri,
                                         struct ui_wiz_note *note);
/* The PIN prompt's text above its field: the token's warning, then how to
 * type the PIN of the token uri names.  Returns the next line. */
int ui_wiz_pin_prompt_draw(struct wiz *w, const char *uri, int y);
void ui_wiz_token_close(struct wiz *w);

/* ---- the custodian's turn over a recovery session (ui/wiz_turn.c) ---- */

struct cer_recovery;

enum ui_wiz_turn_event {
	WIZ_TURN_NONE,
	WIZ_TURN_SHARE_IN, /* a good share came in (see cer_recovery_ready) */
	WIZ_TURN_ABANDON,  /* Esc on the hand-over screen */
	WIZ_TURN_FINISH,   /* f on the hand-over screen, when allow_finish */
	WIZ_TURN_GO_ON,    /* Enter on the hand-over screen at the quorum, when go_on */
	WIZ_TURN_EXCHANGE, /* the key presented is the exchange key: end the session */
};

/*
 * A hand-over screen (no text field: who is still needed), the key file
 * (checked against the file's shares before any passphrase), then the
 * passphrase alone on its screen; or, for a key on a token, the keys the
 * tokens present show (each with the share it opens), then the token's PIN
 * alone on its screen.  No dialog opens during a turn, and Esc
 * from the passphrase leads to a hand-over screen that takes only Enter.
 * Every attempt is recorded in the session and the transcript.
 */
struct ui_wiz_turn {
	/* Set by the caller before ui_wiz_turn_begin. */
	const char *flow;      /* "drill", "recovery", ...: transcript records */
	const char *certs_dir; /* or NULL */
	char heading[256];     /* first line, e.g. the security domain */
	bool allow_finish;     /* f checks with the shares in */
	const char *go_on;     /* at the quorum Enter does this ("write the restore blob") */
	/* The turn's own. */
	struct cer_recovery *rec;
	int step;
	bool guard;
	char key[WIZ_FIELD_MAX]; /* the key file's path, or the token key's URI */
	long share;
	struct ui_wiz_note note;
	struct ui_wiz_field f_key, f_pass, f_pin;
	struct ui_wiz_form key_form, pass_form, pin_form;
	struct ui_wiz_token_pick pick; /* "t: key on a token" */
	char token_cn[80];             /* the chosen token key's certificate CN, or "" */
};

int ui_wiz_turn_init(struct ui_wiz_turn *t) CER_WUR; /* clears t; CER_EINTERNAL */
void ui_wiz_turn_begin(struct ui_wiz_turn *t, struct cer_recovery *rec);
void ui_wiz_turn_draw(struct wiz *w, const struct ui_wiz_turn *t, int y);
enum ui_wiz_turn_event ui_wiz_turn_key(struct wiz *w, struct ui_wiz_turn *t, int ch);
/* Wipes what was typed and forgets the session (end of session). */
void ui_wiz_turn_wipe(struct ui_wiz_turn *t);
void ui_wiz_turn_free(struct ui_wiz_turn *t);

#endif
