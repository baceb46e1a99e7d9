#ifndef CER_KEYS_H
#define CER_KEYS_H

/*
 * Certificates and private keys, behind opaque types.
 *
 * Certificates are public.  A certificate's thumbprint is the SHA-256 of its
 * DER encoding; as text it is base64url without padding (43 characters), the
 * form of "x5t_256" in a security-domain file.
 *
 * Private keys: the key object lives in OpenSSL's secure heap and is freed
 * with cer_privkey_free; passwords are the caller's (secret memory).  Keep a
 * private key loaded only as long as it is needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"

struct evp_pkey_st;

#define CER_THUMB_LEN 32
#define CER_THUMB_B64_LEN 44 /* 43 base64url characters + NUL */
#define CER_MIN_RSA_BITS 2048
#define CER_TIME_TEXT_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" + NUL */

struct cer_cert;

/*
 * Loads an X.509 certificate from a PEM (the first CERTIFICATE block, any
 * line length) or DER file (exactly one certificate, nothing after it); the
 * project's one certificate loader.  CER_EIO if unreadable or over 1 MiB,
 * CER_EINPUT if not a certificate ("FILE: not a PEM or DER X.509
 * certificate").  Nothing is checked beyond the encoding: callers decide
 * which keys they take.
 */
int cer_cert_load(const char *path, struct cer_cert **out) CER_WUR;
/* From DER bytes; `what` names the source in messages. */
int cer_cert_from_der(const uint8_t *der, size_t len, const char *what,
                      struct cer_cert **out) CER_WUR;
void cer_cert_free(struct cer_cert *cert);

const uint8_t *cer_cert_thumb(const struct cer_cert *cert);  /* CER_THUMB_LEN bytes */
const char *cer_cert_thumb_b64(const struct cer_cert *cert); /* x5t_256 text */
const char *cer_cert_subject(const struct cer_cert *cert);   /* one line, may be "" */
/* SHA-256 of the DER SubjectPublicKeyInfo: equal for two certificates of one key. */
const uint8_t *cer_cert_spki_sha256(const struct cer_cert *cert); /* CER_THUMB_LEN bytes */
/*
 * The first extension with the dotted OID: true and its extnValue contents
 * (owned by cert) and criticality, or false when the certificate has none.
 */
bool cer_cert_extension(const struct cer_cert *cert, const char *oid, bool *critical,
                        const uint8_t **data, size_t *len);
unsigned cer_cert_rsa_bits(const struct cer_cert *cert);          /* 0 if not RSA */
struct evp_pkey_st *cer_cert_pubkey(const struct cer_cert *cert); /* owned by cert */
/* The file a certificate was loaded from, or the `what` given for DER ("" if none). */
const char *cer_cert_source(const struct cer_cert *cert);
/* Its DER encoding (owned by cert); *len gets the length. */
const uint8_t *cer_cert_der(const struct cer_cert *cert, size_t *len);
/* The subject's first CN in UTF-8 (at most 255 bytes), or "" if none. */
const char *cer_cert_common_name(const struct cer_cert *cert);
/* Validity as "YYYY-MM-DDTHH:MM:SSZ" (UTC), or "" if the date is unreadable. */
const char *cer_cert_not_before(const struct cer_cert *cert);
const char *cer_cert_not_after(const struct cer_cert *cert);
/* Serial number in lowercase hex, or "" if it is longer than 20 bytes. */
const char *cer_cert_serial_hex(const struct cer_cert *cert);

/*
 * The HSM's exchange key (FORMAT.md section 6): a PEM or DER certificate, a
 * JWK with x5c, or the REST transfer-key JSON {"transfer_key": "<JWK>" or
 * PEM, "key_format": ...}.  Refuses keys that are not RSA or are shorter
 * than CER_MIN_RSA_BITS (CER_EINPUT, message naming the file).
 */
int cer_exchange_key_load(const char *path, struct cer_cert **out) CER_WUR;
/* The same from bytes in memory (e.g. joined QR parts); `name` names them. */
int cer_exchange_key_parse(const uint8_t *buf, size_t len, const char *name,
                           struct cer_cert **out) CER_WUR;

/* Why a private key did not load. */
enum cer_key_load {
	CER_KEY_LOADED = 0,
	CER_KEY_NEEDS_PASSWORD, /* encrypted and no password given */
	CER_KEY_BAD_PASSWORD,   /* encrypted and the password does not open it */
	CER_KEY_NOT_A_KEY,      /* not a private key in a supported format */
	CER_KEY_UNREADABLE,     /* cannot open or read the file */
	CER_KEY_UNSUPPORTED,    /* a key, but not RSA, or fewer than 2048 bits */
};

struct cer_privkey;

/*
 * Loads a private key: PEM PKCS#8 (plain, or encrypted with PBES2 using
 * scrypt or PBKDF2), PEM traditional RSA (optionally encrypted), or PKCS#12
 * (which also carries the certificate).  password may be NULL.
 * Returns CER_OK, or: CER_EUSAGE (needs a password), CER_EAUTH (wrong
 * password), CER_EINPUT (not a key / unsupported, or an encrypted PEM key
 * given a password over OpenSSL's 1024-byte limit: *why is then
 * CER_KEY_BAD_PASSWORD), CER_EIO (unreadable); *why tells these apart; the
 * message names the file.
 */
int cer_privkey_load(const char *path, const char *password, struct cer_privkey **out,
                     enum cer_key_load *why) CER_WUR;
/*
 * The same from bytes in memory (at most 1 MiB; the caller keeps them in
 * secret memory); `name` stands for the file in messages.
 */
int cer_privkey_parse(const uint8_t *buf, size_t len, const char *name, const char *password,
                      struct cer_privkey **out, enum cer_key_load *why) CER_WUR;
void cer_privkey_free(struct cer_privkey *key);
struct evp_pkey_st *cer_privkey_pkey(const struct cer_privkey *key); /* owned by key */

/*
 * Finds the certificate that belongs to a loaded key, as the Azure CLI
 * does: the one inside a PKCS#12 file; else key_path with its extension
 * replaced by ".cer" (or ".cer" appended when there is none); else, with
 * certs_dir, any certificate file there (*.cer, *.crt, *.pem, *.der) whose
 * public key equals the key's.  A certificate found by name must carry the
 * key's public key.  CER_EINPUT (message naming the key and where it
 * looked) when none is found.
 */
int cer_privkey_cert(const struct cer_privkey *key, const char *key_path, const char *certs_dir,
                     struct cer_cert **out) CER_WUR;

/*
 * The certificate file that belongs beside a key file, as the Azure CLI
 * names it: key_path with its extension (as Python's os.path.splitext sees
 * it: leading dots of the file name are not one) replaced by ".cer", or
 * ".cer" appended when there is none.  keygen writes it, cer_privkey_cert
 * looks for it.  CER_EUSAGE when it does not fit in size bytes.
 */
int cer_key_cert_path(const char *key_path, char *out, size_t size) CER_WUR;

/*
 * Finds, in certs_dir, the certificate file whose thumbprint is thumb.
 * *path is malloc'ed, or NULL when there is none (not an error).
 */
int cer_certs_dir_find(const char *certs_dir, const uint8_t thumb[static CER_THUMB_LEN],
                       char **path) CER_WUR;
/* The same for the certificate file there that carries cert's public key. */
int cer_certs_dir_find_pubkey(const char *certs_dir, const struct cer_cert *cert,
                              char **path) CER_WUR;

/*
 * Loads, from certs_dir, the first certificate file that carries the public
 * key pub (a token key's, token.h).  *out is NULL when there is none (not an
 * error); CER_EIO when the directory cannot be read.
 */
int cer_certs_dir_load_pubkey(const char *certs_dir, struct evp_pkey_st *pub,
                              struct cer_cert **out) CER_WUR;

/* Bytes of the random value cer_rsa_pairwise_check sends through the key. */
#define CER_PAIRWISE_LEN 64

/*
 * Pairwise consistency of an RSA key pair (SP 800-56B, for key-transport
 * keys): the values agree (n = pq, de = 1 mod p - 1 and q - 1, the CRT
 * values; p and q are not tested for primality again), then a random CER_PAIRWISE_LEN-byte value
 * encrypted with RSA-OAEP-256 to the public key must decrypt to itself with the private key.  The
 * value and its decryption live in secret memory.  CER_OK, or CER_EINPUT (message naming name) when
 * the pair is inconsistent, CER_EINTERNAL when memory or OpenSSL fails.
 */
int cer_rsa_pairwise_check(struct evp_pkey_st *key, const char *name) CER_WUR;

/*
 * The number NAME (an OSSL_PKEY_PARAM_RSA_* name, private ones included) of
 * an RSA key, as a new BIGNUM in OpenSSL's secure heap (free it with
 * BN_clear_free).  Unlike EVP_PKEY_get_bn_param, whose stack buffer keeps
 * the number after it returns, no copy is left outside the secure heap.
 * 0 on success, -1 if the key has no such number.
 */
struct bignum_st;
int cer_rsa_number(const struct evp_pkey_st *key, const char *name, struct bignum_st **out);

#endif
