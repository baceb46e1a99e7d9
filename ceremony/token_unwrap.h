#ifndef CER_TOKEN_UNWRAP_H
#define CER_TOKEN_UNWRAP_H

/*
 * A share's RSA unwrap on a token: the private key never leaves it.
 *
 * RSA-OAEP-256 and RSA-OAEP: CKM_RSA_PKCS_OAEP with the JWE's hash (MGF1
 * with the same hash, no label) when the token has the mechanism and takes
 * that hash (SoftHSM2 2.6 takes SHA-1 only); otherwise, or with
 * CER_TOKEN_UNWRAP_RAW, CKM_RSA_X_509 on the token and the constant-time
 * OAEP decode of rsa_pad.h on the host.
 * RSA1_5: CKM_RSA_X_509 and the host decode with implicit rejection; a
 * token without raw RSA does CKM_RSA_PKCS and a failure is turned into a
 * random content key the same way (the token's own timing is its own).
 *
 * The content key and the raw decryption live in secret memory.
 */

#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/crypto.h"
#include "ceremony/token.h"

/*
 * Unwraps jwe's CER_CEK_LEN-byte content key with k's selected key into cek
 * (secret memory).  *how (static text, for a progress note) says which way
 * it went, e.g. "CKM_RSA_PKCS_OAEP (SHA-1) on the token".  CER_EAUTH when
 * the key does not decrypt it; CER_EINPUT for an alg the token cannot do;
 * CER_EIO when the token fails or is gone; messages begin with what.
 */
int cer_token_unwrap_cek(struct cer_token_key *k, const struct cer_jwe *jwe, const char *what,
                         uint8_t cek[static CER_CEK_LEN], const char **how) CER_WUR;

#endif
