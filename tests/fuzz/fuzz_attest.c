/*
 * libFuzzer harness: the SGX evidence of the exchange key's attestation
 * extension (ceremony/attest.c), parsed and verified against a fixed key
 * digest; seeds are the real service's evidence.
 */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	static const uint8_t spki[32];
	struct cer_sgx_evidence ev;
	struct cer_attestation a;

	if (!ready)
		ready = cer_init() == CER_OK;
	(void)cer_sgx_evidence_parse(data, len, &ev);
	(void)cer_sgx_verify(data, len, spki, 1750000000, "fuzz", &a);
	return 0;
}
