#ifndef CER_RECOVERY_H
#define CER_RECOVERY_H

/*
 * A recovery session: custodians present their keys one at a time.
 *
 * cer_recovery_add_key loads one private key, finds its certificate, finds
 * the share whose x5t_256 is that certificate's thumbprint, unwraps and
 * decrypts the share JWE (authenticating it in the same step), keeps the
 * decrypted share in secret memory and frees the private key before it
 * returns.  Once enough good shares are in, cer_recovery_verify (the drill:
 * writes nothing) or cer_recovery_restore_blob (writes the blob of
 * FORMAT.md section 7) rebuild the master key in secret memory and
 * authenticate every EncData item.  cer_recovery_free wipes everything.
 *
 * The session keeps a pointer to sd: sd must outlive it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/keys.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/token.h"

/* What happened to one key presented to the session. */
enum cer_share_outcome {
	CER_SHARE_GOOD = 0,       /* share found, decrypted and authenticated */
	CER_SHARE_NEEDS_PASSWORD, /* key is encrypted and no password was given */
	CER_SHARE_WRONG_PASSWORD, /* the password does not open the key */
	CER_SHARE_NOT_A_KEY,      /* unreadable, not a private key, or not RSA >= 2048 */
	CER_SHARE_NO_CERT,        /* the key's certificate was not found */
	CER_SHARE_NO_MATCH,       /* no share in the file for this certificate */
	CER_SHARE_DUPLICATE,      /* this key's share is already in the session */
	CER_SHARE_AUTH_FAILED,    /* the share did not decrypt / authenticate with this key */
	CER_SHARE_MALFORMED,      /* the share entry in the file is malformed */
	CER_SHARE_EXCHANGE_KEY,   /* the key's certificate has the exchange key's public key */
};

/* Short machine-readable name: "good", "needs_password", "wrong_password",
 * "not_a_key", "no_certificate", "no_share", "duplicate", "auth_failed",
 * "malformed", "exchange_key". */
const char *cer_share_outcome_name(enum cer_share_outcome o);
/* The same in plain words for people: "wrong passphrase", "no share in this
 * file", ... */
const char *cer_share_outcome_text(enum cer_share_outcome o);

struct cer_recovery;

/*
 * Starts a session over sd.  Fails (CER_EINPUT, naming the item by tag) if
 * the file cannot be recovered at all: a malformed item, unsupported enc,
 * kdf or algorithm (see cer_sd_check_items).
 */
int cer_recovery_new(const struct cer_sd *sd, struct cer_recovery **out) CER_WUR;
void cer_recovery_free(struct cer_recovery *r);

struct cer_transcript;

/*
 * Makes the session write its own audit records to t (transcript.h; the
 * caller's, which must outlive the session), so that the record is the same
 * whichever face ran it.  All records start with flow ("drill",
 * "recovery"):
 *   FLOW start: sd_file SD sha256 HEX (version V, N shares, Q required)
 *                                                      (now; SD is sd_label)
 *   FLOW key KEY: certificate C x5t_256 T: [OK] good, G of Q required
 *   FLOW key KEY: certificate C x5t_256 T: [FAIL] OUTCOME: MESSAGE
 *                                     (each attempt as it is recorded, "-"
 *                                     for an unknown certificate)
 *   the report (cer_transcript_add_report) and FLOW result: R (exit S)
 *                                                      (cer_recovery_verify)
 *   FLOW restore blob PATH: [OK] sha256 HEX | [FAIL] MESSAGE
 *                                                (cer_recovery_restore_blob)
 * No record holds a secret.  A key path that names nothing (it may be a
 * passphrase typed at the wrong prompt) is never repeated: the attempt is
 * recorded, and its message says, "a path that does not exist".  When a
 * record cannot be written, verify and restore_blob fail with CER_EIO
 * naming the transcript (after doing their work); this call fails so when
 * its own record cannot be written.
 */
#define CER_RECOVERY_MISSING_PATH "(a path that does not exist)" /* key_path of such an attempt */
int cer_recovery_set_transcript(struct cer_recovery *r, struct cer_transcript *t, const char *flow,
                                const char *sd_label) CER_WUR;

/*
 * For a drill or recovery that stops before its session records the end (the
 * file cannot be loaded, the exchange key is refused, a key cannot be
 * added): records "FLOW SD: [FAIL] MESSAGE (exit S)" in t (may be NULL),
 * keeping the message, alike in both faces.  Returns status, or CER_EIO when
 * the record is lost.
 */
int cer_recovery_failed(struct cer_transcript *t, const char *flow, const char *sd_path,
                        int status) CER_WUR;
/* CER_OK while every record was written; else CER_EIO with the message set. */
int cer_recovery_transcript_status(const struct cer_recovery *r);

/*
 * Presents one custodian's key.  password (secret memory, may be NULL) and
 * certs_dir (may be NULL) as in keys.h.  Returns CER_OK when the share is
 * good; otherwise *outcome says why and the message names the key:
 *   NEEDS_PASSWORD -> CER_EUSAGE   (ask for a password and call again)
 *   WRONG_PASSWORD, NO_MATCH, DUPLICATE, AUTH_FAILED -> CER_EAUTH
 *   NOT_A_KEY, NO_CERT, MALFORMED, EXCHANGE_KEY -> CER_EINPUT (CER_EIO if
 *   unreadable)
 * A directory, or a certificate given in place of a key, is NOT_A_KEY with
 * CER_EINPUT and a message saying so (for a certificate, the key file
 * beside it when there is one); the certificate's thumbprint is recorded.
 * Every call except NEEDS_PASSWORD is recorded in the session (for the
 * verify report and cer_recovery_key), failures included.
 *
 * Retries: a failed attempt is superseded when a good share in the session
 * comes from the same key file or from the same certificate (x5t_256 of the
 * certificate the attempt gave or whose key it was): a wrong passphrase and
 * then the right one, a certificate and then its key, the same key twice,
 * a directory and then a key file in it.
 * Superseded attempts are listed in the report and do not fail it; an
 * attempt that nothing supersedes (e.g. an unreadable file whose name was
 * never given again) fails verify and restore-blob alike.  A key that is
 * the exchange key's is never superseded.
 */
int cer_recovery_add_key(struct cer_recovery *r, const char *key_path, const char *password,
                         const char *certs_dir, enum cer_share_outcome *outcome) CER_WUR;

/*
 * Presents one custodian's key on a PKCS#11 token (token.h), named by uri:
 * finds the one token present that uri names, logs in with pin (secret
 * memory; NULL asks for nothing on a PIN-pad token), picks the one RSA
 * private key the URI names, finds its certificate (on the token with the
 * key's CKA_ID and public key, else in certs_dir), finds the share by that
 * certificate's thumbprint and unwraps it on the token (token_unwrap.h),
 * then logs out and closes the session, on every path.  progress (may be
 * NULL) gets a note saying how each share was unwrapped.  info (may be
 * NULL) gets the token's label, serial and PIN flags whenever the token was
 * found, also on failure, so that a front end can name it in its prompt and
 * warn (CKF_USER_PIN_COUNT_LOW, _FINAL_TRY, _LOCKED) before the next try.
 * The key is recorded under uri.  Returns as cer_recovery_add_key, and:
 *   NEEDS_PASSWORD -> CER_EUSAGE  (pin NULL on a token that needs a PIN; not recorded)
 *   WRONG_PASSWORD -> CER_EAUTH   (wrong or locked PIN; message names the token)
 *   NOT_A_KEY -> CER_EIO (no token present matches), CER_EUSAGE (the URI is
 *     malformed, carries a PIN, or matches several tokens or keys),
 *     CER_EINPUT (no RSA key matches on the token)
 *   NO_CERT -> CER_EINPUT; NO_MATCH -> CER_EAUTH (no share for its certificate)
 */
int cer_recovery_add_token(struct cer_recovery *r, struct cer_tokens *tokens, const char *uri,
                           const char *pin, const char *certs_dir,
                           const struct cer_progress *progress, struct cer_token_info *info,
                           enum cer_share_outcome *outcome) CER_WUR;

/*
 * Before a custodian types a passphrase: the certificate beside key_path
 * (named as cer_privkey_cert looks for it) says which share the key is for.
 * *share is that share's index (cer_recovery_share), or -1 when no
 * certificate is beside the key (then only unlocking it tells).  A
 * certificate there with no share in the file, or whose share is already
 * in, fails as add_key would (NO_MATCH or DUPLICATE, CER_EAUTH) and is
 * recorded in the session the same way, so that the report lists it.
 */
int cer_recovery_precheck(struct cer_recovery *r, const char *key_path, long *share,
                          enum cer_share_outcome *outcome) CER_WUR;

/* The security domain the session is over (for listing token keys against it). */
const struct cer_sd *cer_recovery_sd(const struct cer_recovery *r);

/* The file's shares, for a person choosing who comes next. */
struct cer_recovery_share {
	unsigned number;     /* 1-based, in file order */
	const char *x5t_256; /* as written in the file, "" if missing */
	const char *name;    /* its certificate's CN once known, else "" */
	bool in;             /* a good share from it is in the session */
};
size_t cer_recovery_share_count(const struct cer_recovery *r);
void cer_recovery_share(const struct cer_recovery *r, size_t i, struct cer_recovery_share *out);
/* Learns the shares' names from the certificates in certs_dir (keys.h's
 * cer_certs_dir_find); shares without one there stay unnamed.  Presented
 * keys name their shares as they come. */
int cer_recovery_name_shares(struct cer_recovery *r, const char *certs_dir) CER_WUR;

unsigned cer_recovery_good(const struct cer_recovery *r);     /* good shares so far */
unsigned cer_recovery_required(const struct cer_recovery *r); /* shares needed */
/* True when the good shares can rebuild the key (version 1: both halves of a pair). */
bool cer_recovery_ready(const struct cer_recovery *r);

/* One presented key, in the order presented (public information only). */
struct cer_recovery_key {
	const char *key_path;
	const char *cert_path; /* "" if not found */
	const char *x5t_256;   /* thumbprint text, "" if the certificate was not found */
	enum cer_share_outcome outcome;
	const char *message;  /* "" for a good share, else the failure line */
	int status;           /* CER_OK for a good share, else the failure's status */
	bool disagrees;       /* set by verify: authentic share that does not combine */
	bool superseded;      /* a failed attempt that a good share makes a retry */
	size_t superseded_by; /* when superseded: index of that good share */
};
size_t cer_recovery_key_count(const struct cer_recovery *r);
void cer_recovery_key(const struct cer_recovery *r, size_t i, struct cer_recovery_key *out);

/*
 * CER_OK when every failed attempt is superseded; else the first that is
 * not: its status (CER_EINPUT, CER_EAUTH, CER_EIO) and its message.
 */
int cer_recovery_check_keys(const struct cer_recovery *r) CER_WUR;

/*
 * The drill.  Writes nothing.  With enough good shares: rebuilds the master
 * key, authenticates and decrypts every item (then wipes them); with more
 * than needed, checks every subset of `required` good shares gives the same
 * master key and marks the shares that disagree.  With too few: reports
 * each key's status and how many more shares are needed.
 * Returns CER_OK only when full recovery was verified (superseded attempts
 * allowed); CER_EQUORUM when every attempt not superseded was good but the
 * shares are too few; the status of cer_recovery_check_keys when an attempt
 * failed and nothing superseded it; CER_EAUTH / CER_EINPUT when shares
 * disagree or an item fails (message names key or tag).
 * *report (free with cer_report_free) is produced whenever possible, also
 * on failure; it may be NULL only on CER_EINTERNAL.
 */
int cer_recovery_verify(struct cer_recovery *r, const struct cer_progress *progress,
                        struct cer_report **report) CER_WUR;

struct cer_exchange;

/*
 * Binds the new HSM's exchange key (exchange.h) to a recovery session,
 * before the first custodian unlocks a key, and refuses (CER_EINPUT, one line
 * naming both files) an exchange key that is a custodian's: its thumbprint is
 * a share's x5t_256 in the file, or its public key is that of a certificate
 * in certs_dir (may be NULL) or of a key already presented.  Keys presented
 * afterwards are checked as they come: one with the exchange key's public key
 * gets outcome EXCHANGE_KEY and unbinds it, so that no blob can be written
 * in the session.  x must outlive the session; on failure nothing is bound.
 */
int cer_recovery_set_exchange(struct cer_recovery *r, const struct cer_exchange *x,
                              const char *certs_dir) CER_WUR;

/*
 * Rebuilds the master key, decrypts and authenticates every item, picks a
 * fresh random master key, re-encrypts every item under it, wraps it to the
 * bound exchange key (RSA-OAEP-256), and only then writes out_path
 * atomically (refused if it exists, unless force).  sha256_hex receives the
 * blob's SHA-256 (64 hex digits).  Refuses first, as
 * cer_recovery_check_keys, a session where an attempt failed and nothing
 * superseded it.  CER_EUSAGE if no exchange key is bound;
 * CER_EQUORUM if not enough good shares; CER_EAUTH if the shares do not
 * rebuild a key that authenticates the items (message names the item's
 * tag); CER_EIO for the output.
 */
/*
 * What a written restore blob is, for both faces (report.h, "restore_blob"):
 * its path, SHA-256 and the upload command, for the HSM hsm_name ("" or
 * NULL: "<HSM>").
 */
int cer_recovery_blob_report(const char *out_path, const char *sha256_hex, const char *hsm_name,
                             struct cer_report **out) CER_WUR;

int cer_recovery_restore_blob(struct cer_recovery *r, const char *out_path, bool force,
                              const struct cer_progress *progress,
                              char sha256_hex[static 65]) CER_WUR;

/*
 * For rekey: rebuilds the master key as verify does (with more good shares
 * than required, every subset must rebuild the same key; a share that
 * disagrees fails CER_EAUTH naming its key), then authenticates and decrypts
 * every item.  plain and plain_len are the caller's arrays of
 * cer_sd_item_count(sd) entries; on CER_OK plain[i] points to item i's
 * plaintext, in file order, inside *arena: one block of secret memory the
 * caller frees with cer_secret_free once done with them all.  The master key
 * is wiped before return; on failure *arena and every plain[i] are NULL.
 * CER_EQUORUM when too few good shares; CER_EAUTH as for verify.
 */
int cer_recovery_open_items(struct cer_recovery *r, const struct cer_progress *progress,
                            uint8_t **plain, size_t *plain_len, uint8_t **arena) CER_WUR;
/* Subsets of shares the last verify or open_items tried. */
unsigned long cer_recovery_subsets_checked(const struct cer_recovery *r);

#endif
