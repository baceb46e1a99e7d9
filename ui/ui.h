#ifndef UI_H
#define UI_H

/*
 * Front ends over ceremony/.  Each batch command lives in its own file as
 * ui_<name>_main(argc, argv), where argv[0] is the command name; it returns
 * the process exit status (an enum cer_status value).
 */

#include <stdbool.h>
#include <stdio.h>

#include "ceremony/cer.h"

int ui_wizard_main(int argc, char **argv);
int ui_keygen_main(int argc, char **argv);
int ui_package_main(int argc, char **argv);
int ui_inspect_main(int argc, char **argv);
int ui_verify_main(int argc, char **argv);
int ui_restore_blob_main(int argc, char **argv);
int ui_rekey_main(int argc, char **argv);
int ui_passwd_main(int argc, char **argv);
int ui_qr_main(int argc, char **argv);
int ui_token_main(int argc, char **argv);
int ui_version_main(int argc, char **argv);

extern const char *ui_progname;

/*
 * Prints "sdceremony: <cer_errmsg()>" on stderr; returns status.  When the
 * failure's reason is CER_REASON_EXISTS and the command set ui_exists_hint
 * (how its flags replace an output, e.g. "use --force to replace it"), the
 * hint follows in parentheses.
 */
int ui_report(int status);
extern const char *ui_exists_hint;
/* The same for CER_REASON_NEEDS_OUT (e.g. "give --out for the file to write"). */
extern const char *ui_needs_out_hint;
/* Prints "sdceremony CMD: <message>" and a pointer to --help; returns CER_EUSAGE. */
int ui_usage_error(const char *cmd, const char *fmt, ...) CER_PRINTF(2, 3);

/*
 * The two endings of every command's option loop: getopt_long returned an
 * option the command does not know (or one missing its value), and
 * arguments left after the options.  Both print a usage error naming the
 * argument; ui_no_operands returns CER_OK when nothing is left.
 */
struct option;
/*
 * ui_bad_option takes the command's getopt_long table (opts may be NULL) to
 * say what went wrong with a long option: an ambiguous prefix (listing the
 * options it could be), a missing value, a value given to an option that
 * takes none, or an unknown name.
 */
int ui_bad_option(const char *cmd, char **argv, const struct option *opts);
int ui_no_operands(const char *cmd, int argc, char **argv);

/* A decimal number, digits only, at most 1000000; false otherwise. */
bool ui_parse_uint(const char *s, unsigned *out);

struct cer_keygen_result;
/*
 * Prints what keygen or package made on standard output: r->json, or text
 * (for keygen, whose keys have a key_path, each key's file, hex thumbprint
 * and validity too).
 */
void ui_keygen_result_print(const struct cer_keygen_result *r, bool json);

struct cer_report;
/*
 * Prints a report on standard output: its lines, or (json) one JSON object.
 * CER_EINTERNAL (message set) when out of memory, nothing printed then.
 */
int ui_print_report(const struct cer_report *rep, bool json) CER_WUR;

/* True when both standard input and standard output are terminals. */
bool ui_interactive(void);

/*
 * Reads a passphrase from the controlling terminal without echo, into
 * secret memory (cer_secret_free).  Returns NULL (message set) if there is
 * no terminal or input was cancelled.
 */
char *ui_read_passphrase(const char *prompt);

/*
 * Progress on stderr: a one-line bar when stderr is a terminal, nothing
 * otherwise; notes are always printed to stderr.
 */
extern const struct cer_progress ui_stderr_progress;

/*
 * Collects the values of a repeatable option given az style,
 * "--sd-wrapping-keys a b c" (values up to the next argument starting with
 * '-'), or repeated, "--certs a --certs b".  Call it right after getopt_long
 * returned the option, with first = optarg and optind_io = &optind; the
 * command's optstring must start with '+' so that getopt does not permute.
 * *list is realloc'ed and stays NULL-terminated.  Returns the new count, or
 * -1 on out of memory.
 */
int ui_collect_values(const char *first, int argc, char **argv, int *optind_io, const char ***list,
                      int count);

/*
 * After path failed to load as `role` ("the exchange key") with status: when
 * the file is plainly another kind, rewrites the message to say what it is
 * and what the user most likely did.  The variable arguments are pairs of
 * an enum cer_file_kind (as int) and the hint for it, ended by
 * CER_FILE_UNKNOWN.  Only CER_EINPUT failures are explained; returns status.
 */
int ui_explain_file(int status, const char *path, const char *role, ...);

/* xmalloc-style helpers: print and exit on out of memory. */
void *ui_xcalloc(size_t n, size_t size);
char *ui_xstrdup(const char *s);

#endif
