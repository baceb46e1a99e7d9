#ifndef CER_QR_INT_H
#define CER_QR_INT_H

/*
 * Inside ceremony/qr*.c only: what the QR pieces share.  One concern per
 * file:
 *   qr_base45.c  Base45 (RFC 9285)
 *   qr_part.c    reading one part's text (the format in qr.h), hostile input
 *   qr_split.c   a file into parts (framing, compression, sizing to a width)
 *   qr_join.c    parts back into the file (collecting, checking, writing)
 *   qr_image.c   one part as a QR code: modules, PNG, terminal half blocks
 *   qr_html.c    the page that shows a split's codes one by one
 *   qr_dir.c     a split's directory: writing it, reading it back
 *   qr_zlib.c    the SDC2 compression
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/qr.h"

#define CER_QR_STREAM_HEAD 36u /* LEN (4) || SHA-256 (32) before the file */
#define CER_QR_CHECK_HEX 8u    /* hex digits of a part's check value */
#define CER_QR_ID_HEX 16u      /* hex digits of a file's id */

/* ---- qr_base45.c ---- */

/* The value of one Base45 character, -1 for anything else. */
int cer_qr_b45_value(unsigned char c);

/* ---- qr_split.c ---- */

void cer_qr_sha256(const void *data, size_t len, uint8_t md[static 32]);
/* 2 * len uppercase hex digits and a NUL into out. */
void cer_qr_upper_hex(const uint8_t *data, size_t len, char *out);

/* ---- qr_part.c ---- */

/* One part, checked: its header fields and its decoded bytes (data owned). */
struct cer_qr_parsed {
	bool zlib; /* SDC2 */
	unsigned n, total;
	char id[CER_QR_ID_HEX + 1];
	uint8_t *data;
	size_t len;
};

bool cer_qr_is_space(char c);
/* Parses and checks the part s[0..len); CER_EINPUT naming `where` otherwise. */
int cer_qr_parse_part(const char *s, size_t len, const char *where,
                      struct cer_qr_parsed *out) CER_WUR;

/* ---- qr_join.c ---- */

/* One part received: its text and decoded bytes (owned). */
struct cer_qr_part_slot {
	char *text;
	uint8_t *data;
	size_t len;
};

/* slots[0..total-1], filled as parts arrive (qr_dir.c takes the texts). */
struct cer_qr_join {
	unsigned total;
	unsigned count;
	bool lenient;
	unsigned skipped;
	size_t held;
	bool zlib;
	char first_skipped[300];
	char id[CER_QR_ID_HEX + 1];
	struct cer_qr_part_slot *slots;
};

/* ---- qr_image.c ---- */

/* A growing buffer; failed once an allocation failed (later puts do nothing). */
struct cer_qr_membuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

void cer_qr_membuf_put(struct cer_qr_membuf *b, const void *p, size_t n);
void cer_qr_membuf_puts(struct cer_qr_membuf *b, const char *s);

#endif
