#ifndef CER_REPORT_H
#define CER_REPORT_H

/*
 * Reports of the operations (inspect, verify, keygen, restore-blob, qr split
 * and join, ...), built once and rendered two ways: as text lines (batch
 * output and the wizard show the same lines) and as one JSON object.
 * Reports hold public information only.
 *
 * JSON of inspect:
 *   {"report": "inspect", "sd_file": path, "sha256": hex, "size": bytes,
 *    "form": "json"|"value"|"b64", "version": 1|2, "key_algorithm": str,
 *    "required": n, "shares": n, "kdf": str,
 *    "file_problems": [str] (unsupported key_algorithm or kdf),
 *    "enc_shares": [{"index": i, "x5t_256": str|null, "alg": str|null,
 *                    "enc": str|null, "certificate": path|null,
 *                    "pair": n, "half": 1|2 (version 1 only),
 *                    "problem": str|null}],
 *    "data": [{"index": i, "tag": str|null, "size": ciphertext bytes,
 *              "enc": str|null, "problem": str|null}],
 *    "certs_dir": DIR, "certificates_matched": n (shares whose certificate
 *    is in DIR; both only with certs_dir),
 *    "problems": n, "ok": bool}
 * JSON of restore-blob: {"report": "restore_blob", "path", "sha256": hex,
 *    "hsm_name": str ("" when not given), "az_command": the upload command}
 * JSON of rekey: see rekey.h; of token list: token_list.h; of keygen and
 * package: keygen.h; of qr split and qr join: qr.h; of passwd: passwd.h.
 * JSON of verify:
 *   {"report": "verify", "sd_file": path, "sha256": hex, "version": n,
 *    "key_algorithm": str, "required": n, "kdf": str,
 *    "keys": [{"key": path, "certificate": path|"", "x5t_256": str|"",
 *              "status": cer_share_outcome_name, "disagrees": bool,
 *              "message": str, "superseded": bool (a failed attempt that a
 *              good share of the same key file or certificate makes a retry),
 *              "superseded_by": n (1-based in keys) | null}],
 *    (every attempt, in the order presented, superseded ones included)
 *    "good": n, "needed": n (more good shares needed, 0 when reached),
 *    "subsets_checked": n,
 *    "data": [{"tag": str, "size": plaintext bytes, "status": "authenticated"|
 *              "failed"|"not_checked"}],
 *    "result": "verified"|"quorum_not_reached"|"failed", "exit_status": n,
 *    "message": str}
 */

#include <stddef.h>

#include "ceremony/cer.h"

struct cer_report;

/*
 * Describes a security-domain file, listing every malformed part without
 * stopping at the first.  With certs_dir, names the certificate file that
 * matches each share.  Returns CER_OK for a well-formed file, CER_EINPUT
 * when parts are malformed (report still produced), CER_EAUTH when certs_dir
 * is given and no share's certificate is in it (the report says so), or the
 * load failure
 * (CER_EIO / CER_EINPUT, *report NULL) when the file cannot be parsed at all.
 * t (may be NULL) gets the report as its record, or the load failure
 * ("inspect PATH: [FAIL] ...").  A record lost: CER_EIO naming the
 * transcript, the report still produced (so CER_EIO with a report means
 * exactly that).
 */
struct cer_transcript;
int cer_inspect(const char *sd_path, const char *certs_dir, struct cer_transcript *t,
                struct cer_report **report) CER_WUR;

/* The exit status the report stands for (0, CER_EQUORUM, CER_EAUTH, ...). */
int cer_report_status(const struct cer_report *r);

/* Text rendering: n lines, owned by the report, no trailing newlines. */
size_t cer_report_line_count(const struct cer_report *r);
const char *cer_report_line(const struct cer_report *r, size_t i);

/* JSON rendering, one object, malloc'ed (free), NULL on out of memory. */
char *cer_report_json(const struct cer_report *r);

/* One-line summary for transcripts ("verify: verified, 3 of 3 required, ..."). */
const char *cer_report_summary(const struct cer_report *r);

void cer_report_free(struct cer_report *r);

/*
 * For ceremony/ only: wraps a report JSON object of the kinds above (the
 * reference is taken over, also on failure) and renders its text lines.
 */
struct json_t;
int cer_report_build(struct json_t *obj, int status, struct cer_report **out) CER_WUR;

#endif
