#include <stdio.h>
#include <unistd.h>

#include "ui/ui.h"

static void stderr_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	unsigned width = 30, filled;

	(void)ctx;
	if (!isatty(STDERR_FILENO) || total == 0)
		return;
	filled = done >= total ? width : done * width / total;
	fprintf(stderr, "\r%-28.28s [%.*s%*s] %u/%u", what, (int)filled,
	        "##############################", (int)(width - filled), "", done, total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

static void stderr_note(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

const struct cer_progress ui_stderr_progress = {stderr_step, stderr_note, NULL};
