#ifndef UI_CMD_RECOVERY_KEYS_H
#define UI_CMD_RECOVERY_KEYS_H

/*
 * The key options shared by restore-blob, verify and rekey:
 * --sd-wrapping-keys (key files or PKCS#11 URIs), --passwords /
 * --password-files (for the key files, in their order), --pin-file (for the
 * URIs, in their order), --pkcs11-module, --certs; and presenting those keys
 * to a recovery session, asking on the terminal for a missing password or
 * PIN.
 */

#include <stdbool.h>

#include "ceremony/recovery.h"

struct ui_recovery_keys {
	const char **keys;
	int nkeys;
	const char **passwords; /* secret copies (cer_secret_alloc); argv's are wiped */
	int npasswords;
	const char **password_files;
	int npassword_files;
	const char *certs_dir;
	const char **pin_files; /* one per PKCS#11 URI among keys, in their order */
	int npin_files;
	const char *pkcs11_module; /* NULL: the modules registered with p11-kit */
	struct cer_tokens *tokens; /* opened at the first URI */
	/* Secret: the password that opened key i, kept so that a key is asked
	 * for once when it is presented to several sessions (verify with several
	 * files); NULL until then.  Wiped by ui_recovery_keys_free. */
	char **cache;
};

/*
 * getopt_long values of those options (name them in each command's option
 * table); a command's own options start at UI_RK_OPT_END.
 */
enum {
	UI_RK_OPT_KEYS = 256,     /* --sd-wrapping-keys KEY... */
	UI_RK_OPT_PASSWORDS,      /* --passwords P... */
	UI_RK_OPT_PASSWORD_FILES, /* --password-files F... */
	UI_RK_OPT_CERTS,          /* --certs DIR */
	UI_RK_OPT_PIN_FILES,      /* --pin-file F... */
	UI_RK_OPT_PKCS11_MODULE,  /* --pkcs11-module PATH */
	UI_RK_OPT_END,
};

/* Their entries in a command's getopt_long table (keygen's spelling
 * --passphrase-file is --password-files). */
#define UI_RK_LONGOPTS                                                                             \
	{"sd-wrapping-keys", required_argument, NULL, UI_RK_OPT_KEYS},                             \
	        {"passwords", required_argument, NULL, UI_RK_OPT_PASSWORDS},                       \
	        {"password-files", required_argument, NULL, UI_RK_OPT_PASSWORD_FILES},             \
	        {"passphrase-file", required_argument, NULL, UI_RK_OPT_PASSWORD_FILES},            \
	        {"certs", required_argument, NULL, UI_RK_OPT_CERTS},                               \
	        {"pin-file", required_argument, NULL, UI_RK_OPT_PIN_FILES},                        \
	{                                                                                          \
		"pkcs11-module", required_argument, NULL, UI_RK_OPT_PKCS11_MODULE                  \
	}

/*
 * A command's fallback for options it does not handle itself: takes option
 * c, just returned by getopt_long (optarg and optind as it left them), when
 * it is one of the above.  Returns CER_OK if taken; otherwise prints why and
 * returns CER_EUSAGE (c is unknown or lacks its value: ui_bad_option, with
 * the command's table opts) or
 * CER_EINTERNAL (out of memory).
 */
struct option;
int ui_recovery_keys_option(struct ui_recovery_keys *k, const char *cmd, int c, int argc,
                            char **argv, const struct option *opts);
/*
 * --passwords values are copied to secret memory and wiped from argv as
 * soon as the option is parsed, before any key is touched, so that
 * /proc/PID/cmdline shows none of them for longer than the option loop.
 */

/*
 * The environment switch of the tests of the raw unwrap path: with
 * SDCEREMONY_TEST_PKCS11_RAW=1 every token share is unwrapped with
 * CKM_RSA_X_509 and decoded on the host, even where the token does OAEP.
 */
#define UI_RK_RAW_ENV "SDCEREMONY_TEST_PKCS11_RAW"

/* Frees the lists, wipes the password copies and the cache, closes the tokens (the other strings
 * are argv's). */
void ui_recovery_keys_free(struct ui_recovery_keys *k);

/*
 * Checks counts and exclusivity, and that no --passwords value is the name
 * of an existing file (--password-files was meant); prints a usage error and
 * returns CER_EUSAGE.
 */
int ui_recovery_keys_check(const char *cmd, const struct ui_recovery_keys *k);

/*
 * Presents each key in turn.  A key that needs a password and has none is
 * asked for on the terminal without echo (only when standard input is a
 * terminal); otherwise it fails naming the key (CER_EUSAGE).
 * stop_on_failure: return at the first key that fails (restore-blob); else
 * go on and return CER_OK unless something other than a bad key happened
 * (verify, whose report tells every key's fate).
 * stop_when_ready: stop presenting keys once the session has enough shares.
 * A password that opened a key is kept for the next call with another
 * session, so that nobody types it twice.
 */
int ui_recovery_keys_add(struct cer_recovery *r, struct ui_recovery_keys *k, bool stop_on_failure,
                         bool stop_when_ready);

/*
 * When fewer passwords (or password files) than keys were given, a clause
 * saying so and how they are matched to keys, for a message about a key
 * that needs one or whose password is wrong; else "".  Static storage.
 */
const char *ui_recovery_keys_hint(const struct ui_recovery_keys *k);
/*
 * Adds that clause to the current message when status is a failure whose
 * first attempt that stands is a wrong passphrase; returns status.
 */
int ui_recovery_keys_explain(const struct ui_recovery_keys *k, const struct cer_recovery *r,
                             int status);

#endif
