/*
 * libFuzzer harness: private key loading (PEM PKCS#8 plain or encrypted, PEM
 * traditional RSA, PKCS#12, DER), without a password and with one.
 */
#include <stddef.h>
#include <stdint.h>

#include "ceremony/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	struct cer_privkey *k = NULL;
	enum cer_key_load why;

	if (!ready)
		ready = cer_init() == CER_OK;
	if (cer_privkey_parse(data, len, "fuzz", NULL, &k, &why) == CER_OK)
		cer_privkey_free(k);
	if (cer_privkey_parse(data, len, "fuzz", "fuzz passphrase", &k, &why) == CER_OK)
		cer_privkey_free(k);
	return 0;
}
