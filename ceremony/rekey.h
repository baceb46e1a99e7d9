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

struct cer_rekey_params {
	const char *sd_path;   /* the input file (never replaced) */
	const char *out_path;  /* the new file */
	bool force;            /* replace out_path if it exists (never the input) */
	unsigned quorum;       /* Q, 2..count */
	unsigned count;        /* N, CER_KEYGEN_MIN_KEYS..CER_KEYGEN_MAX_KEYS */
	const char *cert_paths[CER_KEYGEN_MAX_KEYS];
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
 * Opens the items through r (a session over sd with the old keys added),
 * builds the new file, checks it in memory, and writes out_path atomically.
 * Errors: those of cer_recovery_open_items (CER_EQUORUM, CER_EAUTH), CER_EIO
 * for the output, CER_EINTERNAL when the in-memory check fails (nothing is
 * written then).  On CER_OK *report (cer_report_free) describes the result;
 * on failure it is NULL and nothing is left on disk.
 */
int cer_rekey_run(struct cer_rekey *k, const struct cer_sd *sd, struct cer_recovery *r,
                  const struct cer_progress *progress, struct cer_report **report) CER_WUR;

#endif
