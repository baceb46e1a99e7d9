/*
 * libFuzzer harness: security-domain parsing (all three forms, both
 * versions), the per-entry checks, and starting a recovery session.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ceremony/recovery.h"
#include "ceremony/sd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	struct cer_sd *sd = NULL;
	struct cer_recovery *r = NULL;
	size_t i;

	if (!ready)
		ready = cer_init() == CER_OK;
	if (cer_sd_parse(data, len, "fuzz", &sd) != CER_OK)
		return 0;
	for (i = 0; i < cer_sd_share_count(sd); i++)
		(void)cer_sd_find_share(sd, cer_sd_share(sd, i)->thumb, 0);
	if (cer_recovery_new(sd, &r) == CER_OK)
		cer_recovery_free(r);
	cer_sd_free(sd);
	return 0;
}
