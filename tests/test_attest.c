/*
 * The exchange key's checks: its SGX attestation (ceremony/attest.c) on the
 * real service's 2025 key and on synthetic evidence that reaches each check,
 * every byte flip of the signed regions, truncated and oversized evidence;
 * the policy (HSM name, required attestation, pinned MRSIGNER) and the
 * refusal of a custodian's certificate (ceremony/exchange.c).  Times are
 * pinned: nothing here depends on the day it runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "ceremony/attest.h"
#include "ceremony/codec.h"
#include "ceremony/exchange.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/recovery.h"
#include "ceremony/sd.h"

#define REAL "tests/vectors/real-service/"
#define ATT "tests/vectors/attest/"
#define SYN ATT "synthetic/"
#define KEY2025 REAL "transfer-key-2025.jwk.json"
#define MRSIGNER_2025 "db55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a"
#define MRENCLAVE_2025 "5986123b3a753671389708d2c8fc9be4080c95146fba37a0adbc66676e49fb36"
#define T_2025_06 ((time_t)1748736000) /* 2025-06-01T00:00:00Z */
#define T_2032 ((time_t)1956528000)    /* 2032-01-01T00:00:00Z, past the PCK leaf */

/* Quote header .. end of the QE authentication data: covered by a signature
 * or, for the attestation key and the authentication data, by the QE's
 * report data.  With the 16-byte evidence header in front. */
#define SIGNED_END_2025 (16 + 48 + 384 + 4 + 64 + 64 + 384 + 64 + 2 + 32)

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	assert_int_equal(cer_file_read(path, CER_MAX_INPUT, &buf, len), CER_OK);
	return buf;
}

static void spki_of_2025(uint8_t spki[32])
{
	struct cer_cert *c = NULL;

	assert_int_equal(cer_exchange_key_load(KEY2025, &c), CER_OK);
	memcpy(spki, cer_cert_spki_sha256(c), 32);
	cer_cert_free(c);
}

static void hex_of(const uint8_t *b, char out[65])
{
	cer_hex_encode(b, 32, out);
}

static void test_real_2025_verifies(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	const struct cer_attestation *a;
	struct cer_exchange *x = NULL;
	char hex[65];

	(void)state;
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	a = cer_exchange_attestation(x);
	assert_int_equal(a->state, CER_ATTEST_VERIFIED);
	hex_of(a->mrsigner, hex);
	assert_string_equal(hex, MRSIGNER_2025);
	hex_of(a->mrenclave, hex);
	assert_string_equal(hex, MRENCLAVE_2025);
	assert_int_equal(a->isv_prod_id, 1);
	assert_int_equal(a->isv_svn, 1);
	assert_int_equal(a->qe_svn, 8);
	assert_int_equal(a->pce_svn, 13);
	assert_true(a->pck_valid_at);
	assert_string_equal(a->pck_not_after, "2031-06-07T08:15:01Z");
	assert_string_equal(cer_cert_thumb_b64(cer_exchange_cert(x)),
	                    "wGaLpPbFtC8C85LDJlnn7jdp53x6NOxS8MZmd-l8Rb0");
	assert_non_null(strstr(cer_report_summary(cer_exchange_report(x)),
	                       "attested by an SGX enclave (MRSIGNER " MRSIGNER_2025));
	cer_exchange_free(x);

	/* The time given only says whether the PCK certificate was valid then. */
	pol.now = T_2032;
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	assert_false(cer_exchange_attestation(x)->pck_valid_at);
	cer_exchange_free(x);
}

static void test_real_2020_not_attested(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	struct cer_exchange *x = NULL;

	(void)state;
	assert_int_equal(cer_exchange_open(REAL "exchange-2020.pem", &pol, &x), CER_OK);
	assert_int_equal(cer_exchange_attestation(x)->state, CER_ATTEST_ABSENT);
	assert_string_equal(cer_cert_thumb_b64(cer_exchange_cert(x)),
	                    "DgKyj72PBn91O7ObV4YqFth4JGVKEdUpTEDn3qrkGT8");
	cer_exchange_free(x);
	pol.require_attestation = true;
	assert_int_equal(cer_exchange_open(REAL "exchange-2020.pem", &pol, &x), CER_EAUTH);
	assert_null(x);
	assert_non_null(strstr(cer_errmsg(), "not attested"));
}

static void test_root_pin(void **state)
{
	(void)state;
	assert_string_equal(cer_sgx_root_sha256_hex,
	                    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
}

static void expect_refused(const uint8_t *buf, size_t len, const uint8_t spki[32],
                           const char *anchor, const char *why)
{
	struct cer_attestation a;

	assert_int_equal(cer_sgx_verify_anchor(buf, len, spki, T_2025_06, anchor, "t", &a),
	                 CER_EAUTH);
	assert_int_equal(a.state, CER_ATTEST_ABSENT);
	if (why != NULL && strstr(cer_errmsg(), why) == NULL)
		fail_msg("expected '%s' in '%s'", why, cer_errmsg());
}

static void test_byte_flips_refused(void **state)
{
	uint8_t spki[32], *ev;
	size_t len, i;
	struct cer_attestation a;

	(void)state;
	spki_of_2025(spki);
	ev = slurp(ATT "evidence_2025.bin", &len);
	assert_int_equal(cer_sgx_verify(ev, len, spki, T_2025_06, "t", &a), CER_OK);
	for (i = 0; i < SIGNED_END_2025; i++) {
		ev[i] ^= 0x01;
		expect_refused(ev, len, spki, NULL, NULL);
		ev[i] ^= 0x01;
		ev[i] ^= 0x80;
		expect_refused(ev, len, spki, NULL, NULL);
		ev[i] ^= 0x80;
	}
	assert_int_equal(cer_sgx_verify(ev, len, spki, T_2025_06, "t", &a), CER_OK);
	free(ev);
}

static void test_truncated_and_oversized(void **state)
{
	uint8_t spki[32], *ev, *big;
	size_t len, i;

	(void)state;
	spki_of_2025(spki);
	ev = slurp(ATT "evidence_2025.bin", &len);
	for (i = 0; i < len; i++)
		expect_refused(ev, i, spki, NULL, "malformed");
	/* One byte more, with every length field telling the same story. */
	big = malloc(len + 1);
	assert_non_null(big);
	memcpy(big, ev, len);
	big[len] = '\n';
	big[8] = (uint8_t)(big[8] + 1);               /* report size */
	big[16 + 432] = (uint8_t)(big[16 + 432] + 1); /* signature data length */
	big[SIGNED_END_2025 + 2] = (uint8_t)(big[SIGNED_END_2025 + 2] + 1); /* cert data size */
	expect_refused(big, len + 1, spki, NULL, "malformed");
	free(big);
	/* Length fields that claim more than is there. */
	ev[SIGNED_END_2025 - 34] = 0xff; /* QE authentication data length */
	ev[SIGNED_END_2025 - 33] = 0xff;
	expect_refused(ev, len, spki, NULL, "QE authentication data runs past the end");
	free(ev);
	ev = slurp(ATT "evidence_2025.bin", &len);
	ev[SIGNED_END_2025 + 5] = 0x7f; /* certification data size */
	expect_refused(ev, len, spki, NULL, "certification data size does not match");
	free(ev);
	big = calloc(1, CER_SGX_EVIDENCE_MAX + 1);
	assert_non_null(big);
	expect_refused(big, CER_SGX_EVIDENCE_MAX + 1, spki, NULL, "larger than 64 KiB");
	free(big);
}

static void test_synthetic_checks(void **state)
{
	static const struct {
		const char *file, *why;
	} cases[] = {
	        {"qe_sig", "not signed by the PCK certificate's key"},
	        {"qe_unbound", "does not bind the attestation key"},
	        {"qe_not_intel", "quoting enclave is not Intel's"},
	        {"debug_qe", "quoting enclave is a debug enclave"},
	        {"quote_sig", "not signed by its attestation key"},
	        {"debug_enclave", "debug enclave"},
	        {"report_unbound", "does not bind this certificate's public key"},
	        {"chain_broken", "does not verify up to the Intel SGX Root CA"},
	};
	uint8_t spki[32], *ev, *hex, *root;
	size_t len, hlen, rlen, i;
	struct cer_attestation a;

	(void)state;
	hex = slurp(SYN "spki_sha256.hex", &hlen);
	hex[64] = '\0';
	assert_int_equal(OPENSSL_hexstr2buf_ex(spki, sizeof spki, &i, (const char *)hex, '\0'), 1);
	assert_int_equal(i, sizeof spki);
	free(hex);
	root = slurp(SYN "root.pem", &rlen);
	ev = slurp(SYN "good.bin", &len);
	assert_int_equal(
	        cer_sgx_verify_anchor(ev, len, spki, T_2025_06, (const char *)root, "t", &a),
	        CER_OK);
	assert_int_equal(a.state, CER_ATTEST_VERIFIED);
	assert_int_equal(a.isv_svn, 2);
	assert_int_equal(a.mrsigner[31], 31);
	/* Under the pinned Intel root, a test root's chain is refused. */
	expect_refused(ev, len, spki, NULL, "does not end in the Intel SGX Root CA");
	free(ev);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[128];

		snprintf(path, sizeof path, SYN "%s.bin", cases[i].file);
		ev = slurp(path, &len);
		expect_refused(ev, len, spki, (const char *)root, cases[i].why);
		free(ev);
	}
	free(root);
}

static void test_copied_and_critical_extension(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	struct cer_exchange *x = NULL;

	(void)state;
	assert_int_equal(cer_exchange_open(ATT "copied_extension.pem", &pol, &x), CER_EAUTH);
	assert_null(x);
	assert_non_null(strstr(cer_errmsg(), "does not bind this certificate's public key"));
	assert_non_null(strstr(cer_errmsg(), ATT "copied_extension.pem"));
	assert_int_equal(cer_exchange_open(ATT "critical_extension.pem", &pol, &x), CER_EAUTH);
	assert_non_null(strstr(cer_errmsg(), "marked critical"));
}

static void test_policy(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	struct cer_exchange *x = NULL;

	(void)state;
	/* The HSM's name, short or in full, any case. */
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, "test-mhsm-sd2q2avldvp4tl"), CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	cer_exchange_free(x);
	assert_int_equal(
	        cer_exchange_policy_hsm_name(&pol, "TEST-mhsm-sd2q2avldvp4tl.managedhsm.azure.net"),
	        CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	cer_exchange_free(x);
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, "ContosoHSM2"), CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_EAUTH);
	assert_non_null(strstr(cer_errmsg(), "not 'ContosoHSM2.managedhsm.azure.net'"));
	assert_non_null(strstr(cer_errmsg(), "test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net"));
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, "test-mhsm-sd2q2avldvp4tl.example.net"),
	                 CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_EAUTH);
	/* A CN that names no HSM cannot be checked. */
	assert_int_equal(cer_exchange_open(REAL "exchange-2020.pem", &pol, &x), CER_EAUTH);
	assert_non_null(strstr(cer_errmsg(), "'transfer-key' names no HSM"));
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, "bad name!"), CER_EUSAGE);
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, ".leading"), CER_EUSAGE);
	assert_int_equal(cer_exchange_policy_hsm_name(&pol, ""), CER_OK);

	/* A pinned MRSIGNER. */
	assert_int_equal(cer_exchange_policy_mrsigner(&pol, MRSIGNER_2025), CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	assert_non_null(strstr(cer_report_line(cer_exchange_report(x), 11),
	                       "MRSIGNER is the expected one"));
	cer_exchange_free(x);
	assert_int_equal(cer_exchange_open(REAL "exchange-2020.pem", &pol, &x), CER_EAUTH);
	assert_non_null(strstr(cer_errmsg(), "not attested, so its MRSIGNER cannot be compared"));
	assert_int_equal(cer_exchange_policy_mrsigner(&pol, MRENCLAVE_2025), CER_OK);
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_EAUTH);
	assert_non_null(strstr(cer_errmsg(), "MRSIGNER " MRSIGNER_2025 ", not the expected one"));
	assert_int_equal(cer_exchange_policy_mrsigner(&pol, "abc"), CER_EUSAGE);
	assert_int_equal(
	        cer_exchange_policy_mrsigner(
	                &pol, "zz55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a"),
	        CER_EUSAGE);
}

static void test_report_lines(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	struct cer_exchange *x = NULL;
	const struct cer_report *r;
	char want[256], hex[65];

	(void)state;
	assert_int_equal(cer_exchange_open(KEY2025, &pol, &x), CER_OK);
	r = cer_exchange_report(x);
	assert_int_equal(cer_file_sha256_hex(KEY2025, hex), CER_OK);
	snprintf(want, sizeof want, "%s  %s", hex, KEY2025);
	assert_string_equal(cer_report_line(r, 2), want);
	assert_string_equal(cer_report_line(r, 3),
	                    "  Subject CN: test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net");
	assert_string_equal(cer_exchange_sha256_hex(x), hex);
	cer_exchange_free(x);
}

static void test_custodian_refused(void **state)
{
	struct cer_exchange_policy pol = {.now = T_2025_06};
	struct cer_exchange *x = NULL;
	struct cer_cert *c = NULL;
	struct cer_sd *sd = NULL;
	struct cer_recovery *r = NULL;
	enum cer_share_outcome o;

	(void)state;
	assert_int_equal(cer_sd_load(REAL "sd-2020.json", &sd), CER_OK);
	/* A custodian's own certificate: its thumbprint is a share's. */
	assert_int_equal(cer_exchange_open(REAL "cert_1.cer", &pol, &x), CER_OK);
	assert_int_equal(cer_exchange_check_sd(x, sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "share #2 in " REAL "sd-2020.json"));
	assert_non_null(strstr(cer_errmsg(), "exchange key " REAL "cert_1.cer"));
	cer_exchange_free(x);
	/* Another certificate for a custodian's key: same public key. */
	assert_int_equal(cer_exchange_open(ATT "cert_0_recert.cer", &pol, &x), CER_OK);
	assert_int_equal(cer_exchange_check_sd(x, sd), CER_OK);
	assert_int_equal(cer_cert_load(REAL "cert_0.cer", &c), CER_OK);
	assert_int_equal(cer_exchange_check_key(x, cer_cert_spki_sha256(c), cer_cert_source(c)),
	                 CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), REAL "cert_0.cer"));
	cer_cert_free(c);
	assert_int_equal(cer_exchange_check_dir(x, REAL), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "cert_0.cer"));
	/* In a session: the key presented after binding is refused, the binding undone. */
	assert_int_equal(cer_recovery_new(sd, &r), CER_OK);
	assert_int_equal(cer_recovery_set_exchange(r, x, NULL), CER_OK);
	assert_int_equal(cer_recovery_add_key(r, REAL "cert_0.key", NULL, NULL, &o), CER_EINPUT);
	assert_int_equal(o, CER_SHARE_EXCHANGE_KEY);
	assert_int_equal(cer_recovery_add_key(r, REAL "cert_1.key", NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_add_key(r, REAL "cert_2.key", NULL, NULL, &o), CER_OK);
	{
		char hex[65];

		/* Refused for the attempt that stands, the key that is the exchange key's. */
		assert_int_equal(
		        cer_recovery_restore_blob(r, "/nonexistent/blob", false, NULL, hex),
		        CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "cert_0"));
	}
	/* Presented before binding: set_exchange refuses. */
	assert_int_equal(cer_recovery_set_exchange(r, x, NULL), CER_EINPUT);
	cer_recovery_free(r);
	cer_exchange_free(x);
	cer_sd_free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_root_pin),
	        cmocka_unit_test(test_real_2025_verifies),
	        cmocka_unit_test(test_real_2020_not_attested),
	        cmocka_unit_test(test_byte_flips_refused),
	        cmocka_unit_test(test_truncated_and_oversized),
	        cmocka_unit_test(test_synthetic_checks),
	        cmocka_unit_test(test_copied_and_critical_extension),
	        cmocka_unit_test(test_policy),
	        cmocka_unit_test(test_report_lines),
	        cmocka_unit_test(test_custodian_refused),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
