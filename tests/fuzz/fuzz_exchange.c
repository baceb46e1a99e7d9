/*
 * libFuzzer harness: the exchange key in every accepted form (PEM or DER
 * certificate, JWK with x5c, REST transfer-key JSON).
 */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	struct cer_cert *c = NULL;

	if (!ready)
		ready = cer_init() == CER_OK;
	if (cer_exchange_key_parse(data, len, "fuzz", &c) == CER_OK)
		cer_cert_free(c);
	return 0;
}
