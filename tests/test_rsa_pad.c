/*
 * ceremony/rsa_pad.c, the host side of the raw token unwrap: OpenSSL pads a
 * random 64-byte content key (OAEP with SHA-1 and SHA-256, PKCS#1 v1.5) to
 * an RSA-2048 and RSA-3072 key, its raw decryption (RSA_NO_PADDING, what
 * CKM_RSA_X_509 returns) is decoded here to the same key; every single-byte
 * change of the padded block, a wrong hash and a message of another length
 * are refused (OAEP), or give a random key that differs from run to run
 * (PKCS#1 v1.5 implicit rejection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "ceremony/cer.h"
#include "ceremony/rsa_pad.h"

static EVP_PKEY *keys[2];

static int setup(void **state)
{
	unsigned bits[2] = {2048, 3072};
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		keys[i] = EVP_RSA_gen(bits[i]);
		if (keys[i] == NULL)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(keys[0]);
	EVP_PKEY_free(keys[1]);
	return 0;
}

enum pad { OAEP1, OAEP256, PKCS1 };

/* Encrypts msg with padding pad, then decrypts without padding: em is the raw block. */
static size_t padded_block(EVP_PKEY *key, enum pad pad, const uint8_t *msg, size_t msg_len,
                           uint8_t *em)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
	uint8_t ct[512];
	size_t ct_len = sizeof ct, em_len = 512;
	const EVP_MD *md = pad == OAEP256 ? EVP_sha256() : EVP_sha1();

	assert_non_null(c);
	assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
	if (pad == PKCS1) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
	} else {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(c, md) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(c, md) > 0);
	}
	assert_int_equal(EVP_PKEY_encrypt(c, ct, &ct_len, msg, msg_len), 1);
	EVP_PKEY_CTX_free(c);
	c = EVP_PKEY_CTX_new(key, NULL);
	assert_int_equal(EVP_PKEY_decrypt_init(c), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) > 0);
	assert_int_equal(EVP_PKEY_decrypt(c, em, &em_len, ct, ct_len), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(em_len, (size_t)EVP_PKEY_get_size(key));
	return em_len;
}

static void oaep_case(enum pad pad)
{
	uint8_t msg[CER_CEK_LEN + 1], em[512], out[CER_CEK_LEN], zero[CER_CEK_LEN] = {0};
	size_t k, i;
	int key;

	for (key = 0; key < 2; key++) {
		randombytes_buf(msg, sizeof msg);
		k = padded_block(keys[key], pad, msg, CER_CEK_LEN, em);
		assert_int_equal(cer_rsa_oaep_decode(em, k, pad == OAEP256, "t", out), CER_OK);
		assert_memory_equal(out, msg, CER_CEK_LEN);
		assert_int_equal(cer_rsa_oaep_decode(em, k, pad != OAEP256, "t", out), CER_EAUTH);
		assert_memory_equal(out, zero, CER_CEK_LEN);
		for (i = 0; i < k; i++) {
			em[i] ^= 0x01;
			assert_int_equal(cer_rsa_oaep_decode(em, k, pad == OAEP256, "t", out),
			                 CER_EAUTH);
			assert_memory_equal(out, zero, CER_CEK_LEN);
			em[i] ^= 0x01;
		}
		/* A valid OAEP block of a 63- and a 65-byte message: not a content key. */
		k = padded_block(keys[key], pad, msg, 63, em);
		assert_int_equal(cer_rsa_oaep_decode(em, k, pad == OAEP256, "t", out), CER_EAUTH);
		k = padded_block(keys[key], pad, msg, 65, em);
		assert_int_equal(cer_rsa_oaep_decode(em, k, pad == OAEP256, "t", out), CER_EAUTH);
	}
}

static void test_oaep_sha1(void **state)
{
	(void)state;
	oaep_case(OAEP1);
}

static void test_oaep_sha256(void **state)
{
	(void)state;
	oaep_case(OAEP256);
}

static void test_oaep_too_small(void **state)
{
	uint8_t em[64] = {0}, out[CER_CEK_LEN];

	(void)state;
	assert_int_equal(cer_rsa_oaep_decode(em, sizeof em, true, "t", out), CER_EINPUT);
}

static void test_pkcs1_implicit_rejection(void **state)
{
	uint8_t msg[CER_CEK_LEN], em[512], out[CER_CEK_LEN], again[CER_CEK_LEN];
	size_t k, i;
	int key;

	(void)state;
	for (key = 0; key < 2; key++) {
		randombytes_buf(msg, sizeof msg);
		k = padded_block(keys[key], PKCS1, msg, sizeof msg, em);
		assert_int_equal(cer_rsa_pkcs1_decode_implicit(em, k, "t", out), CER_OK);
		assert_memory_equal(out, msg, CER_CEK_LEN);
		/* The header, a padding byte made zero, the separator: each a random key. */
		for (i = 0; i < k - CER_CEK_LEN; i++) {
			uint8_t keep = em[i];

			em[i] = i == 1 ? 0x01 : i == k - CER_CEK_LEN - 1 ? 0x5a : i == 0 ? 0x01 : 0;
			assert_int_equal(cer_rsa_pkcs1_decode_implicit(em, k, "t", out), CER_OK);
			assert_int_equal(cer_rsa_pkcs1_decode_implicit(em, k, "t", again), CER_OK);
			assert_memory_not_equal(out, msg, CER_CEK_LEN);
			assert_memory_not_equal(out, again, CER_CEK_LEN);
			em[i] = keep;
		}
		k = padded_block(keys[key], PKCS1, msg, 48, em);
		assert_int_equal(cer_rsa_pkcs1_decode_implicit(em, k, "t", out), CER_OK);
		assert_int_equal(cer_rsa_pkcs1_decode_implicit(em, k, "t", again), CER_OK);
		assert_memory_not_equal(out, again, CER_CEK_LEN);
	}
}

static void test_ct_select(void **state)
{
	uint8_t a[4] = {1, 2, 3, 4}, b[4] = {9, 8, 7, 6}, out[4];

	(void)state;
	cer_ct_select(out, a, b, 4, 0xff);
	assert_memory_equal(out, a, 4);
	cer_ct_select(out, a, b, 4, 0);
	assert_memory_equal(out, b, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_oaep_sha1),
	        cmocka_unit_test(test_oaep_sha256),
	        cmocka_unit_test(test_oaep_too_small),
	        cmocka_unit_test(test_pkcs1_implicit_rejection),
	        cmocka_unit_test(test_ct_select),
	};

	if (cer_init() != CER_OK)
		return 1;
	cer_memlock_accept_unlocked();
	return cmocka_run_group_tests(tests, setup, teardown);
}
