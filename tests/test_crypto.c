/*
 * ceremony/crypto.c and codec.c: the SP 800-108 KDF (FORMAT.md's known
 * answer, plus multi-block and item-key values computed with Python's hmac
 * module), A256CBC-HS512 against RFC 7518 appendix B.3, JWE round trips and
 * every parse error, base64url against RFC 4648 section 10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ceremony/cer.h"
#include "ceremony/codec.h"
#include "ceremony/crypto.h"

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t i;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void test_kdf_known_answer(void **state)
{
	uint8_t ki[32], out[32], want[32];

	(void)state;
	memset(ki, 0x41, sizeof ki);
	unhex("f0ca51f6308791404bf68b56024ee7c64d6c737716f81d47e1e68b5c4e399575", want, 32);
	assert_int_equal(cer_kdf_sp108(ki, 32, "label", 5, "context", 7, out, 32), CER_OK);
	assert_memory_equal(out, want, 32);
}

static void test_kdf_two_blocks(void **state)
{
	uint8_t ki[32], out[128], want[128];

	(void)state;
	memset(ki, 0x41, sizeof ki);
	unhex("520569100ed089393076ae50f573b589f5bba822dd5e74f5cecd9de2c30bd670"
	      "c6243e43d029535513405ba507ce2eb163242be5bc8e615f0b68bec706d15e51"
	      "8048527ed0c3d2a724e5ed176297f382a5dc45e4619fc0e18299c43c441b7f8e"
	      "588ccf326d8fba001a79c0d9e8628a870dfe4923f190d1ce461718e70d48f73b",
	      want, 128);
	assert_int_equal(cer_kdf_sp108(ki, 32, "label", 5, "context", 7, out, 128), CER_OK);
	assert_memory_equal(out, want, 128);
}

static void test_item_cek(void **state)
{
	uint8_t master[32], cek[64], want[64];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		master[i] = (uint8_t)i;
	unhex("2d34f55a1dd64e68d793ce19439e032e913bc2c83a99237a33c1bde888fb91da"
	      "91626f37c72aaff2d718d3e7a37f0a39417a66839669da3c76fe4336aec9747c",
	      want, 64);
	assert_int_equal(cer_item_cek(master, "hsm_backup", cek), CER_OK);
	assert_memory_equal(cek, want, 64);
	assert_int_equal(cer_item_cek(master, "hsm_backuq", cek), CER_OK);
	assert_memory_not_equal(cek, want, 64);
}

static const char rfc_p[] = "A cipher system must not be required to be secret, and it must be "
                            "able to fall into the hands of the enemy without inconvenience";
static const char rfc_a[] = "The second principle of Auguste Kerckhoffs";
static const char rfc_iv[] = "1af38c2dc2b96ffdd86694092341bc04";
static const char rfc_e[] = "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd"
                            "822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b"
                            "36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3"
                            "a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950b"
                            "be2638d09dd7a4930930806d0703b1f6";
static const char rfc_t[] = "4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5";

/* RFC 7518 B.3 laid into a struct cer_jwe: the AAD is the header part. */
static void rfc_jwe(struct cer_jwe *jwe, uint8_t *ct, uint8_t cek[64])
{
	size_t i;

	memset(jwe, 0, sizeof *jwe);
	for (i = 0; i < 64; i++)
		cek[i] = (uint8_t)i;
	jwe->header_b64 = (char *)rfc_a;
	jwe->header_b64_len = strlen(rfc_a);
	jwe->enc_ok = true;
	strcpy(jwe->enc, "A256CBC-HS512");
	unhex(rfc_iv, jwe->iv, 16);
	unhex(rfc_e, ct, 144);
	jwe->ct = ct;
	jwe->ct_len = 144;
	unhex(rfc_t, jwe->tag, 32);
}

static void test_rfc7518_b3(void **state)
{
	struct cer_jwe jwe;
	uint8_t ct[144], cek[64], *pt = NULL;
	size_t len = 0;

	(void)state;
	rfc_jwe(&jwe, ct, cek);
	assert_int_equal(cer_jwe_decrypt(&jwe, cek, "rfc", &pt, &len), CER_OK);
	assert_int_equal(len, strlen(rfc_p));
	assert_memory_equal(pt, rfc_p, len);
	cer_secret_free(pt);
}

static void test_rfc7518_b3_tampered(void **state)
{
	struct cer_jwe jwe;
	uint8_t ct[144], cek[64], *pt = NULL;
	size_t len = 0;
	char aad[64];

	(void)state;
	rfc_jwe(&jwe, ct, cek);
	jwe.tag[31] ^= 1;
	assert_int_equal(cer_jwe_decrypt(&jwe, cek, "item 'x'", &pt, &len), CER_EAUTH);
	assert_null(pt);
	assert_non_null(strstr(cer_errmsg(), "item 'x'"));
	rfc_jwe(&jwe, ct, cek);
	ct[100] ^= 0x80;
	assert_int_equal(cer_jwe_decrypt(&jwe, cek, "rfc", &pt, &len), CER_EAUTH);
	rfc_jwe(&jwe, ct, cek);
	strcpy(aad, rfc_a);
	aad[0] = 't';
	jwe.header_b64 = aad;
	assert_int_equal(cer_jwe_decrypt(&jwe, cek, "rfc", &pt, &len), CER_EAUTH);
	rfc_jwe(&jwe, ct, cek);
	cek[0] ^= 1;
	assert_int_equal(cer_jwe_check_tag(&jwe, cek, "rfc"), CER_EAUTH);
	cek[0] ^= 1;
	assert_int_equal(cer_jwe_check_tag(&jwe, cek, "rfc"), CER_OK);
	/* The AES half of the key is not covered by the tag: padding catches it. */
	cek[63] ^= 1;
	assert_int_not_equal(cer_jwe_decrypt(&jwe, cek, "rfc", &pt, &len), CER_OK);
	assert_null(pt);
}

static void test_jwe_round_trip(void **state)
{
	static const char hdr[] =
	        "{\"alg\":\"dir\",\"enc\":\"A256CBC-HS512\",\"kid\":\"hsm_backup\"}";
	uint8_t cek[64], msg[1000], *pt = NULL;
	struct cer_jwe *jwe = NULL;
	char *compact = NULL;
	size_t len, sizes[] = {0, 1, 15, 16, 17, 1000}, i;

	(void)state;
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (uint8_t)(i * 7);
	for (i = 0; i < 64; i++)
		cek[i] = (uint8_t)(200 - i);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		assert_int_equal(cer_jwe_encrypt(hdr, cek, NULL, 0, msg, sizes[i], &compact),
		                 CER_OK);
		assert_int_equal(cer_jwe_parse(compact, strlen(compact), "rt", &jwe), CER_OK);
		assert_string_equal(jwe->alg, "dir");
		assert_int_equal(jwe->alg_id, CER_JWE_ALG_DIR);
		assert_string_equal(jwe->kid, "hsm_backup");
		assert_true(jwe->enc_ok);
		assert_int_equal(jwe->ek_len, 0);
		assert_int_equal(jwe->ct_len, (sizes[i] / 16 + 1) * 16);
		assert_int_equal(cer_jwe_decrypt(jwe, cek, "rt", &pt, &len), CER_OK);
		assert_int_equal(len, sizes[i]);
		if (len > 0)
			assert_memory_equal(pt, msg, len);
		cer_secret_free(pt);
		cer_jwe_free(jwe);
		free(compact);
	}
}

static void test_jwe_parse_alg(void **state)
{
	static const char *const algs[] = {"RSA-OAEP-256", "RSA-OAEP", "RSA1_5", "A128KW"};
	static const enum cer_jwe_alg ids[] = {CER_JWE_ALG_RSA_OAEP_256, CER_JWE_ALG_RSA_OAEP,
	                                       CER_JWE_ALG_RSA1_5, CER_JWE_ALG_UNKNOWN};
	uint8_t cek[64] = {0}, ek[3] = {1, 2, 3}, m = 0;
	struct cer_jwe *jwe = NULL;
	char hdr[128], *compact = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"enc\":\"A128GCM\"}", algs[i]);
		assert_int_equal(cer_jwe_encrypt(hdr, cek, ek, 3, &m, 1, &compact), CER_OK);
		assert_int_equal(cer_jwe_parse(compact, strlen(compact), "a", &jwe), CER_OK);
		assert_int_equal(jwe->alg_id, ids[i]);
		assert_false(jwe->enc_ok);
		assert_int_equal(jwe->ek_len, 3);
		assert_int_equal(cer_jwe_check_tag(jwe, cek, "a"), CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "A128GCM"));
		cer_jwe_free(jwe);
		free(compact);
	}
}

struct bad_jwe {
	const char *name;
	const char *text; /* NULL: built from parts below */
	const char *expect;
};

static char *b64u(const char *s)
{
	char *e = cer_b64url_encode((const uint8_t *)s, strlen(s));

	assert_non_null(e);
	return e;
}

static void expect_parse_error(const char *compact, const char *expect)
{
	struct cer_jwe *jwe = (struct cer_jwe *)1;

	cer_clear_error();
	assert_int_equal(cer_jwe_parse(compact, strlen(compact), "share #3", &jwe), CER_EINPUT);
	assert_null(jwe);
	if (strstr(cer_errmsg(), "share #3") == NULL || strstr(cer_errmsg(), expect) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", compact, cer_errmsg(), expect);
}

static void test_jwe_parse_errors(void **state)
{
	char *h = b64u("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256CBC-HS512\"}");
	char *iv = b64u("0123456789abcdef"), *iv15 = b64u("0123456789abcde");
	char *ct = b64u("0123456789abcdef0123456789abcdef"), *ct17 = b64u("0123456789abcdefX");
	char *tag = b64u("0123456789abcdef0123456789abcdef"),
	     *tag31 = b64u("0123456789abcdef0123456789abcde");
	char *notjson = b64u("{\"alg\":"), *arr = b64u("[1,2]"), *noalg = b64u("{\"enc\":\"x\"}");
	char *noenc = b64u("{\"alg\":\"dir\"}"), *numalg = b64u("{\"alg\":5,\"enc\":\"x\"}");
	char buf[1024];

	(void)state;
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", h, iv, ct, tag);
	{
		struct cer_jwe *ok = NULL;

		assert_int_equal(cer_jwe_parse(buf, strlen(buf), "good", &ok), CER_OK);
		cer_jwe_free(ok);
	}
	expect_parse_error("", "1 parts");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s", h, iv, ct);
	expect_parse_error(buf, "4 parts");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s.x", h, iv, ct, tag);
	expect_parse_error(buf, "6 parts");
	snprintf(buf, sizeof buf, "%s.Z+Ws.%s.%s.%s", h, iv, ct, tag);
	expect_parse_error(buf, "bad base64url in JWE encrypted key (part 2)");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s/.%s", h, iv, ct, tag);
	expect_parse_error(buf, "part 4");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s*", h, iv, ct, tag);
	expect_parse_error(buf, "part 5");
	snprintf(buf, sizeof buf, "%s!.ZWs.%s.%s.%s", h, iv, ct, tag);
	expect_parse_error(buf, "part 1");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", h, iv15, ct, tag);
	expect_parse_error(buf, "initialization vector is 15 bytes");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", h, iv, ct17, tag);
	expect_parse_error(buf, "not a multiple of 16");
	snprintf(buf, sizeof buf, "%s.ZWs.%s..%s", h, iv, tag);
	expect_parse_error(buf, "ciphertext is empty");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", h, iv, ct, tag31);
	expect_parse_error(buf, "tag is 31 bytes");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", notjson, iv, ct, tag);
	expect_parse_error(buf, "not a JSON object");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", arr, iv, ct, tag);
	expect_parse_error(buf, "not a JSON object");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", noalg, iv, ct, tag);
	expect_parse_error(buf, "no \"alg\"");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", noenc, iv, ct, tag);
	expect_parse_error(buf, "no \"enc\"");
	snprintf(buf, sizeof buf, "%s.ZWs.%s.%s.%s", numalg, iv, ct, tag);
	expect_parse_error(buf, "\"alg\" is not a string");
	free(h), free(iv), free(iv15), free(ct), free(ct17), free(tag), free(tag31);
	free(notjson), free(arr), free(noalg), free(noenc), free(numalg);
}

static void check_b64url(const char *plain, const char *enc)
{
	char *e = cer_b64url_encode((const uint8_t *)plain, strlen(plain));
	uint8_t *d;
	size_t len = 99;

	assert_non_null(e);
	assert_string_equal(e, enc);
	d = cer_b64url_decode(enc, strlen(enc), &len);
	assert_non_null(d);
	assert_int_equal(len, strlen(plain));
	assert_memory_equal(d, plain, len);
	free(d);
	free(e);
}

static void test_b64url_rfc4648(void **state)
{
	(void)state;
	check_b64url("", "");
	check_b64url("f", "Zg");
	check_b64url("fo", "Zm8");
	check_b64url("foo", "Zm9v");
	check_b64url("foob", "Zm9vYg");
	check_b64url("fooba", "Zm9vYmE");
	check_b64url("foobar", "Zm9vYmFy");
}

static void test_b64url_alphabet_and_padding(void **state)
{
	static const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
	static const char *const bad[] = {"Z",     "Zg=",  "Zm9v+",     "Zm9v/", "Zm 9v",
	                                  "Zm9v*", "Zg=a", "Zm9vYg===", "=Zg"};
	char *e = cer_b64url_encode(bytes, 3);
	uint8_t *d;
	size_t len, i;

	(void)state;
	assert_string_equal(e, "-_-_");
	free(e);
	d = cer_b64url_decode("-_-_", 4, &len);
	assert_non_null(d);
	assert_int_equal(len, 3);
	assert_memory_equal(d, bytes, 3);
	free(d);
	d = cer_b64url_decode("Zg==", 4, &len);
	assert_non_null(d);
	assert_int_equal(len, 1);
	assert_int_equal(d[0], 'f');
	free(d);
	d = cer_b64url_decode("Zm8=", 4, &len);
	assert_non_null(d);
	assert_int_equal(len, 2);
	free(d);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d = cer_b64url_decode(bad[i], strlen(bad[i]), &len);
		if (d != NULL)
			fail_msg("base64url '%s' accepted", bad[i]);
	}
}

static void test_b64_standard(void **state)
{
	uint8_t *d;
	size_t len;

	(void)state;
	d = cer_b64_decode("Zm9v\nYmFy\r\n", 11, &len);
	assert_non_null(d);
	assert_int_equal(len, 6);
	assert_memory_equal(d, "foobar", 6);
	free(d);
	d = cer_b64_decode("+/+/", 4, &len);
	assert_non_null(d);
	assert_int_equal(d[0], 0xfb);
	free(d);
	assert_null(cer_b64_decode("-_-_", 4, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_kdf_known_answer),
	        cmocka_unit_test(test_kdf_two_blocks),
	        cmocka_unit_test(test_item_cek),
	        cmocka_unit_test(test_rfc7518_b3),
	        cmocka_unit_test(test_rfc7518_b3_tampered),
	        cmocka_unit_test(test_jwe_round_trip),
	        cmocka_unit_test(test_jwe_parse_alg),
	        cmocka_unit_test(test_jwe_parse_errors),
	        cmocka_unit_test(test_b64url_rfc4648),
	        cmocka_unit_test(test_b64url_alphabet_and_padding),
	        cmocka_unit_test(test_b64_standard),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
