#ifndef CER_RSA_PAD_H
#define CER_RSA_PAD_H

/*
 * Host-side decoding of a raw RSA decryption (RSADP output, as a PKCS#11
 * token's CKM_RSA_X_509 returns it) into a JWE content key, for tokens that
 * cannot do the padding themselves (PIV cards do raw RSA only; SoftHSM2
 * 2.6 does OAEP with SHA-1 only).
 *
 * Inputs: em is the k-byte big-endian decryption (k = modulus bytes), in
 * secret memory; the decoded key goes to out (secret memory, CER_CEK_LEN
 * bytes).  Only a CER_CEK_LEN-byte message is accepted, which fixes every
 * position the decoders look at: no index and no branch depends on em; the
 * verdict is computed as a mask and acted on once, at the end.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/crypto.h"

/*
 * EME-OAEP decoding (RFC 8017 section 7.1.2, step 3) with an empty label,
 * the hash and MGF1 hash both SHA-256 (sha256) or both SHA-1.  CER_OK with
 * out set; CER_EAUTH ("<what>: the key does not decrypt this share's content
 * key", the same line for every defect) with out zeroed; CER_EINPUT when k
 * is too small for a 64-byte message; CER_EINTERNAL if a hash fails.
 */
int cer_rsa_oaep_decode(const uint8_t *em, size_t k, bool sha256, const char *what,
                        uint8_t out[static CER_CEK_LEN]) CER_WUR;

/*
 * RSAES-PKCS1-v1_5 decoding (RFC 8017 section 7.2.2) with the implicit
 * rejection of RFC 7516 section 11.5: when the padding is bad or the message
 * is not CER_CEK_LEN bytes, out gets a fresh random value instead, selected
 * without a branch, so a wrong key shows only as a later tag failure.
 * CER_OK, or CER_EINPUT when k is too small.
 */
int cer_rsa_pkcs1_decode_implicit(const uint8_t *em, size_t k, const char *what,
                                  uint8_t out[static CER_CEK_LEN]) CER_WUR;

/* The constant-time select both use, exported for the tests: out = mask ? a : b (mask 0 or 0xff).
 */
void cer_ct_select(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len, uint8_t mask);

#endif
