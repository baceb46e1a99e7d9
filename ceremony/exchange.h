#ifndef CER_EXCHANGE_H
#define CER_EXCHANGE_H

/*
 * The new HSM's exchange key, checked: the one input that decides who can
 * open the restore blob.  Opening one loads it (any form of FORMAT.md
 * section 6), hashes the bytes it came in, verifies its SGX attestation
 * where it has one (attest.h) and applies the operator's policy; the result
 * is one report that batch mode prints and the wizard shows, so that what
 * the online administrators read out can be compared with it: the file's
 * SHA-256, the subject CN, the thumbprint, the attestation's measurements.
 *
 * JSON of the report:
 *   {"report": "exchange_key", "exchange_key": name, "sha256": hex,
 *    "size": bytes, "from_file": bool, "subject_cn": str, "x5t_256": str,
 *    "rsa_bits": n, "not_after": str, "hsm_name": str|null,
 *    "attestation": {"status": "verified"|"absent",
 *                    "mrsigner": hex, "mrenclave": hex, "isvprodid": n,
 *                    "isvsvn": n, "qe_svn": n, "pce_svn": n,
 *                    "pck_not_after": str, "pck_valid_now": bool,
 *                    "mrsigner_pinned": bool}   (the measurements when verified)
 *   }
 * Everything here is public.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ceremony/attest.h"
#include "ceremony/cer.h"
#include "ceremony/keys.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"

#define CER_HSM_DOMAIN ".managedhsm.azure.net"

/* What the operator requires of the exchange key; zero means nothing extra. */
struct cer_exchange_policy {
	char hsm_name[256]; /* "" : not bound */
	bool require_attestation;
	bool pin_mrsigner;
	uint8_t mrsigner[CER_SGX_MEASUREMENT_LEN];
	time_t now; /* compared with the PCK certificate's dates only */
};

/*
 * Policy setters, for the command line and the wizard alike.  CER_EUSAGE
 * (message saying why) for a name that is not a host name's label or a full
 * host name (letters, digits, '-', '.'; at most 253), or a MRSIGNER that is
 * not 64 hex digits.  An empty string clears the setting.
 */
int cer_exchange_policy_hsm_name(struct cer_exchange_policy *p, const char *name) CER_WUR;
int cer_exchange_policy_mrsigner(struct cer_exchange_policy *p, const char *hex) CER_WUR;

struct cer_exchange;

/*
 * Loads, attests and checks an exchange key against the policy.
 *   CER_EIO / CER_EINPUT: unreadable, malformed, not RSA >= 2048 (as
 *     cer_exchange_key_load);
 *   CER_EAUTH: the attestation is present and does not verify (message
 *     naming the failed check), or the policy refuses: --require-attestation
 *     on a key without one, a MRSIGNER other than the pinned one, a subject
 *     CN that is not the named HSM's (or names no HSM at all).
 * Every message names the key and, where it matters, quotes its CN.
 */
int cer_exchange_open(const char *path, const struct cer_exchange_policy *p,
                      struct cer_exchange **out) CER_WUR;
/* The same from bytes in memory (joined QR parts); name names them. */
int cer_exchange_open_mem(const uint8_t *buf, size_t len, const char *name,
                          const struct cer_exchange_policy *p, struct cer_exchange **out) CER_WUR;
void cer_exchange_free(struct cer_exchange *x);

const struct cer_cert *cer_exchange_cert(const struct cer_exchange *x);
const char *cer_exchange_name(const struct cer_exchange *x);
const char *cer_exchange_sha256_hex(const struct cer_exchange *x); /* of the bytes read */
const struct cer_attestation *cer_exchange_attestation(const struct cer_exchange *x);
/* The facts to compare, as lines, JSON and a one-line summary (owned by x). */
const struct cer_report *cer_exchange_report(const struct cer_exchange *x);

/*
 * Refuses (CER_EINPUT, one line naming both files) an exchange key that is a
 * custodian's: its thumbprint is a share's x5t_256 in sd.
 */
int cer_exchange_check_sd(const struct cer_exchange *x, const struct cer_sd *sd) CER_WUR;
/*
 * The same when a custodian's certificate (cert_path, for the message) has
 * the exchange key's public key: spki is its cer_cert_spki_sha256.
 */
int cer_exchange_check_key(const struct cer_exchange *x, const uint8_t spki[static CER_THUMB_LEN],
                           const char *cert_path) CER_WUR;
/* The same for every certificate file in certs_dir (CER_EIO if it cannot be read). */
int cer_exchange_check_dir(const struct cer_exchange *x, const char *certs_dir) CER_WUR;

#endif
