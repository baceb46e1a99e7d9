/*
 * Hardening against hostile input: control characters in messages, report
 * lines and transcripts; FIFOs where a file is expected (refused at once,
 * never waited on); RSA1_5 content keys with bad padding (a random CEK, so
 * the failure shows only at the tag); many items (duplicate tags found in
 * linear time); DER private keys and PKCS#12 files refused as QR codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "ceremony/cer.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"
#include "ceremony/qr.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"

static char dir[] = "/tmp/sdc-hardening.XXXXXX";

static bool has_control(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f || (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f))
			return true;
	return false;
}

static void test_sanitize(void **state)
{
	char s1[] = "a\x1b[2Jb\nc\rd\te\x7f"
	            "f";
	char s2[] = "caf\xc3\xa9 \xc2\x9b"
	            "31m \xc2\xa0x";
	char s3[] = "\xc2";

	(void)state;
	cer_text_sanitize(s1);
	assert_string_equal(s1, "a?[2Jb?c?d?e?f");
	cer_text_sanitize(s2);
	/* é and the no-break space stay; the C1 CSI does not */
	assert_string_equal(s2, "caf\xc3\xa9 ??31m \xc2\xa0x");
	cer_text_sanitize(s3);
	assert_string_equal(s3, "\xc2");
}

static void test_messages_one_line(void **state)
{
	(void)state;
	cer_fail(CER_EINPUT, "item '%s': bad", "evil\x1b]0;title\x07\nsecond line");
	assert_false(has_control(cer_errmsg()));
	assert_non_null(strstr(cer_errmsg(), "evil?]0;title??second line"));
	cer_fail(CER_EINPUT, "inner\n");
	cer_fail_context(CER_EINPUT, "outer\x1b[31m");
	assert_false(has_control(cer_errmsg()));
	assert_string_equal(cer_errmsg(), "outer?[31m: inner?");
}

static void note_cb(void *ctx, const char *line)
{
	snprintf(ctx, 256, "%s", line);
}

static void test_progress_note(void **state)
{
	char got[256] = "";
	struct cer_progress p = {NULL, note_cb, got};

	(void)state;
	cer_progress_note(&p, "%s", "x\x1b[1A\ny");
	assert_string_equal(got, "x?[1A?y");
}

static void test_report_lines(void **state)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:[{s:i, s:s, s:n, s:s}]}", "report",
	                      "inspect", "sd_file", "sd\x1b[2J.json", "sha256", "00", "version", 2,
	                      "kdf", "sp108_kdf", "data", "index", 1, "tag",
	                      "tag\nFAKE LINE\x1b[31m", "problem", "enc", "A256CBC-HS512");
	struct cer_report *r = NULL;
	size_t i;

	(void)state;
	assert_non_null(j);
	assert_int_equal(cer_report_build(j, CER_OK, &r), CER_OK);
	assert_true(cer_report_line_count(r) > 3);
	for (i = 0; i < cer_report_line_count(r); i++)
		assert_false(has_control(cer_report_line(r, i)));
	assert_false(has_control(cer_report_summary(r)));
	cer_report_free(r);
}

static void test_fifo_refused(void **state)
{
	char path[sizeof dir + 16];
	struct cer_transcript *t = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	time_t start;

	(void)state;
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	start = time(NULL);
	/* Without O_NONBLOCK both opens wait for a writer / reader forever. */
	assert_int_equal(cer_file_read(path, 1024, &buf, &len), CER_EIO);
	assert_null(buf);
	assert_non_null(strstr(cer_errmsg(), "not a regular file"));
	assert_int_equal(cer_file_read_secret(path, 1024, &buf, &len), CER_EIO);
	assert_int_equal(cer_transcript_open(path, &t), CER_EIO);
	assert_null(t);
	assert_true(time(NULL) - start < 5);
	unlink(path);
}

static void test_transcript_one_line(void **state)
{
	char path[sizeof dir + 16];
	struct cer_transcript *t = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/transcript", dir);
	assert_int_equal(cer_transcript_open(path, &t), CER_OK);
	assert_int_equal(cer_transcript_add(t, "a\nb\x1b[2J\xc2\x9b"
	                                       "c"),
	                 CER_OK);
	assert_int_equal(cer_transcript_close(t), CER_OK);
	assert_int_equal(cer_file_read(path, 4096, &buf, &len), CER_OK);
	assert_int_equal(buf[len - 1], '\n');
	buf[len - 1] = '\0';
	assert_null(strchr((char *)buf, '\n'));
	assert_non_null(strstr((char *)buf, " a?b?[2J??c"));
	free(buf);
	unlink(path);
}

/* A compact JWE with alg RSA1_5 whose encrypted key is ek. */
static struct cer_jwe *rsa15_jwe(const uint8_t cek[static CER_CEK_LEN], const uint8_t *ek,
                                 size_t ek_len)
{
	static const uint8_t plain[] = "a share";
	struct cer_jwe *jwe = NULL;
	char *compact = NULL;

	assert_int_equal(cer_jwe_encrypt("{\"alg\":\"RSA1_5\",\"enc\":\"A256CBC-HS512\"}", cek, ek,
	                                 ek_len, plain, sizeof plain, &compact),
	                 CER_OK);
	assert_int_equal(cer_jwe_parse(compact, strlen(compact), "test", &jwe), CER_OK);
	free(compact);
	return jwe;
}

static void test_rsa15_implicit_rejection(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t cek[CER_CEK_LEN], got[CER_CEK_LEN], again[CER_CEK_LEN], ek[256], *pt = NULL;
	size_t ek_len = sizeof ek, pt_len = 0;
	struct cer_jwe *jwe;

	(void)state;
	assert_non_null(key);
	randombytes_buf(cek, sizeof cek);

	/* A good RSA1_5 key unwraps to the CEK and the share opens. */
	ctx = EVP_PKEY_CTX_new(key, NULL);
	assert_non_null(ctx);
	assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
	assert_true(EVP_PKEY_encrypt(ctx, ek, &ek_len, cek, sizeof cek) > 0);
	EVP_PKEY_CTX_free(ctx);
	jwe = rsa15_jwe(cek, ek, ek_len);
	assert_int_equal(cer_jwe_unwrap_cek(jwe, key, "good", got), CER_OK);
	assert_memory_equal(got, cek, sizeof cek);
	assert_int_equal(cer_jwe_decrypt(jwe, got, "good", &pt, &pt_len), CER_OK);
	cer_secret_free(pt);
	cer_jwe_free(jwe);

	/* Random bytes for the encrypted key: no error at the unwrap, a fresh
	 * random CEK each time, and the tag fails. */
	randombytes_buf(ek, sizeof ek);
	ek[0] = 0; /* below the modulus */
	jwe = rsa15_jwe(cek, ek, sizeof ek);
	assert_int_equal(cer_jwe_unwrap_cek(jwe, key, "bad padding", got), CER_OK);
	assert_int_equal(cer_jwe_unwrap_cek(jwe, key, "bad padding", again), CER_OK);
	assert_memory_not_equal(got, again, sizeof got);
	assert_memory_not_equal(got, cek, sizeof got);
	assert_int_equal(cer_jwe_check_tag(jwe, got, "bad padding"), CER_EAUTH);
	cer_jwe_free(jwe);
	EVP_PKEY_free(key);
}

static void test_many_items_linear(void **state)
{
	const size_t n = 100000;
	json_t *data = json_array(), *root;
	struct cer_sd *sd = NULL;
	char tag[32], *text;
	clock_t start;
	size_t i, dups = 0;

	(void)state;
	for (i = 0; i < n; i++) {
		snprintf(tag, sizeof tag, "t%zu", i == n - 1 ? (size_t)7 : i);
		json_array_append_new(data,
		                      json_pack("{s:s, s:s}", "tag", tag, "compact_jwe", "x"));
	}
	root = json_pack("{s:i, s:{s:o, s:s}, s:{s:s, s:i, s:[{s:s, s:s}, {s:s, s:s}]}}", "version",
	                 2, "EncData", "data", data, "kdf", "sp108_kdf", "SharedKeys",
	                 "key_algorithm", "shamir_share", "required", 2, "enc_shares", "x5t_256",
	                 "a", "enc_key", "b", "x5t_256", "c", "enc_key", "d");
	assert_non_null(root);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	assert_non_null(text);
	start = clock();
	assert_int_equal(cer_sd_parse((const uint8_t *)text, strlen(text), "many", &sd), CER_OK);
	/* Quadratic duplicate search took about a minute here; linear takes well under 5 s
	 * even under the sanitizers. */
	assert_true((clock() - start) / CLOCKS_PER_SEC < 5);
	free(text);
	assert_int_equal(cer_sd_item_count(sd), n);
	for (i = 0; i < n; i++) {
		const char *p = cer_sd_item(sd, i)->problem;

		if (p != NULL && strcmp(p, "the same tag appears twice") == 0)
			dups++;
	}
	assert_int_equal(dups, 1);
	assert_string_equal(cer_sd_item(sd, n - 1)->problem, "the same tag appears twice");
	assert_string_not_equal(cer_sd_item(sd, 7)->problem, "the same tag appears twice");
	cer_sd_free(sd);
}

static void expect_qr_refused(const uint8_t *der, int len, const char *what)
{
	struct cer_qr_set set;

	assert_true(len > 0);
	if (cer_qr_split(der, (size_t)len, CER_QR_DEFAULT_MAX_BYTES, CER_QR_EC_M, &set) !=
	            CER_EINPUT ||
	    strstr(cer_errmsg(), "private key") == NULL)
		fail_msg("%s was not refused: %s", what, cer_errmsg());
}

static void test_qr_refuses_der_keys(void **state)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_SIG *enc = NULL;
	PKCS12 *p12 = NULL;
	unsigned char *der = NULL;
	struct cer_qr_set set;
	int len;

	(void)state;
	assert_non_null(key);
	len = i2d_PrivateKey(key, &der);
	expect_qr_refused(der, len, "a traditional DER key");
	OPENSSL_free(der);
	der = NULL;
	p8 = EVP_PKEY2PKCS8(key);
	len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
	expect_qr_refused(der, len, "a DER PKCS#8 key");
	OPENSSL_free(der);
	der = NULL;
	enc = PKCS8_encrypt(-1, EVP_aes_256_cbc(), "a passphrase", -1, NULL, 0, 2048, p8);
	assert_non_null(enc);
	len = i2d_X509_SIG(enc, &der);
	expect_qr_refused(der, len, "an encrypted DER PKCS#8 key");
	OPENSSL_free(der);
	der = NULL;
	p12 = PKCS12_create("a passphrase", "k", key, NULL, NULL, 0, 0, 0, 0, 0);
	assert_non_null(p12);
	len = i2d_PKCS12(p12, &der);
	expect_qr_refused(der, len, "a PKCS#12 file");
	OPENSSL_free(der);
	der = NULL;
	/* The public key alone crosses. */
	len = i2d_PUBKEY(key, &der);
	assert_true(len > 0);
	assert_int_equal(
	        cer_qr_split(der, (size_t)len, CER_QR_DEFAULT_MAX_BYTES, CER_QR_EC_M, &set),
	        CER_OK);
	cer_qr_set_free(&set);
	OPENSSL_free(der);
	PKCS12_free(p12);
	X509_SIG_free(enc);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sanitize),
	        cmocka_unit_test(test_messages_one_line),
	        cmocka_unit_test(test_progress_note),
	        cmocka_unit_test(test_report_lines),
	        cmocka_unit_test(test_fifo_refused),
	        cmocka_unit_test(test_transcript_one_line),
	        cmocka_unit_test(test_rsa15_implicit_rejection),
	        cmocka_unit_test(test_many_items_linear),
	        cmocka_unit_test(test_qr_refuses_der_keys),
	};
	int rc;

	if (cer_init() != CER_OK)
		return 1;
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
