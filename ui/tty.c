#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ui/ui.h"

#define PASS_MAX 1024

char *ui_read_passphrase(const char *prompt)
{
	struct termios saved, quiet;
	char *buf = NULL;
	size_t n = 0;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	int echo_off = 0;

	if (fd < 0) {
		cer_fail(CER_EUSAGE, "no terminal to ask for a passphrase on");
		return NULL;
	}
	buf = cer_secret_alloc(PASS_MAX + 1);
	if (buf == NULL)
		goto fail;
	if (tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto fail;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			cer_fail(CER_EUSAGE, "passphrase entry cancelled");
			goto fail;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n < PASS_MAX)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &saved);
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do: the passphrase was read */
	}
	close(fd);
	return buf;
fail:
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	cer_secret_free(buf);
	return NULL;
}
