#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/transcript.h"
#include "ui/qrscan.h"
#include "ui/ui.h"
#include "ui/wiz.h"

#include <term.h> /* after wiz.h: its macros (lines, columns) would clash there */

#define DEFAULT_TRANSCRIPT "sdceremony-transcript.txt"

static const struct ui_wiz_screen *const screens[WIZ_NSTATES] = {
        [WIZ_START] = &ui_wiz_start_screen,   [WIZ_MENU] = &ui_wiz_menu_screen,
        [WIZ_KEYGEN] = &ui_wiz_keygen_screen, [WIZ_RECOVERY] = &ui_wiz_recovery_screen,
        [WIZ_DRILL] = &ui_wiz_drill_screen,   [WIZ_INSPECT] = &ui_wiz_inspect_screen,
        [WIZ_QRSHOW] = &ui_wiz_qrshow_screen, [WIZ_REKEY] = &ui_wiz_rekey_screen,
};

/* Consecutive getch() errors, each much quicker than the tick, after which
 * the input is taken as gone even if the terminal still answers tcgetattr. */
#define QUICK_ERR_MAX 50

static atomic_int stop_signal; /* SIGHUP also stands for a terminal found gone */
static atomic_int cancel_flag; /* the running long call's cancel */
static atomic_int in_long_call;
static atomic_int transcript_lost; /* the session's record failed: stop the flow */
static unsigned quick_errs;
static struct termios long_call_tio; /* raw mode, restored after the long call */
static bool long_call_tio_saved;

static void on_signal(int sig)
{
	atomic_store(&cancel_flag, 1);
	if (sig != SIGINT || atomic_load(&in_long_call) == 0)
		atomic_store(&stop_signal, sig);
}

static bool terminal_gone(void)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	struct termios t;
	int fd;

	for (fd = STDIN_FILENO; fd <= STDOUT_FILENO; fd++)
		if (tcgetattr(fd, &t) != 0 && errno != EINTR)
			return true;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void lose_terminal(void)
{
	int none = 0;

	atomic_compare_exchange_strong(&stop_signal, &none, SIGHUP);
	atomic_store(&cancel_flag, 1);
}

bool ui_wiz_stopping(void)
{
	if (atomic_load(&stop_signal) == 0 && terminal_gone())
		lose_terminal();
	return atomic_load(&stop_signal) != 0 || atomic_load(&transcript_lost) != 0;
}

void ui_wiz_stop_session(void)
{
	atomic_store(&transcript_lost, 1);
	atomic_store(&cancel_flag, 1);
}

const atomic_int *ui_wiz_long_call_begin(void)
{
	struct termios t;

	atomic_store(&cancel_flag, atomic_load(&stop_signal) != 0);
	atomic_store(&in_long_call, 1);
	long_call_tio_saved = tcgetattr(STDIN_FILENO, &long_call_tio) == 0;
	if (long_call_tio_saved) {
		t = long_call_tio;
		t.c_lflag |= ISIG;
		t.c_cc[VQUIT] = _POSIX_VDISABLE;
		t.c_cc[VSUSP] = _POSIX_VDISABLE;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	return &cancel_flag;
}

void ui_wiz_long_call_end(void)
{
	if (long_call_tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &long_call_tio);
	long_call_tio_saved = false;
	atomic_store(&in_long_call, 0);
	atomic_store(&cancel_flag, atomic_load(&stop_signal) != 0);
	flushinp();
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGQUIT: return "SIGQUIT";
	default: return "a signal";
	}
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

static bool can_position(void)
{
	const char *cup = tigetstr("cup");

	return cup != NULL && cup != (const char *)-1;
}

static bool too_small(const struct wiz *w)
{
	return w->rows < WIZ_MIN_ROWS || w->cols < WIZ_MIN_COLS;
}

static void draw_title(struct wiz *w, const char *title)
{
	char clock[40];
	time_t now = time(NULL);
	struct tm tm;

	strftime(clock, sizeof clock, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
	attrset(ui_wiz_attr(WC_TITLE) | A_BOLD);
	mvhline(0, 0, ' ', w->cols);
	mvprintw(0, 1, "sdceremony %s | %s", SDC_VERSION, title);
	mvaddstr(0, w->cols - (int)strlen(clock) - 1, clock);
	attrset(A_NORMAL);
}

void ui_wiz_redraw(struct wiz *w)
{
	const struct ui_wiz_screen *s = w->state < WIZ_NSTATES ? screens[w->state] : NULL;

	getmaxyx(stdscr, w->rows, w->cols);
	erase();
	w->cur_y = -1;
	if (too_small(w)) {
		curs_set(0);
		mvprintw(0, 0, "The terminal is %dx%d; the wizard needs at least %dx%d.", w->cols,
		         w->rows, WIZ_MIN_COLS, WIZ_MIN_ROWS);
		mvprintw(1, 0, "Enlarge the window (Ctrl-C quits).");
		refresh();
		return;
	}
	draw_title(w, s != NULL ? s->title : "");
	if (s != NULL)
		s->draw(w);
	if (w->overlay != NULL)
		w->overlay(w);
	if (w->cur_y >= 0 && w->overlay == NULL) {
		curs_set(1);
		move(w->cur_y, w->cur_x);
	} else {
		curs_set(0);
	}
	refresh();
}

static long elapsed_ms(const struct timespec *from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - from->tv_sec) * 1000 + (now.tv_nsec - from->tv_nsec) / 1000000;
}

int ui_wiz_getch(struct wiz *w)
{
	struct timespec start;
	int ch;

	if (ui_wiz_stopping())
		return WIZ_KEY_STOP;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ch = getch();
	if (ch != ERR) {
		quick_errs = 0;
	} else {
		quick_errs = elapsed_ms(&start) < WIZ_TICK_MS / 2 ? quick_errs + 1 : 0;
		if (quick_errs >= QUICK_ERR_MAX)
			lose_terminal();
		if (ui_wiz_stopping())
			return WIZ_KEY_STOP;
	}
	if (ch == 3) { /* Ctrl-C in raw mode: quits, as SIGINT does (wizard --help) */
		atomic_store(&stop_signal, SIGINT);
		atomic_store(&cancel_flag, 1);
		return WIZ_KEY_STOP;
	}
	if (ch == KEY_RESIZE || ch == ERR)
		ui_wiz_redraw(w);
	return ch;
}

static int usage(FILE *f, int status)
{
	fprintf(f,
	        "Usage: %s wizard [--transcript FILE] [--pkcs11-module PATH]\n\n"
	        "Guided key ceremony, recovery, DR drill, rekey (new custodians or quorum),\n"
	        "inspect and QR display on a terminal (at least %dx%d).  Every step is\n"
	        "appended to a plain-text transcript, by default ./%s;\n"
	        "it never holds a secret.\n\n"
	        "A custodian's key may be on a PKCS#11 token (smart card, YubiKey, HSM):\n"
	        "the wizard lists the tokens of the modules registered with p11-kit, or of\n"
	        "the one module given with --pkcs11-module.\n\n"
	        "The wizard needs a terminal on standard input and output.  For scripts use\n"
	        "the batch commands: keygen, package, inspect, verify, restore-blob, rekey, qr.\n\n"
	        "Keys: shown on the last line of every screen; Esc goes back, Ctrl-C quits\n"
	        "(while keys are generated, Ctrl-C cancels the generation).\n\n"
	        "A session stopped by SIGINT, SIGTERM or SIGQUIT, or whose terminal goes away\n"
	        "(hangup, closed window, dropped ssh), is abandoned: secrets are wiped, nothing\n"
	        "more is written, and the transcript says so.\n\n"
	        "Exit status: 0 after quitting, 2 without a usable terminal or when stopped\n"
	        "by SIGINT, SIGTERM or SIGQUIT, 5 when the terminal was lost or the\n"
	        "transcript could not be written.\n",
	        ui_progname, WIZ_MIN_COLS, WIZ_MIN_ROWS, DEFAULT_TRANSCRIPT);
	return status;
}

static void run(struct wiz *w)
{
	enum ui_wiz_state entered = WIZ_NSTATES;

	while (w->state != WIZ_QUIT) {
		const struct ui_wiz_screen *s = screens[w->state];
		enum ui_wiz_state next;
		int ch;

		if (ui_wiz_stopping()) {
			if (s->leave != NULL)
				s->leave(w);
			w->state = WIZ_QUIT;
			break;
		}
		if (entered != w->state) {
			entered = w->state;
			if (s->init != NULL)
				s->init(w);
		}
		ui_wiz_redraw(w);
		ch = ui_wiz_getch(w);
		if (ch == KEY_RESIZE || ch == WIZ_KEY_STOP)
			continue;
		if (too_small(w))
			continue;
		next = s->key(w, ch);
		if (next != w->state && s->leave != NULL)
			s->leave(w);
		w->state = next;
	}
}

int ui_wizard_main(int argc, char **argv)
{
	struct wiz w = {.state = WIZ_START, .transcript_path = DEFAULT_TRANSCRIPT};
	SCREEN *scr;
	int i, ret, stop;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return usage(stdout, CER_OK);
		if (strcmp(argv[i], "--transcript") == 0 && i + 1 < argc) {
			w.transcript_path = argv[++i];
		} else if (strcmp(argv[i], "--pkcs11-module") == 0 && i + 1 < argc) {
			w.pkcs11_module = argv[++i];
		} else if (strcmp(argv[i], "--scan-images") == 0 && i + 1 < argc) {
			/* Not in --help: tests stand PNG frames in for the camera. */
			ret = ui_qrscan_set_image_dir(argv[++i]);
			if (ret != CER_OK)
				return ui_report(ret);
		} else

			return ui_usage_error("wizard", "unexpected argument '%s'", argv[i]);
	}
	if (!ui_interactive()) {
		fprintf(stderr,
		        "%s wizard: needs a terminal on standard input and output.\n"
		        "For scripts use the batch commands (keygen, package, inspect, verify,\n"
		        "restore-blob, rekey, qr); see '%s --help'.\n",
		        ui_progname, ui_progname);
		return CER_EUSAGE;
	}
	setlocale(LC_ALL, "");
	scr = newterm(NULL, stdout, stdin);
	if (scr == NULL) {
		fprintf(stderr, "%s wizard: cannot start the terminal (TERM=%s)\n", ui_progname,
		        getenv("TERM") != NULL ? getenv("TERM") : "");
		return CER_EUSAGE;
	}
	set_term(scr);
	if (!can_position()) {
		endwin();
		delscreen(scr);
		fprintf(stderr,
		        "%s wizard: the terminal (TERM=%s) cannot position the cursor; "
		        "use a full-screen terminal\n",
		        ui_progname, getenv("TERM") != NULL ? getenv("TERM") : "");
		return CER_EUSAGE;
	}
	catch_signals();
	set_escdelay(50);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	timeout(WIZ_TICK_MS);
	ui_wiz_colors_init();
	run(&w);
	for (i = 0; i < WIZ_NSTATES; i++)
		if (screens[i] != NULL && screens[i]->leave != NULL)
			screens[i]->leave(&w);
	ui_wiz_token_close(&w);
	stop = atomic_load(&stop_signal);
	if (w.transcript != NULL && stop == SIGHUP)
		ui_wiz_log(&w, "wizard: terminal lost, session abandoned");
	else if (w.transcript != NULL && stop != 0)
		ui_wiz_log(&w, "wizard: stopped by %s, session abandoned", signal_name(stop));
	else if (w.transcript != NULL)
		ui_wiz_log(&w, "wizard ended");
	endwin();
	delscreen(scr);
	ret = cer_transcript_close(w.transcript);
	if (ret != CER_OK)
		return ui_report(ret);
	if (w.transcript_failed) {
		fprintf(stderr,
		        "%s wizard: the transcript %s could not be written; the session was "
		        "stopped\n",
		        ui_progname, w.transcript_path);
		return CER_EIO;
	}
	if (stop == SIGHUP) {
		fprintf(stderr, "%s wizard: terminal lost, session abandoned\n", ui_progname);
		return CER_EIO;
	}
	if (stop != 0) {
		fprintf(stderr, "%s wizard: stopped by %s, session abandoned\n", ui_progname,
		        signal_name(stop));
		return CER_EUSAGE;
	}
	if (w.transcript != NULL)
		printf("Transcript: %s\n", w.transcript_path);
	return CER_OK;
}
