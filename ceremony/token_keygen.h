#ifndef CER_TOKEN_KEYGEN_H
#define CER_TOKEN_KEYGEN_H

/*
 * A custodian's key pair made on a PKCS#11 token (keygen --token): the
 * private key is generated there and never leaves it.
 *
 * cer_token_generate makes an RSA key pair with CKM_RSA_PKCS_KEY_PAIR_GEN,
 * e = 65537: the private key CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false, CKA_DECRYPT and CKA_SIGN true (the certificate is
 * signed with it, which proves possession); the public key CKA_TOKEN true,
 * CKA_PRIVATE false, CKA_ENCRYPT and CKA_VERIFY true; both with the given
 * label and CKA_ID = SHA-1 of the modulus (the usual PKCS#15 choice), and
 * reads the attributes back: a token that made the key sensitive-less or
 * extractable fails (CER_EINPUT) and the objects are destroyed.  The new
 * key is then k's selected key (token.h).  k: a read-write session,
 * logged in.
 *
 * Everything made is destroyed by cer_token_generated_destroy, so a key
 * ceremony that fails later leaves nothing on the token either.
 */

#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/token.h"

struct x509_st;

/* What one cer_token_generate made (handles, for undo), and its names. */
struct cer_token_generated {
	unsigned long priv, pub, cert; /* CK_OBJECT_HANDLEs, 0 when not made */
	char label[64];
	char id_hex[41];
	char uri[640]; /* pkcs11:token=...;serial=...;object=...;id=...;type=private */
};

/* The new key's label when the URI has no object= attribute. */
#define CER_TOKEN_KEYGEN_LABEL "sd-wrap"

/*
 * What cer_token_generate checks before it makes anything: label is free
 * on the token (CER_EUSAGE, naming the token) and the token generates RSA
 * keys of bits (CER_EINPUT).  k: a session, logged in.
 */
int cer_token_keygen_ready(struct cer_token_key *k, unsigned bits, const char *label) CER_WUR;

/*
 * The same while the custodian is still at the keyboard, before the key
 * ceremony runs: opens the one token uri names (read-write), logs in with
 * pin (NULL on a PIN-pad token), checks as cer_token_keygen_ready with the
 * URI's object= or CER_TOKEN_KEYGEN_LABEL, then logs out and closes.
 * Returns as cer_token_key_open_rw and cer_token_key_login (CER_EAUTH: wrong
 * or locked PIN); info (may be NULL) gets the token's PIN flags whenever the
 * token was found.
 */
int cer_token_keygen_check(struct cer_tokens *t, const char *uri, const char *pin, unsigned bits,
                           struct cer_token_info *info) CER_WUR;

/*
 * Refuses (CER_EUSAGE, naming the token) when an object labelled label is
 * on the token already (so that the new key's URI names one key), then
 * generates the pair.  bits: 2048, 3072 or 4096 (CER_EINPUT when the token
 * cannot: its CKM_RSA_PKCS_KEY_PAIR_GEN key sizes are named).
 */
int cer_token_generate(struct cer_token_key *k, unsigned bits, const char *label,
                       struct cer_token_generated *out) CER_WUR;

/*
 * Signs the certificate x (every field set, its public key the token key's)
 * on the token with CKM_SHA256_RSA_PKCS (sha256WithRSAEncryption), then
 * checks the signature with the public key.
 */
int cer_token_sign_cert(struct cer_token_key *k, struct x509_st *x) CER_WUR;

/* Stores the certificate (DER) on the token with the key's CKA_ID and label. */
int cer_token_store_cert(struct cer_token_key *k, const uint8_t *der, size_t len,
                         struct cer_token_generated *g) CER_WUR;

/*
 * Round trip through the token: a random 64-byte value encrypted here with
 * RSA-OAEP-256 to the key's public key must come back through the unwrap a
 * recovery uses (token_unwrap.h).  CER_EINPUT when it does not.
 */
int cer_token_roundtrip(struct cer_token_key *k, const char *what) CER_WUR;

/* Destroys what g says was made (best effort), and clears g. */
void cer_token_generated_destroy(struct cer_token_key *k, struct cer_token_generated *g);

#endif
