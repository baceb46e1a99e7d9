/*
 * libFuzzer harness: the exchange key in every accepted form (PEM or DER
 * certificate, JWK with x5c, REST transfer-key JSON), with its attestation
 * and the policy checks, as restore-blob opens it.
 */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	struct cer_exchange_policy policy = {.now = 1750000000};
	struct cer_exchange *x = NULL;

	if (!ready)
		ready = cer_init() == CER_OK;
	/* Every other input also goes through the HSM-name check. */
	if ((len & 1) && cer_exchange_policy_hsm_name(&policy, "fuzz-hsm") != CER_OK)
		return 0;
	if (cer_exchange_open_mem(data, len, "fuzz", &policy, &x) == CER_OK)
		cer_exchange_free(x);
	return 0;
}
