#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ui/ui.h"

#define PASS_MAX 1024

/*
 * While echo is off, the signals that end or stop the process are caught:
 * the terminal is restored first, then the signal is raised again with its
 * previous disposition (a stop signal asks again once the process resumes).
 */
static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU};
#define NCAUGHT (sizeof caught / sizeof caught[0])

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void catch_all(struct sigaction old[static NCAUGHT])
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: read() returns EINTR */
	got_signal = 0;
	for (i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &sa, &old[i]);
}

static void release_all(const struct sigaction old[static NCAUGHT])
{
	size_t i;

	for (i = 0; i < NCAUGHT; i++)
		sigaction(caught[i], &old[i], NULL);
}

static bool is_stop(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* One attempt: prompt, read a line without echo.  1 done, 0 failed, -1 stopped by a signal. */
static int read_line(int fd, const char *prompt, char *buf, size_t *n, bool *too_long)
{
	struct termios saved, quiet;
	int ret = 0;
	char c = 0;

	*n = 0;
	*too_long = false;
	if (tcgetattr(fd, &saved) != 0) {
		cer_fail(CER_EUSAGE, "cannot read the terminal's settings: %s", strerror(errno));
		return 0;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		cer_fail(CER_EUSAGE, "cannot turn off the terminal's echo: %s", strerror(errno));
		return 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		cer_fail(CER_EUSAGE, "cannot write to the terminal: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (got_signal != 0) {
			ret = -1;
			break;
		}
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cer_fail(CER_EUSAGE, "passphrase entry cancelled");
			break;
		}
		if (c == '\n' || c == '\r') {
			ret = 1;
			break;
		}
		if (*n < PASS_MAX)
			buf[(*n)++] = c;
		else
			*too_long = true;
	}
out:
	sodium_memzero(&c, sizeof c);
	tcsetattr(fd, TCSAFLUSH, &saved);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do: the line was read or abandoned */
	}
	return ret;
}

char *ui_read_passphrase(const char *prompt)
{
	struct sigaction old[NCAUGHT];
	sigset_t mask, prev;
	char *buf = NULL;
	size_t n = 0;
	bool too_long = false;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0) {
		cer_fail(CER_EUSAGE, "no terminal to ask for a passphrase on");
		return NULL;
	}
	buf = cer_secret_alloc(PASS_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return NULL;
	}
	for (;;) {
		int sig;

		catch_all(old);
		r = read_line(fd, prompt, buf, &n, &too_long);
		release_all(old);
		sig = got_signal;
		if (r >= 0 || sig == 0)
			break;
		/* Echo is back on: let the signal do what it would have done. */
		sodium_memzero(buf, PASS_MAX + 1);
		n = 0;
		sigemptyset(&mask);
		sigaddset(&mask, sig);
		sigprocmask(SIG_UNBLOCK, &mask, &prev);
		raise(sig);
		sigprocmask(SIG_SETMASK, &prev, NULL);
		if (!is_stop(sig)) {
			cer_fail(CER_EUSAGE, "passphrase entry interrupted");
			r = 0;
			break;
		}
	}
	close(fd);
	if (r == 1 && too_long) {
		cer_fail(CER_EUSAGE, "passphrase longer than %d bytes", PASS_MAX);
		r = 0;
	}
	if (r != 1) {
		cer_secret_free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}
