#ifndef CER_ATTEST_H
#define CER_ATTEST_H

/*
 * The SGX attestation a Managed HSM puts in its exchange (transfer) key
 * (FORMAT.md section 9), verified offline.
 *
 * The certificate carries a non-critical extension, OID CER_ATTEST_OID,
 * whose value is an Open Enclave evidence header followed by an Intel SGX
 * DCAP ECDSA quote, version 3, with its PCK certificate chain.  Verifying it
 * proves that the key was bound (REPORTDATA = SHA-256(SubjectPublicKeyInfo)
 * || 32 zero bytes) by a non-debug SGX enclave with the reported
 * measurements, on a platform that Intel provisioned: the chain leads to the
 * Intel SGX Root CA pinned here, the PCK leaf signs the quoting enclave's
 * report, the quoting enclave is Intel's, and its attestation key signs the
 * quote.  It does not prove that the quote is fresh (it has no nonce or
 * time), that the platform's TCB is current or unrevoked (Intel's collateral
 * needs the network), nor, unless the caller pins MRSIGNER, whose enclave it
 * is.  Certificate validity dates are not enforced (the service checks none);
 * the time given is used only to say whether the PCK certificate is within
 * its validity then.
 *
 * Everything here is public; the evidence is hostile input, parsed with every
 * length checked against the bytes that hold it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ceremony/cer.h"
#include "ceremony/keys.h"

#define CER_ATTEST_OID "1.2.840.113556.10.1.1"
#define CER_SGX_MEASUREMENT_LEN 32
#define CER_SGX_EVIDENCE_MAX ((size_t)64 << 10) /* larger evidence is refused */

/* The parsed evidence: pointers into the caller's buffer, which must outlive it. */
struct cer_sgx_evidence {
	const uint8_t *quote;   /* quote header (48) || ISV report body (384): signed */
	const uint8_t *body;    /* the ISV enclave's report body, 384 bytes */
	const uint8_t *sig;     /* quote signature r || s, 64 bytes */
	const uint8_t *att_key; /* attestation public key x || y, 64 bytes */
	const uint8_t *qe_body; /* quoting enclave's report body, 384 bytes */
	const uint8_t *qe_sig;  /* its signature r || s by the PCK leaf key, 64 bytes */
	const uint8_t *qe_auth; /* QE authentication data */
	size_t qe_auth_len;
	const char *pck_chain; /* PEM chain: PCK leaf, intermediate CA, root CA */
	size_t pck_chain_len;
};

/*
 * Parses the extension's bytes.  CER_EAUTH, naming the field, when the
 * structure is not what FORMAT.md section 9 describes (versions, types,
 * lengths that do not add up to exactly len bytes).  Checks no signature.
 */
int cer_sgx_evidence_parse(const uint8_t *buf, size_t len, struct cer_sgx_evidence *out) CER_WUR;

enum cer_attest_state {
	CER_ATTEST_ABSENT = 0, /* the certificate has no attestation extension */
	CER_ATTEST_VERIFIED,   /* every check below passed */
};

struct cer_attestation {
	enum cer_attest_state state;
	uint8_t mrenclave[CER_SGX_MEASUREMENT_LEN];
	uint8_t mrsigner[CER_SGX_MEASUREMENT_LEN];
	uint16_t isv_prod_id, isv_svn;
	uint16_t qe_svn, pce_svn;
	char pck_not_before[CER_TIME_TEXT_LEN], pck_not_after[CER_TIME_TEXT_LEN];
	bool pck_valid_at; /* the PCK certificate was within its validity at the time given */
};

/*
 * Verifies evidence (buf, len) for the public key whose DER
 * SubjectPublicKeyInfo hashes to spki_sha256; `at` is only compared with the
 * PCK certificate's validity (pck_valid_at).  CER_OK and out->state
 * VERIFIED, or CER_EAUTH with a message naming the check that failed:
 * malformed evidence, PCK chain (not to the pinned Intel SGX Root CA), QE
 * report signature, QE report data (does not bind the attestation key), QE
 * identity (not Intel's quoting enclave, or a debug one), quote signature,
 * debug enclave, report data (does not bind this key).  `what` names the
 * source in messages.
 */
int cer_sgx_verify(const uint8_t *buf, size_t len, const uint8_t spki_sha256[static 32], time_t at,
                   const char *what, struct cer_attestation *out) CER_WUR;

/*
 * For tests only: the same with anchor_pem (a PEM certificate) trusted in
 * place of the pinned Intel SGX Root CA, so that synthetic evidence can reach
 * every later check.  anchor_pem NULL is cer_sgx_verify.
 */
int cer_sgx_verify_anchor(const uint8_t *buf, size_t len, const uint8_t spki_sha256[static 32],
                          time_t at, const char *anchor_pem, const char *what,
                          struct cer_attestation *out) CER_WUR;

/*
 * The certificate's attestation: out->state ABSENT (CER_OK) when it has no
 * extension CER_ATTEST_OID; otherwise cer_sgx_verify over its value and the
 * certificate's own public key.  A critical attestation extension is
 * refused like a bad one.
 */
int cer_attest_cert(const struct cer_cert *cert, time_t at, struct cer_attestation *out) CER_WUR;

/* SHA-256 of the pinned Intel SGX Root CA certificate's DER. */
extern const char cer_sgx_root_sha256_hex[];

#endif
