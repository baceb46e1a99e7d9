/*
 * ceremony/sd.c: the three file forms, versions 1 and 2, and every defect of
 * the whole file (refused with a message naming the field) or of one entry
 * (recorded on the entry, the rest still described).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ceremony/cer.h"
#include "ceremony/codec.h"
#include "ceremony/io.h"
#include "ceremony/sd.h"

#define VEC "tests/vectors/sd/"

static void test_forms(void **state)
{
	static const struct {
		const char *file;
		enum cer_sd_form form;
		unsigned req, n;
	} t[] = {
	        {VEC "q2_n3.json", CER_SD_FORM_JSON, 2, 3},
	        {VEC "value_q2_n3.json", CER_SD_FORM_VALUE, 2, 3},
	        {VEC "b64_q3_n3.txt", CER_SD_FORM_B64, 3, 3},
	        {VEC "q10_n10.json", CER_SD_FORM_JSON, 10, 10},
	};
	struct cer_sd *sd;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (cer_sd_load(t[i].file, &sd) != CER_OK)
			fail_msg("%s: %s", t[i].file, cer_errmsg());
		assert_int_equal(cer_sd_form(sd), t[i].form);
		assert_int_equal(cer_sd_version(sd), 2);
		assert_int_equal(cer_sd_required(sd), t[i].req);
		assert_int_equal(cer_sd_share_count(sd), t[i].n);
		assert_string_equal(cer_sd_key_algorithm(sd), "shamir_share");
		assert_string_equal(cer_sd_kdf(sd), "sp108_kdf");
		assert_int_equal(strlen(cer_sd_sha256_hex(sd)), 64);
		assert_true(cer_sd_item_count(sd) >= 1);
		for (j = 0; j < cer_sd_share_count(sd); j++) {
			assert_null(cer_sd_share(sd, j)->problem);
			assert_true(cer_sd_share(sd, j)->thumb_ok);
			assert_int_equal(cer_sd_find_share(sd, cer_sd_share(sd, j)->thumb, 0),
			                 (long)j);
		}
		for (j = 0; j < cer_sd_item_count(sd); j++)
			assert_null(cer_sd_item(sd, j)->problem);
		assert_int_equal(cer_sd_check_items(sd), CER_OK);
		cer_sd_free(sd);
	}
}

static void test_version1(void **state)
{
	struct cer_sd *sd;

	(void)state;
	assert_int_equal(cer_sd_load(VEC "v1_n3.json", &sd), CER_OK);
	assert_int_equal(cer_sd_version(sd), 1);
	assert_int_equal(cer_sd_required(sd), 2);
	assert_string_equal(cer_sd_key_algorithm(sd), "xor_split");
	assert_int_equal(cer_sd_share_count(sd) % 2, 0);
	assert_int_equal(cer_sd_share(sd, 0)->half, 1);
	assert_int_equal(cer_sd_share(sd, 1)->half, 2);
	assert_int_equal(cer_sd_share(sd, 1)->pair, 0);
	cer_sd_free(sd);
}

static json_t *base(void)
{
	json_error_t e;
	json_t *j = json_load_file(VEC "q2_n3.json", 0, &e);

	assert_non_null(j);
	return j;
}

/* Parses j (reference taken) and expects the load to fail with msg. */
static void expect_fail(json_t *j, const char *msg)
{
	char *text = json_dumps(j, JSON_ENCODE_ANY);
	struct cer_sd *sd = (struct cer_sd *)1;
	int ret;

	json_decref(j);
	assert_non_null(text);
	ret = cer_sd_parse((const uint8_t *)text, strlen(text), "SD.json", &sd);
	free(text);
	if (ret != CER_EINPUT || strstr(cer_errmsg(), msg) == NULL ||
	    strncmp(cer_errmsg(), "SD.json", 7) != 0)
		fail_msg("status %d, message '%s', wanted '%s'", ret, cer_errmsg(), msg);
	assert_null(sd);
}

static json_t *path(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);

	return b != NULL ? json_object_get(v, b) : v;
}

static void test_whole_file_defects(void **state)
{
	json_t *j;
	struct cer_sd *sd = NULL;

	(void)state;
	expect_fail(json_string("x"), "not an object");
	j = base(), json_object_del(j, "EncData"), expect_fail(j, "EncData is missing");
	j = base(), json_object_set_new(j, "EncData", json_integer(3)),
	expect_fail(j, "EncData is not an object");
	j = base(), json_object_del(path(j, "EncData", NULL), "data"),
	expect_fail(j, "EncData.data is missing");
	j = base(), json_object_set_new(path(j, "EncData", NULL), "data", json_object()),
	expect_fail(j, "EncData.data is not an array");
	j = base(), json_object_set_new(path(j, "EncData", NULL), "data", json_array()),
	expect_fail(j, "EncData.data is empty");
	j = base(), json_object_set_new(path(j, "EncData", NULL), "kdf", json_true()),
	expect_fail(j, "EncData.kdf is not a string");
	j = base(), json_object_del(j, "SharedKeys"), expect_fail(j, "SharedKeys is missing");
	j = base(), json_object_set_new(j, "SharedKeys", json_array()),
	expect_fail(j, "SharedKeys is not an object");
	j = base(), json_object_del(path(j, "SharedKeys", NULL), "required"),
	expect_fail(j, "SharedKeys.required is missing");
	j = base(), json_object_set_new(path(j, "SharedKeys", NULL), "required", json_string("2")),
	expect_fail(j, "SharedKeys.required is not an integer");
	j = base(), json_object_set_new(path(j, "SharedKeys", NULL), "required", json_integer(1)),
	expect_fail(j, "outside 2..126");
	j = base(), json_object_set_new(path(j, "SharedKeys", NULL), "required", json_integer(4)),
	expect_fail(j, "only 3 shares");
	j = base(), json_object_del(path(j, "SharedKeys", NULL), "enc_shares"),
	expect_fail(j, "SharedKeys.enc_shares is missing");
	j = base(), json_object_set_new(path(j, "SharedKeys", NULL), "enc_shares", json_string("")),
	expect_fail(j, "SharedKeys.enc_shares is not an array");
	j = base(), json_object_del(path(j, "SharedKeys", NULL), "key_algorithm"),
	expect_fail(j, "SharedKeys.key_algorithm is missing");
	j = base(), json_object_set_new(j, "version", json_integer(3)),
	expect_fail(j, "unsupported version 3");
	j = base(), json_object_set_new(j, "version", json_string("2")),
	expect_fail(j, "\"version\" is not an integer");
	j = base(), json_object_set_new(j, "version", json_integer(1)),
	expect_fail(j, "SplitKeys is missing");
	/* "value" wrapper holding something that is not JSON */
	j = json_pack("{s:s}", "value", "{\"EncData\":");
	expect_fail(j, "not valid JSON");
	j = json_pack("{s:i}", "value", 5);
	expect_fail(j, "\"value\" is not a string");
	assert_int_equal(cer_sd_parse((const uint8_t *)"{\"EncData\": {", 13, "SD.json", &sd),
	                 CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "SD.json: not valid JSON (line 1"));
	assert_int_equal(cer_sd_parse((const uint8_t *)" \n", 2, "SD.json", &sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "empty"));
	assert_int_equal(cer_sd_parse((const uint8_t *)"%%%", 3, "SD.json", &sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "not valid JSON"));
	assert_int_equal(cer_sd_parse((const uint8_t *)"Zm9v!", 5, "SD.json", &sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "not valid JSON"));
	assert_null(sd);
}

static void test_entry_defects(void **state)
{
	json_t *j = base(), *data = path(j, "EncData", "data"), *shares;
	struct cer_sd *sd = NULL;
	char *text;
	const char *jwe;
	char *bad;

	(void)state;
	shares = path(j, "SharedKeys", "enc_shares");
	json_object_del(json_array_get(data, 0), "tag");
	jwe = json_string_value(json_object_get(json_array_get(data, 1), "compact_jwe"));
	bad = strdup(jwe);
	bad[strlen(bad) - 3] = '+';
	json_object_set_new(json_array_get(data, 1), "compact_jwe", json_string(bad));
	free(bad);
	json_object_set_new(json_array_get(data, 2), "compact_jwe", json_integer(7));
	json_object_set_new(json_array_get(shares, 0), "x5t_256", json_string("abc"));
	json_object_del(json_array_get(shares, 1), "enc_key");
	text = json_dumps(j, 0);
	json_decref(j);
	assert_int_equal(cer_sd_parse((const uint8_t *)text, strlen(text), "SD.json", &sd), CER_OK);
	free(text);
	assert_string_equal(cer_sd_item(sd, 0)->problem, "\"tag\" is missing");
	assert_non_null(
	        strstr(cer_sd_item(sd, 1)->problem, "bad base64url in JWE authentication tag"));
	assert_non_null(strstr(cer_sd_item(sd, 1)->problem, "compact_jwe: "));
	assert_string_equal(cer_sd_item(sd, 2)->problem, "\"compact_jwe\" is not a string");
	assert_non_null(strstr(cer_sd_share(sd, 0)->problem, "x5t_256"));
	assert_string_equal(cer_sd_share(sd, 1)->problem, "\"enc_key\" is missing");
	assert_null(cer_sd_share(sd, 2)->problem);
	assert_int_equal(cer_sd_check_items(sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "EncData.data[0]"));
	cer_sd_free(sd);
}

static void test_too_large(void **state)
{
	size_t len = CER_MAX_INPUT + 1;
	uint8_t *big = malloc(len);
	struct cer_sd *sd = NULL;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	assert_int_equal(cer_sd_parse(big, len, "big.json", &sd), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "too large"));
	assert_null(sd);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_forms),
	        cmocka_unit_test(test_version1),
	        cmocka_unit_test(test_whole_file_defects),
	        cmocka_unit_test(test_entry_defects),
	        cmocka_unit_test(test_too_large),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
