#ifndef CER_REKEY_H
#define CER_REKEY_H

/*
 * Rekey: re-share a security domain to a new set of custodians or a new
 * quorum, offline.  A recovery session (recovery.h) with a quorum of the
 * current custodians' keys gives the items' plaintexts; a fresh random
 * master key M' is drawn, every item is re-encrypted under the SP 800-108
 * key for its tag (same tags, same order, same plaintexts), M' is split
 * with sss_split into one share per new certificate (x = 1..N in the order
 * given), each share a compact JWE RSA-OAEP-256 + A256CBC-HS512 to its
 * certificate with its x5t_256, in the service's version 2 layout
 * (FORMAT.md section 2).  Before anything is written, the new file is
 * parsed back in memory: each share decrypts (with the content key kept for
 * the check) to the share made, every subset of Q shares rebuilds M', and
 * every item authenticates under M' to its old plaintext.  What cannot be
 * checked without the new private keys is each RSA-OAEP wrap of a share's
 * content key: that is what each new custodian's drill proves.
 *
 * Secrets: M', the shares, the content keys and the plaintexts live in
 * cer_secret_alloc memory and are wiped on every path; the old master key
 * never leaves the recovery session, which wipes it.
 *
 * The old file stays valid: its shares still open it.  The report says so:
 * every copy of it must be destroyed once each new custodian has passed a
 * drill on the new file.
 *
 * JSON of the report:
 *   {"report": "rekey", "sd_file": old path, "sha256": hex of the old file,
 *    "version": old version, "required": old quorum,
 *    "keys": [{"key": path, "certificate": path, "x5t_256": str}] (keys used),
 *    "subsets_checked": n (old shares),
 *    "new_sd_file": path, "new_sha256": hex, "new_version": 2,
 *    "new_required": Q,
 *    "new_shares": [{"x": n, "certificate": path, "x5t_256": str,
 *                    "subject_cn": str, "rsa_bits": n, "in_old_file": bool}],
 *    "new_subsets_checked": n,
 *    "data": [{"tag": str, "size": plaintext bytes}],
 *    "result": "rekeyed", "exit_status": 0, "message": str}
 */

#include <stdbool.h>

#include "ceremony/cer.h"
#include "ceremony/keygen.h"
#include "ceremony/recovery.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"

struct cer_transcript;

struct cer_rekey_params {
	const char *sd_path;  /* the input file (never replaced) */
	const char *out_path; /* the new file */
	bool force;           /* replace out_path if it exists (never the input) */
	unsigned quorum;      /* Q, 2..count */
	unsigned count;       /* N, CER_KEYGEN_MIN_KEYS..CER_KEYGEN_MAX_KEYS */
	const char *cert_paths[CER_KEYGEN_MAX_KEYS];
	/* NULL, or the transcript: cer_rekey_record_plan records the plan,
	 * cer_rekey_run its report or its failure (both faces alike). */
	struct cer_transcript *transcript;
};

struct cer_rekey;

/*
 * Everything that can be checked before a custodian unlocks a key, as
 * package checks certificates:
 *   CER_EUSAGE: count not in 3..10, Q not in 2..N, out_path is the input
 *     file (same file, by device and inode; also with force);
 *   CER_EIO / CER_EINPUT: a certificate unreadable / not a certificate, not
 *     RSA, under 2048 bits, or with the same public key as another (message
 *     names the file);
 *   CER_EIO: out_path exists (without force) or its directory is not
 *     writable.
 * On success *out holds the loaded certificates (public).
 */
int cer_rekey_new(const struct cer_rekey_params *p, struct cer_rekey **out) CER_WUR;
void cer_rekey_free(struct cer_rekey *k);

/*
 * The output checks of cer_rekey_new alone (out_path not the input file,
 * not existing unless force, its directory writable), for a front end that
 * asks for the new file's name before the new certificates are known.
 */
int cer_rekey_check_out(const struct cer_rekey_params *p) CER_WUR;

/*
 * The certificates in a directory, for a front end given a directory of
 * new certificates (keygen's or package's output): the files whose names
 * end in ".cer", in byte order of their names (cert_0.cer .. cert_9.cer),
 * each path written to paths[i] (CER_KG_PATH_MAX bytes each).  CER_EIO if
 * the directory cannot be read; CER_EUSAGE if it holds none or more than
 * CER_KEYGEN_MAX_KEYS.  The certificates themselves are checked by
 * cer_rekey_new.
 */
int cer_rekey_certs_in_dir(const char *dir, char (*paths)[CER_KG_PATH_MAX],
                           unsigned *count) CER_WUR;

/* One new share to be made, for a front end's confirmation (public). */
struct cer_rekey_share {
	unsigned x; /* 1-based */
	const char *cert_path;
	const char *subject_cn; /* "" if none */
	const char *x5t_256;
	unsigned rsa_bits;
	bool in_old_file; /* its certificate also holds a share of sd */
};
unsigned cer_rekey_count(const struct cer_rekey *k);
unsigned cer_rekey_quorum(const struct cer_rekey *k);
void cer_rekey_share(const struct cer_rekey *k, const struct cer_sd *sd, unsigned i,
                     struct cer_rekey_share *out);

/*
 * Records the plan in p->transcript (nothing without one): the current file
 * (SHA-256, version, shares, quorum), the new file, its shares and quorum,
 * then each new share as cer_rekey_share gives it.  CER_EIO naming the
 * transcript when a record is lost.
 */
int cer_rekey_record_plan(const struct cer_rekey *k, const struct cer_sd *sd) CER_WUR;

/*
 * For a face whose rekey stops before cer_rekey_run (an unreadable file, a
 * refused certificate, too few keys): records "rekey: failed (exit N): ..."
 * in t (may be NULL) as cer_rekey_run records its own failure, keeping the
 * message.  Returns status, or CER_EIO when the record is lost.
 */
int cer_rekey_failed(struct cer_transcript *t, int status) CER_WUR;

/*
 * The current custodians' part, checked before anything is built: a failed
 * attempt that nothing superseded fails it as it fails restore-blob
 * (cer_recovery_check_keys); then CER_OK when r holds enough good shares to
 * rebuild the master key, else CER_EQUORUM saying in plain words how many
 * are in and how many the file needs.  cer_rekey_run starts with it.
 */
int cer_rekey_check_session(const struct cer_recovery *r, const struct cer_sd *sd) CER_WUR;

/*
 * Opens the items through r (a session over sd with the old keys added),
 * builds the new file, checks it in memory, and writes out_path atomically.
 * Errors: those of cer_recovery_open_items (CER_EQUORUM, CER_EAUTH), CER_EIO
 * for the output, CER_EINTERNAL when the in-memory check fails (nothing is
 * written then).  On CER_OK *report (cer_report_free) describes the result;
 * on failure it is NULL and nothing is left on disk.  The report, or the
 * failure, is recorded in the params' transcript; a record lost after the
 * file was written: CER_EIO, reason CER_REASON_TRANSCRIPT, *report still
 * set (the file stands).
 */
int cer_rekey_run(struct cer_rekey *k, const struct cer_sd *sd, struct cer_recovery *r,
                  const struct cer_progress *progress, struct cer_report **report) CER_WUR;

#endif
