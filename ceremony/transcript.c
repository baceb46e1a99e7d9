#include "ceremony/transcript.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/report.h"

struct cer_transcript {
	int fd;
	char *path;
	bool failed;
};

int cer_transcript_open(const char *path, struct cer_transcript **out)
{
	struct cer_transcript *t;
	struct stat st;
	int fd;

	*out = NULL;
	/* O_NONBLOCK: a FIFO in the transcript's place must not hang the ceremony. */
	fd = open(path,
	          O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
	          0644);
	if (fd < 0)
		return cer_fail(CER_EIO, "transcript %s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		close(fd);
		return cer_fail(CER_EIO, "transcript %s: not a regular file", path);
	}
	t = calloc(1, sizeof *t);
	if (t == NULL || (t->path = strdup(path)) == NULL) {
		free(t);
		close(fd);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	t->fd = fd;
	*out = t;
	return CER_OK;
}

static int write_record(struct cer_transcript *t, const char *text)
{
	char stamp[32];
	char *line = NULL;
	struct tm tm;
	time_t now = time(NULL);
	size_t len, done = 0;
	int n;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return cer_fail(CER_EINTERNAL, "cannot format the time");
	n = asprintf(&line, "%s %s\n", stamp, text);
	if (n < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	len = (size_t)n;
	line[len - 1] = '\0';
	cer_text_sanitize(line);
	line[len - 1] = '\n';
	while (done < len) {
		ssize_t w = write(t->fd, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			free(line);
			t->failed = true;
			return cer_fail_reason(CER_EIO, CER_REASON_TRANSCRIPT,
			                       "transcript %s: write failed: %s", t->path,
			                       strerror(errno));
		}
		done += (size_t)w;
	}
	free(line);
	if (fdatasync(t->fd) != 0) {
		t->failed = true;
		return cer_fail_reason(CER_EIO, CER_REASON_TRANSCRIPT,
		                       "transcript %s: cannot flush: %s", t->path, strerror(errno));
	}
	return CER_OK;
}

int cer_transcript_add(struct cer_transcript *t, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	int n, ret;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	ret = write_record(t, text);
	free(text);
	return ret;
}

int cer_transcript_note(struct cer_transcript *t, const char *fmt, ...)
{
	char saved[1024], text[2048];
	enum cer_reason why = cer_errreason();
	va_list ap;

	if (t == NULL)
		return CER_OK;
	snprintf(saved, sizeof saved, "%s", cer_errmsg());
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (cer_transcript_add(t, "%s", text) != CER_OK)
		return CER_EIO;
	cer_fail_reason(CER_OK, why, "%s", saved);
	return CER_OK;
}

int cer_transcript_failure(struct cer_transcript *t, const char *what, int status)
{
	return cer_transcript_note(t, "%s: [FAIL] %s (exit %d)", what, cer_errmsg(), status);
}

int cer_transcript_add_report(struct cer_transcript *t, const struct cer_report *r)
{
	size_t i;
	int ret = cer_transcript_add(t, "%s", cer_report_summary(r));

	for (i = 0; ret == CER_OK && i < cer_report_line_count(r); i++)
		ret = cer_transcript_add(t, "  %s", cer_report_line(r, i));
	return ret;
}

int cer_transcript_close(struct cer_transcript *t)
{
	int ret = CER_OK;

	if (t == NULL)
		return CER_OK;
	if (close(t->fd) != 0 || t->failed)
		ret = cer_fail_reason(CER_EIO, CER_REASON_TRANSCRIPT, "transcript %s: write failed",
		                      t->path);
	free(t->path);
	free(t);
	return ret;
}
