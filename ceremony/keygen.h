#ifndef CER_KEYGEN_H
#define CER_KEYGEN_H

/*
 * The key ceremony: the custodians' RSA wrapping keys, their self-signed
 * certificates, and the download package handed to the HSM.
 *
 * cer_keygen() makes, for custodian i (0-based):
 *   DIR/cert_i.cer   PEM X.509 v3 certificate, self-signed with SHA-256,
 *                    random positive 128-bit serial, CN = the custodian's name,
 *                    basicConstraints CA:FALSE, keyUsage keyEncipherment (both
 *                    critical), subject and authority key identifiers.
 *   DIR/cert_i.key   (or the custodian's key_path) the private key, PEM
 *                    PKCS#8 encrypted with PBES2 (scrypt N=2^14 r=8 p=1,
 *                    16-byte salt, AES-256-CBC) under the custodian's
 *                    passphrase; PEM PKCS#8 unencrypted only with
 *                    no_passphrase.  Mode 0600, created with O_EXCL, never
 *                    replacing a file.  scrypt N=2^14 r=8 is the most that
 *                    OpenSSL's and python-cryptography's (az's) 32 MiB scrypt
 *                    memory limit lets them open.
 *                    RSA: e = 65537, made by EVP_PKEY_keygen in the
 *                    provider the OpenSSL configuration selects (OPENSSL_CONF
 *                    is honoured); the private numbers stay in that provider
 *                    (the default one: OpenSSL's secure heap).  Checked by a
 *                    pairwise round trip before use.
 *   DIR/download-request.json  {"certificates": [JWK, ...], "required": Q}
 *   DIR/ceremony.json          the manifest (tool version, time, N, Q, bits,
 *                              per custodian name, files, thumbprints, validity;
 *                              for a key on a token "token": {label, serial,
 *                              object, id, uri, module} instead of "key").
 *
 * DIR is created mode 0700.  All or nothing: the set is built in a temporary
 * directory beside DIR and renamed into place at the end; keys written
 * outside DIR (key_path) go to temporary files beside their final names and
 * are linked (or, without hard links, renamed without replacing) into place
 * just before that rename.  On any failure or cancel every file made so far
 * is removed.
 *
 * DIR: missing or empty -> used.  Non-empty -> refused (CER_EIO) unless
 * force; with force the old DIR is renamed aside to "DIR.old-<UTC time>"
 * (never deleted, no key is ever overwritten) and the result names it.
 * A key_path outside DIR that already exists is refused even with force.
 *
 * Keys are generated on all cores by worker threads; progress callbacks are
 * made only from the thread that called cer_keygen(), so a front end may
 * draw from them (curses included).
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "ceremony/cer.h"

struct cer_tokens;
struct cer_transcript;

#define CER_KEYGEN_MIN_KEYS 3 /* the service's limits on N */
#define CER_KEYGEN_MAX_KEYS 10
#define CER_KEYGEN_MIN_QUORUM 2      /* Q in 2..N */
#define CER_KEYGEN_DEFAULT_BITS 3072 /* 2048, 3072 or 4096 */
#define CER_KEYGEN_DEFAULT_DAYS 730  /* the service never checks expiry */
#define CER_KEYGEN_MAX_DAYS 36500
#define CER_PASSPHRASE_MIN 12   /* characters (UTF-8 code points) */
#define CER_PASSPHRASE_MAX 1024 /* bytes */
#define CER_NAME_MAX 64         /* bytes of a custodian name (CN) */
#define CER_KG_PATH_MAX 4096

struct cer_keygen_custodian {
	/* CN of the certificate; NULL or "" -> "custodian-<i+1>". Printable
	 * UTF-8, no control characters, at most CER_NAME_MAX bytes. */
	const char *name;
	/* Borrowed, secret: the caller keeps it in cer_secret_alloc memory and
	 * wipes it.  Must pass cer_passphrase_check; NULL only with
	 * no_passphrase. */
	const char *passphrase;
	/* Where to write this custodian's private key (e.g. their removable
	 * media); NULL or "" -> DIR/cert_i.key.  A copy of the certificate is
	 * also written beside it (extension replaced by .cer, as az looks for
	 * it), so that file must not exist either. */
	const char *key_path;
	/*
	 * A PKCS#11 URI: this custodian's key pair is made on that token
	 * (token_keygen.h) instead of a key file: key_path and passphrase are
	 * not used.  The URI names one token present; its object= attribute, if
	 * any, is the new key's label (default "sd-wrap"), which must not be on
	 * the token yet.  The certificate is signed on the token, stored there
	 * with the key's CKA_ID, and written as DIR/cert_i.cer.  On failure the
	 * objects made on the token are destroyed.
	 */
	const char *token_uri;
	/* Borrowed, secret: the token's user PIN (NULL on a PIN-pad token). */
	const char *pin;
};

struct cer_keygen_params {
	const char *out_dir; /* DIR */
	unsigned count;      /* N, CER_KEYGEN_MIN_KEYS..CER_KEYGEN_MAX_KEYS */
	unsigned quorum;     /* Q, CER_KEYGEN_MIN_QUORUM..N */
	unsigned bits;       /* 2048, 3072 or 4096 */
	unsigned days;       /* validity, 1..CER_KEYGEN_MAX_DAYS */
	bool no_passphrase;  /* write unencrypted keys (a note warns) */
	bool force;          /* move a non-empty DIR aside instead of refusing */
	unsigned threads;    /* worker threads; 0 -> number of online CPUs */
	struct cer_keygen_custodian custodians[CER_KEYGEN_MAX_KEYS];
	/* The PKCS#11 modules, when any custodian has a token_uri (the caller's). */
	struct cer_tokens *tokens;
	/* Optional (the caller's): cer_keygen records its start, then its
	 * report, the SHA-256 of every public file it wrote and its result (or
	 * the failure), as "keygen ..." records.  A lost record after success
	 * makes cer_keygen return CER_EIO (the keys stay written). */
	struct cer_transcript *transcript;
	/* Optional: set to non-zero (e.g. from a SIGINT handler) to stop; the
	 * ceremony then fails with CER_EUSAGE "cancelled" and leaves nothing,
	 * unless the set was already being moved into place. */
	const atomic_int *cancel;
};

/* Defaults: bits 3072, days 730, everything else zero/NULL. */
void cer_keygen_params_init(struct cer_keygen_params *p);

/* N in 3..10 and Q in 2..N; CER_EUSAGE with a message otherwise. */
int cer_keygen_check_counts(unsigned count, unsigned quorum) CER_WUR;

/*
 * Checks a custodian name (NULL/"" is fine: the default is used).
 * CER_EUSAGE with a message naming the custodian (index 0-based) otherwise.
 */
int cer_keygen_check_name(unsigned index, const char *name) CER_WUR;

/* The name custodian `index` (0-based) gets: name, or "custodian-<index+1>"
 * when name is NULL or "". */
void cer_keygen_name(const char *name, unsigned index, char out[static CER_NAME_MAX + 1]);

/*
 * Splits a comma-separated list of custodian names, as both faces take it:
 * each name without the spaces and tabs around it, empty entries between
 * commas skipped, a list of only spaces and commas no names at all.  names
 * has room for max entries; *n gets how many.  CER_EUSAGE when there are
 * more than max or one is longer than CER_NAME_MAX (message names it by
 * position); each name still goes through cer_keygen_check_name.
 */
int cer_keygen_split_names(const char *list, char names[][CER_NAME_MAX + 1], unsigned max,
                           unsigned *n) CER_WUR;

/*
 * Passphrase rules for custodian `index` (0-based): at least
 * CER_PASSPHRASE_MIN characters, at most CER_PASSPHRASE_MAX bytes, not equal
 * to any of others[0..n_others-1] (the other custodians' passphrases, NULL
 * entries skipped; compared in constant time).  Returns CER_OK or CER_EUSAGE
 * with a message that names the custodian and never shows a passphrase.
 */
/*
 * True when two passphrases are the same (the passphrase typed twice, or two
 * custodians'); the bytes are compared in constant time.
 */
bool cer_passphrase_equal(const char *a, const char *b);

int cer_passphrase_check(unsigned index, const char *pass, const char *const *others,
                         size_t n_others) CER_WUR;

/*
 * Everything cer_keygen checks before generating anything: counts, bits,
 * days, names (distinct), passphrases (rules above, pairwise), key paths
 * (distinct, not existing, not inside DIR, their directories exist), DIR
 * (not a non-directory; non-empty only with force; its parent writable).
 * With no_passphrase set the passphrases are not looked at: a front end can
 * check everything else on a copy of the params before asking for them.
 */
int cer_keygen_check_params(const struct cer_keygen_params *p) CER_WUR;

/*
 * Removes the temporaries a killed keygen left beside DIR and beside the key
 * paths (the ones cer_keygen_check_params refuses, reason
 * CER_REASON_STALE_TEMP), for a front end that asked the operator first.
 */
int cer_keygen_remove_stale(const struct cer_keygen_params *p) CER_WUR;

/*
 * One custodian's key path, checked as soon as it is typed, as
 * cer_keygen_check_params would check it against p (out_dir and the other
 * custodians' key paths set so far): a directory means DIR/cert_<i>.key in
 * it.  *out receives the path to use ("" for an empty typed path: the
 * default).  CER_EUSAGE / CER_EIO with a message naming the custodian.
 */
int cer_keygen_key_path(const struct cer_keygen_params *p, unsigned i, const char *typed,
                        char out[static CER_KG_PATH_MAX]) CER_WUR;

struct cer_keygen_key {
	char name[CER_NAME_MAX + 1];
	char cert_path[CER_KG_PATH_MAX];
	char key_path[CER_KG_PATH_MAX];      /* "" for package (no key) */
	char key_cert_path[CER_KG_PATH_MAX]; /* certificate copy beside an outside key, or "" */
	char token_uri[640];   /* the key on a token: its URI; else "" (key_path "") */
	char thumb_b64url[44]; /* SHA-256 of the certificate DER, base64url */
	char thumb_hex[65];    /* the same in lowercase hex */
	char not_before[21];   /* "YYYY-MM-DDTHH:MM:SSZ" */
	char not_after[21];
	unsigned bits;
	bool encrypted; /* key file is passphrase-protected */
};

struct cer_keygen_result {
	unsigned count, quorum;
	struct cer_keygen_key keys[CER_KEYGEN_MAX_KEYS];
	char out_dir[CER_KG_PATH_MAX];
	char request_path[CER_KG_PATH_MAX];  /* DIR/download-request.json */
	char manifest_path[CER_KG_PATH_MAX]; /* DIR/ceremony.json */
	char old_dir[CER_KG_PATH_MAX];       /* where force moved the old DIR, or "" */
	char *az_command;                    /* the next step, one line (shell-quoted paths) */
	char *json;                          /* a JSON summary (the manifest's content) */
};

/*
 * Runs the key ceremony.  On success *out is a new result (free with
 * cer_keygen_result_free); on failure *out is NULL, nothing is left on
 * disk, and the status is CER_EUSAGE (parameters), CER_EIO (files) or
 * CER_EINTERNAL.  One exception: when the set was written but a transcript
 * record was then lost, the status is CER_EIO naming the transcript and
 * *out is set all the same.  progress may be NULL: step("generating keys", done, N)
 * as keys finish, notes for warnings (no passphrase, DIR moved aside).
 */
int cer_keygen(const struct cer_keygen_params *p, const struct cer_progress *progress,
               struct cer_keygen_result **out) CER_WUR;

struct cer_package_params {
	const char *out_dir; /* created if missing; the two JSON files must not exist */
	unsigned count;      /* number of certificates */
	unsigned quorum;
	const char *cert_paths[CER_KEYGEN_MAX_KEYS]; /* PEM or DER certificates */
	bool force;                                  /* replace existing JSON files in out_dir */
	struct cer_transcript *transcript; /* optional: "package ..." records, as keygen's */
};

/*
 * Builds DIR/download-request.json and DIR/ceremony.json from existing
 * certificates after checking: 3..10 of them, each RSA >= 2048 bits, all
 * public keys distinct, Q in 2..N.  Names come from the certificates' CN.
 * CER_EUSAGE (counts), CER_EINPUT (a certificate: message names the file),
 * CER_EIO (writing).  Result and transcript as for cer_keygen (key_path
 * empty; records "package ...").
 */
int cer_package(const struct cer_package_params *p, struct cer_keygen_result **out) CER_WUR;

struct cer_report;
/*
 * The result as a report (report.h) that both faces render: the text lines
 * (what was made, where, what must not go online, the next step), a
 * one-line summary, and JSON
 *   {"report": "keygen"|"package", "count", "quorum", "out_dir", "old_dir",
 *    "download_request", "manifest", "az_command",
 *    "custodians": [{"name", "certificate", "key", "key_encrypted",
 *                    "token_uri", "key_outside", "x5t#S256", "sha256_hex",
 *                    "not_before", "not_after", "bits"}]}
 * ("" for what does not apply).  Public information only.
 */
int cer_keygen_report(const struct cer_keygen_result *r, struct cer_report **out) CER_WUR;

/* Frees a result; NULL is fine. */
void cer_keygen_result_free(struct cer_keygen_result *r);

#endif
