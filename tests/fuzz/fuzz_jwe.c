/*
 * libFuzzer harness: compact JWE parsing, then authentication and
 * decryption under a fixed key (almost always refused, which is the point).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ceremony/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	static const uint8_t cek[CER_CEK_LEN] = {1, 2, 3};
	struct cer_jwe *jwe = NULL;
	uint8_t *pt = NULL;
	size_t pt_len;

	if (!ready)
		ready = cer_init() == CER_OK;
	if (cer_jwe_parse((const char *)data, len, "fuzz", &jwe) != CER_OK)
		return 0;
	if (cer_jwe_decrypt(jwe, cek, "fuzz", &pt, &pt_len) == CER_OK)
		cer_secret_free(pt);
	cer_jwe_free(jwe);
	return 0;
}
