#ifndef CER_PASSWD_H
#define CER_PASSWD_H

/*
 * A custodian's private key under a new passphrase: read the key (PEM
 * PKCS#8 plain or encrypted, PEM traditional RSA, or PKCS#12, as keys.h
 * loads them), write it as keygen does (pkcs8.h: PEM PKCS#8, scrypt,
 * AES-256-CBC), decrypt the new text again and compare it with the key, and
 * only then write it: mode 0600, atomically.  Without out_path the key file
 * itself is replaced (a PEM file only); with out_path a new file is written
 * (refused if it exists) and the old one is left alone.  A plain key becomes
 * an encrypted one.
 *
 * Passphrases are the caller's, in secret memory.  On failure nothing has
 * changed on disk.
 */

#include <stdbool.h>

#include "ceremony/cer.h"

/*
 * Whether the key at path is encrypted (so that a front end knows to ask for
 * the old passphrase).  CER_OK with *encrypted set; CER_EIO if unreadable,
 * CER_EINPUT if it is not a supported RSA private key.
 */
int cer_passwd_probe(const char *key_path, bool *encrypted) CER_WUR;

struct cer_passwd_params {
	const char *key_path;
	const char *old_passphrase; /* NULL for a plain key */
	const char *new_passphrase; /* must pass cer_passphrase_check, differ from the old */
	const char *out_path;       /* NULL or "": replace key_path */
};

struct cer_passwd_result {
	bool was_encrypted;
	char written[4096]; /* the file written */
};

/*
 * CER_EUSAGE: the new passphrase breaks keygen's rules or equals the old
 * one; the key is not PEM and no out_path was given; the old key needs a
 * passphrase and none was given.  CER_EAUTH: the old passphrase is wrong.
 * CER_EIO: unreadable key, out_path exists, cannot write.  CER_EINPUT: not a
 * supported RSA private key.  CER_EINTERNAL: the new text did not decrypt
 * back to the same key (nothing written).
 */
int cer_passwd(const struct cer_passwd_params *p, struct cer_passwd_result *out) CER_WUR;

#endif
