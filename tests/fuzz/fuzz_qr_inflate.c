/*
 * libFuzzer harness: the SDC2 inflater.  The first two bytes give the
 * declared file length (what part 1 would say), the rest is the zlib stream;
 * on success the output must be exactly that long.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ceremony/qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t *out = NULL;
	size_t want;

	if (len < 2)
		return 0;
	want = (size_t)data[0] << 8 | data[1];
	if (cer_qr_inflate(data + 2, len - 2, want, &out) == CER_OK && out[want] != 0)
		abort();
	free(out);
	return 0;
}
