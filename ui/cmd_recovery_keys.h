#ifndef UI_CMD_RECOVERY_KEYS_H
#define UI_CMD_RECOVERY_KEYS_H

/*
 * The key options shared by restore-blob and verify: --sd-wrapping-keys,
 * --passwords / --password-files, --certs; and presenting those keys to a
 * recovery session, asking on the terminal for a missing password.
 */

#include <stdbool.h>

#include "ceremony/recovery.h"

struct ui_recovery_keys {
	const char **keys;
	int nkeys;
	const char **passwords; /* point into argv; wiped once copied */
	int npasswords;
	const char **password_files;
	int npassword_files;
	const char *certs_dir;
};

/* Checks counts and exclusivity; prints a usage error and returns CER_EUSAGE. */
int ui_recovery_keys_check(const char *cmd, const struct ui_recovery_keys *k);

/*
 * Presents each key in turn.  A key that needs a password and has none is
 * asked for on the terminal without echo (only when standard input is a
 * terminal); otherwise it fails naming the key (CER_EUSAGE).
 * stop_on_failure: return at the first key that fails (restore-blob); else
 * go on and return CER_OK unless something other than a bad key happened
 * (verify, whose report tells every key's fate).
 * stop_when_ready: stop presenting keys once the session has enough shares.
 */
int ui_recovery_keys_add(struct cer_recovery *r, struct ui_recovery_keys *k,
                         bool stop_on_failure, bool stop_when_ready);

#endif
