#ifndef CER_CRYPTO_H
#define CER_CRYPTO_H

/*
 * The few primitives recovery needs, in the project's terms: hashes, HMAC,
 * the SP 800-108 KDF, compact JWE with A256CBC-HS512 (RFC 7516 / RFC 7518
 * section 5.2.5), and the RSA wrap/unwrap of a JWE's content key.
 * OpenSSL stays behind this header and keys.h.
 *
 * Secret inputs and outputs (CEKs, master keys, plaintexts) must live in
 * cer_secret_alloc memory; functions that return secrets allocate it there.
 * Every function returns an enum cer_status and sets cer_errmsg() naming
 * `what` (a caller-chosen description such as "item 'hsm_backup'").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"

struct evp_pkey_st;

#define CER_SHA1_LEN 20
#define CER_SHA256_LEN 32
#define CER_CEK_LEN 64 /* A256CBC-HS512: MAC key || AES key */
#define CER_JWE_IV_LEN 16
#define CER_JWE_TAG_LEN 32
#define CER_MASTER_LEN 32 /* security-domain master key */

int cer_sha1(const void *data, size_t len, uint8_t out[static CER_SHA1_LEN]) CER_WUR;
int cer_sha256(const void *data, size_t len, uint8_t out[static CER_SHA256_LEN]) CER_WUR;
int cer_hmac_sha512(const uint8_t *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[static 64]) CER_WUR;

/*
 * NIST SP 800-108 counter mode, PRF HMAC-SHA-512, 32-bit big-endian counter
 * from 1 and L = 8 * out_len bits:  K(i) = PRF(ki, [i] || label || 0x00 ||
 * context || [L]); out = leftmost out_len bytes.  out_len <= 64 * 255.
 */
int cer_kdf_sp108(const uint8_t *ki, size_t ki_len, const void *label, size_t label_len,
                  const void *context, size_t context_len, uint8_t *out, size_t out_len) CER_WUR;

/* The CEK of an EncData item: KDF(master, label = tag, context = "", 512 bits). */
int cer_item_cek(const uint8_t master[static CER_MASTER_LEN], const char *tag,
                 uint8_t cek[static CER_CEK_LEN]) CER_WUR;

enum cer_jwe_alg {
	CER_JWE_ALG_UNKNOWN = 0,
	CER_JWE_ALG_DIR,
	CER_JWE_ALG_RSA_OAEP_256,
	CER_JWE_ALG_RSA_OAEP,
	CER_JWE_ALG_RSA1_5,
};

/*
 * A parsed compact JWE: public data only (ciphertext and header).
 * header_b64 is the first part exactly as in the compact string: it is the
 * AAD.  alg/enc/kid are from the decoded header ("" when absent); `enc_ok`
 * is true when enc is A256CBC-HS512.
 */
struct cer_jwe {
	char *header_b64;
	size_t header_b64_len;
	char alg[32];
	char enc[32];
	char kid[128];
	enum cer_jwe_alg alg_id;
	bool enc_ok;
	uint8_t *ek; /* encrypted key (empty for "dir") */
	size_t ek_len;
	uint8_t iv[CER_JWE_IV_LEN];
	uint8_t *ct;
	size_t ct_len;
	uint8_t tag[CER_JWE_TAG_LEN];
};

/*
 * Parses a compact JWE: five base64url parts, a JSON object header with
 * string "alg" and "enc", a 16-byte IV, a 32-byte tag, a ciphertext that is
 * a non-empty multiple of 16 bytes.  Does not insist on a known alg/enc (so
 * inspect can describe the file); check alg_id/enc_ok before use.
 * CER_EINPUT with a message "<what>: ..." on any defect.  Free with
 * cer_jwe_free (accepts NULL).
 */
int cer_jwe_parse(const char *compact, size_t len, const char *what, struct cer_jwe **out) CER_WUR;
void cer_jwe_free(struct cer_jwe *jwe);

/*
 * Authenticates (constant-time tag compare) and then decrypts with cek.
 * On success *plain (secret memory, cer_secret_free, one NUL byte after the
 * data) holds plain_len bytes.  CER_EAUTH when the tag does not match or the
 * padding is bad, CER_EINPUT when enc is not A256CBC-HS512.
 */
int cer_jwe_decrypt(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                    const char *what, uint8_t **plain, size_t *plain_len) CER_WUR;

/*
 * As cer_jwe_decrypt, into buf (secret memory the caller owns, at least
 * jwe->ct_len + 1 bytes): plaintext plus a NUL.  buf is wiped on failure.
 */
int cer_jwe_decrypt_into(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                         const char *what, uint8_t *buf, size_t cap, size_t *plain_len) CER_WUR;

/* Only checks the tag: CER_OK or CER_EAUTH.  Cheap way to test a candidate key. */
int cer_jwe_check_tag(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                      const char *what) CER_WUR;

/*
 * Encrypts plain under cek with a fresh random IV into a compact JWE whose
 * header is header_json (base64url-encoded as given) and whose second part
 * is ek (may be empty).  *compact is malloc'ed text (it holds no secret).
 */
int cer_jwe_encrypt(const char *header_json, const uint8_t cek[static CER_CEK_LEN],
                    const uint8_t *ek, size_t ek_len, const uint8_t *plain, size_t plain_len,
                    char **compact) CER_WUR;

/*
 * Unwraps a JWE's 64-byte CEK with an RSA private key, padding per
 * jwe->alg_id (RSA-OAEP-256, RSA-OAEP, RSA1_5).  CER_EAUTH if the key does
 * not decrypt it (or the result is not 64 bytes); CER_EINPUT for an
 * unsupported alg.  RSA1_5 does its own implicit rejection (RFC 7516
 * section 11.5; OpenSSL 3.0 has none): bad padding or a wrong length gives
 * a random CEK, selected in constant time, so a wrong key shows up as a
 * later tag failure rather than here.
 */
int cer_jwe_unwrap_cek(const struct cer_jwe *jwe, struct evp_pkey_st *priv, const char *what,
                       uint8_t cek[static CER_CEK_LEN]) CER_WUR;

/* RSA-OAEP-256 (SHA-256, MGF1-SHA-256) encryption to a public key; *out malloc'ed. */
int cer_rsa_oaep256_wrap(struct evp_pkey_st *pub, const uint8_t *in, size_t in_len, uint8_t **out,
                         size_t *out_len) CER_WUR;

#endif
