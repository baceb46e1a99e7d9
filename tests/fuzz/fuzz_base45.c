/*
 * libFuzzer harness: Base45 decoding (RFC 9285) of arbitrary text, and the
 * round trip: whatever decodes must encode back to the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *raw;
	char *text;
	size_t n = 0;

	raw = cer_base45_decode((const char *)data, len, &n);
	if (raw == NULL)
		return 0;
	text = cer_base45_encode(raw, n);
	if (text == NULL || strlen(text) != len || memcmp(text, data, len) != 0)
		abort();
	free(text);
	free(raw);
	return 0;
}
