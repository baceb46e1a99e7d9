#ifndef CER_TOKEN_INT_H
#define CER_TOKEN_INT_H

/*
 * Inside ceremony/token*.c only: PKCS#11 through p11-kit's header, and the
 * object helpers the token files share.
 */

#include <p11-kit/pkcs11.h>

#include "ceremony/token.h"

/* Reads one attribute into *value (malloc'ed, *len bytes; NULL and 0 when absent). */
CK_RV cer_token_attr(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                     CK_ATTRIBUTE_TYPE type, uint8_t **value, size_t *len);
/* Finds up to max objects matching tmpl; *n gets how many. */
CK_RV cer_token_find(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                     CK_ULONG ntmpl, CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *n);
/* A public RSA key from its modulus and exponent (big-endian). */
int cer_token_rsa_pub(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                      struct evp_pkey_st **out) CER_WUR;
/* Makes o k's selected key (as cer_token_key_select does once it has found it). */
int cer_token_key_adopt(struct cer_token_key *k, CK_OBJECT_HANDLE o) CER_WUR;
/* The unwrap mode of the modules k was opened from. */
enum cer_token_unwrap cer_token_key_unwrap_mode(const struct cer_token_key *k);
/* RFC 3986 percent-encoding of a URI attribute value (unreserved characters kept). */
void cer_token_pct(const char *in, size_t len, char *out, size_t cap);
/* hex of bytes into out (2 * len + 1). */
void cer_token_hex(const uint8_t *p, size_t len, char *out);

#endif
