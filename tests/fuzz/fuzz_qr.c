/*
 * libFuzzer harness: QR part parsing and joining.  The input is split at
 * form feeds into several feeds of lines (a scanner's output arriving in
 * pieces), in strict and lenient mode; once complete, the parts are joined
 * and checked against the length and SHA-256 in part 1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void feed(const uint8_t *data, size_t len, bool lenient)
{
	struct cer_qr_join *join = NULL;
	const uint8_t *p = data, *end = data + len;
	uint8_t *out = NULL;
	size_t out_len;
	char status[256];

	if (cer_qr_join_new(&join) != CER_OK)
		return;
	cer_qr_join_set_lenient(join, lenient);
	while (p < end) {
		const uint8_t *ff = memchr(p, '\f', (size_t)(end - p));
		size_t n = ff != NULL ? (size_t)(ff - p) : (size_t)(end - p);

		(void)cer_qr_join_add(join, "fuzz", (const char *)p, n);
		p += n + (ff != NULL);
	}
	cer_qr_join_status(join, status, sizeof status);
	(void)cer_qr_join_total(join);
	(void)cer_qr_join_count(join);
	if (cer_qr_join_complete(join) && cer_qr_join_finish(join, &out, &out_len) == CER_OK)
		free(out);
	cer_qr_join_free(join);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	feed(data, len, false);
	feed(data, len, true);
	return 0;
}
