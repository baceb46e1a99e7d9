#ifndef CER_PKCS8_H
#define CER_PKCS8_H

/*
 * Encrypted private-key files as keygen writes them: PEM PKCS#8 with PBES2,
 * scrypt N = 2^14, r = 8, p = 1 (the most OpenSSL's and az's 32 MiB scrypt
 * limit open), a 16-byte random salt, AES-256-CBC.
 *
 * The key and the passphrase are secret: the encoding is built in OpenSSL's
 * secure heap (a BIO_s_secmem), and the reopened copy is freed with its
 * clear-free function.
 */

#include <stddef.h>

#include "ceremony/cer.h"

struct evp_pkey_st;
struct bio_st;

#define CER_PKCS8_SCRYPT_N 16384
#define CER_PKCS8_SCRYPT_R 8
#define CER_PKCS8_SCRYPT_P 1

/*
 * Encodes key under pass into *out (a secure-memory BIO holding the PEM
 * text; BIO_free it).  `what` names the key in messages.  CER_EINTERNAL on
 * failure.
 */
int cer_pkcs8_encrypt_pem(struct evp_pkey_st *key, const char *pass, const char *what,
                          struct bio_st **out) CER_WUR;

/*
 * Decrypts the PEM text pem[0..len) with pass and checks that it holds the
 * very key `key` (public and private values compared, the private ones in
 * constant time).  CER_OK, or CER_EINTERNAL naming `what` when it does not
 * open or holds another key.
 */
int cer_pkcs8_check_pem(const char *pem, size_t len, const char *pass, struct evp_pkey_st *key,
                        const char *what) CER_WUR;

#endif
