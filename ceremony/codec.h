#ifndef CER_CODEC_H
#define CER_CODEC_H

/*
 * Text encodings: base64url (RFC 4648 section 5), standard base64, hex.
 * Encoders return a malloc'ed NUL-terminated string (NULL on out of memory).
 * Decoders return a malloc'ed buffer (plus one NUL byte after the data) or
 * NULL when the input is not valid; they do not set the error message, so the
 * caller can say which field was bad.  None of these are constant-time: use
 * them for public data (ciphertexts, certificates, thumbprints) only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* base64url without padding. */
char *cer_b64url_encode(const uint8_t *data, size_t len);
/* Accepts base64url with or without '=' padding; no other characters. */
uint8_t *cer_b64url_decode(const char *text, size_t text_len, size_t *out_len);

/* Standard base64 with padding, no line breaks. */
char *cer_b64_encode(const uint8_t *data, size_t len);
/* Standard base64; padding optional; ASCII white space is skipped. */
uint8_t *cer_b64_decode(const char *text, size_t text_len, size_t *out_len);

/* Lowercase hex of len bytes into out, which holds 2 * len + 1 chars. */
void cer_hex_encode(const uint8_t *data, size_t len, char *out);

#endif
