#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/ui.h"

const char *ui_progname = "sdceremony";

int ui_report(int status)
{
	const char *msg = cer_errmsg();

	fprintf(stderr, "%s: %s\n", ui_progname, msg[0] != '\0' ? msg : cer_status_name(status));
	return status;
}

int ui_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", ui_progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", ui_progname, cmd);
	return CER_EUSAGE;
}

bool ui_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

int ui_collect_values(const char *first, int argc, char **argv, int *optind_io,
                      const char ***list, int count)
{
	int extra = 0;
	const char **l;

	while (*optind_io + extra < argc && argv[*optind_io + extra][0] != '-')
		extra++;
	l = realloc(*list, sizeof *l * (size_t)(count + 1 + extra + 1));
	if (l == NULL)
		return -1;
	l[count++] = first;
	while (extra-- > 0)
		l[count++] = argv[(*optind_io)++];
	l[count] = NULL;
	*list = l;
	return count;
}

void *ui_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL) {
		fprintf(stderr, "%s: out of memory\n", ui_progname);
		exit(CER_EINTERNAL);
	}
	return p;
}

char *ui_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		fprintf(stderr, "%s: out of memory\n", ui_progname);
		exit(CER_EINTERNAL);
	}
	return p;
}
