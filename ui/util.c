#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/report.h"
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

int ui_bad_option(const char *cmd, char **argv)
{
	return ui_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
}

int ui_no_operands(const char *cmd, int argc, char **argv)
{
	if (optind < argc)
		return ui_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return CER_OK;
}

bool ui_parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 1000000)
		return false;
	*out = (unsigned)v;
	return true;
}

int ui_print_report(const struct cer_report *rep, bool json)
{
	char *text;
	size_t i;

	if (!json) {
		for (i = 0; i < cer_report_line_count(rep); i++)
			printf("%s\n", cer_report_line(rep, i));
		return CER_OK;
	}
	text = cer_report_json(rep);
	if (text == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	printf("%s\n", text);
	free(text);
	return CER_OK;
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
