#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ceremony/filekind.h"
#include "ceremony/report.h"
#include "ui/ui.h"

const char *ui_progname = "sdceremony";
const char *ui_exists_hint;
const char *ui_needs_out_hint;

int ui_report(int status)
{
	const char *msg = cer_errmsg();

	fprintf(stderr, "%s: %s", ui_progname, msg[0] != '\0' ? msg : cer_status_name(status));
	if (cer_errreason() == CER_REASON_EXISTS && ui_exists_hint != NULL)
		fprintf(stderr, " (%s)", ui_exists_hint);
	if (cer_errreason() == CER_REASON_NEEDS_OUT && ui_needs_out_hint != NULL)
		fprintf(stderr, " (%s)", ui_needs_out_hint);
	if (cer_errreason() == CER_REASON_UNLOCKED)
		fprintf(stderr, " (accept the risk with --allow-unlocked-memory)");
	if (cer_errreason() == CER_REASON_PIN_IN_URI)
		fprintf(stderr, " (give the PIN at the prompt or with --pin-file)");
	if (cer_errreason() == CER_REASON_NO_CERT)
		fprintf(stderr, " (give --certs DIR with its certificate)");
	fprintf(stderr, "\n");
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

/* The options whose names start with name[0..len), each name once; the exact one alone. */
static size_t option_matches(const struct option *opts, const char *name, size_t len,
                             const struct option **found, size_t max)
{
	size_t n = 0, i, j;

	for (i = 0; opts[i].name != NULL; i++) {
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) {
			found[0] = &opts[i];
			return 1;
		}
	}
	for (i = 0; opts[i].name != NULL; i++) {
		if (strncmp(opts[i].name, name, len) != 0)
			continue;
		for (j = 0; j < n && strcmp(found[j]->name, opts[i].name) != 0; j++)
			;
		if (j == n && n < max)
			found[n++] = &opts[i];
	}
	return n;
}

int ui_bad_option(const char *cmd, char **argv, const struct option *opts)
{
	const char *arg = argv[optind - 1], *name = arg + 2;
	const struct option *found[32];
	size_t len = strcspn(name, "="), n, i;
	char list[1024] = "";

	if (strncmp(arg, "--", 2) != 0 || len == 0) {
		if (optopt <= ' ' || optopt >= 127)
			return ui_usage_error(cmd, "unknown option '%s'", arg);
		for (i = 0; opts != NULL && opts[i].name != NULL; i++)
			if (opts[i].val == optopt && opts[i].has_arg == required_argument)
				return ui_usage_error(cmd, "option '-%c' needs a value", optopt);
		return ui_usage_error(cmd, "unknown option '-%c'", optopt);
	}
	if (opts == NULL)
		return ui_usage_error(cmd, "unknown or incomplete option '%s'", arg);
	n = option_matches(opts, name, len, found, sizeof found / sizeof found[0]);
	if (n > 1) {
		for (i = 0; i < n; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s--%s",
			         i == 0       ? ""
			         : i + 1 == n ? " or "
			                      : ", ",
			         found[i]->name);
		return ui_usage_error(cmd, "option '--%.*s' is ambiguous: did you mean %s?",
		                      (int)len, name, list);
	}
	if (n == 1 && found[0]->has_arg == required_argument && name[len] != '=')
		return ui_usage_error(cmd, "option '--%s' needs a value", found[0]->name);
	if (n == 1 && found[0]->has_arg == no_argument && name[len] == '=')
		return ui_usage_error(cmd, "option '--%s' takes no value", found[0]->name);
	return ui_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
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

int ui_collect_values(const char *first, int argc, char **argv, int *optind_io, const char ***list,
                      int count)
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

int ui_explain_file(int status, const char *path, const char *role, ...)
{
	enum cer_file_kind kind, k;
	const char *hint = NULL;
	va_list ap;

	if (status != CER_EINPUT)
		return status;
	kind = cer_file_kind(path);
	va_start(ap, role);
	while ((k = (enum cer_file_kind)va_arg(ap, int)) != CER_FILE_UNKNOWN) {
		const char *h = va_arg(ap, const char *);

		if (k == kind)
			hint = h;
	}
	va_end(ap);
	if (hint == NULL)
		return status;
	return cer_fail(status, "%s: this is %s, not %s (%s)", path, cer_file_kind_text(kind), role,
	                hint);
}
