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

struct cer_transcript;
struct cer_report;

struct cer_passwd_params {
	const char *key_path;
	const char *old_passphrase; /* NULL for a plain key */
	const char *new_passphrase; /* must pass cer_passphrase_check, differ from the old */
	const char *out_path;       /* NULL or "": replace key_path */
	/* NULL, or gets cer_passwd_report as its record ("passwd KEY: [OK] ..."),
	 * or the failure ("passwd KEY: [FAIL] ..."); never a passphrase. */
	struct cer_transcript *transcript;
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
 * back to the same key (nothing written).  A record lost after the key was
 * written: CER_EIO naming the transcript (reason CER_REASON_TRANSCRIPT).
 */
int cer_passwd(const struct cer_passwd_params *p, struct cer_passwd_result *out) CER_WUR;

/*
 * What cer_passwd did (free with cer_report_free):
 *   {"report": "passwd", "key": path, "written": path, "in_place": bool,
 *    "was_encrypted": bool}
 * Its lines say what was written and, for a key that was not encrypted,
 * that every medium that held it must be treated as exposed.
 */
int cer_passwd_report(const struct cer_passwd_params *p, const struct cer_passwd_result *r,
                      struct cer_report **out) CER_WUR;

/*
 * For a face that stops before cer_passwd (the current passphrase wrong at
 * every try, no acceptable new one): records the failure as cer_passwd
 * would.  Returns status, or CER_EIO when the record is lost.
 */
int cer_passwd_failed(const struct cer_passwd_params *p, int status) CER_WUR;

#endif
