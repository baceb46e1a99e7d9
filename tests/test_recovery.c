/*
 * ceremony/recovery.c through the API the wizard uses: one key at a time,
 * each outcome, retries after a failure, the verify report in both
 * renderings, and the restore blob's refusal to replace a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ceremony/cer.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/exchange.h"
#include "ceremony/recovery.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"
#include "ceremony/transcript.h"

#define SD "tests/vectors/sd/"
#define KEY(i) SD "keys/cert_" #i ".key"

struct fix {
	struct cer_sd *sd;
	struct cer_recovery *r;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);

	if (f == NULL || cer_sd_load(SD "q2_n3.json", &f->sd) != CER_OK ||
	    cer_recovery_new(f->sd, &f->r) != CER_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	cer_recovery_free(f->r);
	cer_sd_free(f->sd);
	free(f);
	return 0;
}

static char *read_pass(const char *path)
{
	char *p = NULL;

	assert_int_equal(cer_passphrase_file_read(path, &p), CER_OK);
	return p;
}

static void test_one_at_a_time(void **state)
{
	struct fix *f = *state;
	enum cer_share_outcome o;
	struct cer_recovery_key k;
	char *pass = read_pass(SD "keys/cert_2.pass");

	assert_int_equal(cer_recovery_required(f->r), 2);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(2), NULL, NULL, &o), CER_EUSAGE);
	assert_int_equal(o, CER_SHARE_NEEDS_PASSWORD);
	assert_int_equal(cer_recovery_key_count(f->r), 0);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(2), "not it", NULL, &o), CER_EAUTH);
	assert_int_equal(o, CER_SHARE_WRONG_PASSWORD);
	assert_non_null(strstr(cer_errmsg(), "cert_2.key: wrong passphrase"));
	assert_int_equal(cer_recovery_key_count(f->r), 1);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(2), pass, NULL, &o), CER_OK);
	assert_int_equal(o, CER_SHARE_GOOD);
	assert_int_equal(cer_recovery_good(f->r), 1);
	assert_false(cer_recovery_ready(f->r));
	cer_recovery_key(f->r, 0, &k);
	assert_true(k.superseded);
	cer_recovery_key(f->r, 1, &k);
	assert_false(k.superseded);
	assert_int_equal(k.outcome, CER_SHARE_GOOD);
	assert_non_null(strstr(k.cert_path, "cert_2.cer"));
	assert_int_equal(strlen(k.x5t_256), 43);
	assert_string_equal(k.message, "");
	assert_int_equal(cer_recovery_add_key(f->r, KEY(2), pass, NULL, &o), CER_EAUTH);
	assert_int_equal(o, CER_SHARE_DUPLICATE);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(7), NULL, NULL, &o), CER_EAUTH);
	assert_int_equal(o, CER_SHARE_NO_MATCH);
	assert_int_equal(cer_recovery_add_key(f->r, "tests/vectors/bad/lonely.key", NULL, NULL, &o),
	                 CER_EINPUT);
	assert_int_equal(o, CER_SHARE_NO_CERT);
	assert_int_equal(
	        cer_recovery_add_key(f->r, "tests/vectors/bad/not_a_key.key", NULL, NULL, &o),
	        CER_EINPUT);
	assert_int_equal(o, CER_SHARE_NOT_A_KEY);
	assert_int_equal(cer_recovery_good(f->r), 1);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_OK);
	assert_true(cer_recovery_ready(f->r));
	assert_int_equal(cer_recovery_good(f->r), 2);
	cer_secret_free(pass);
}

static json_t *report_json(const struct cer_report *rep)
{
	char *text = cer_report_json(rep);
	json_error_t e;
	json_t *j;

	assert_non_null(text);
	j = json_loads(text, 0, &e);
	free(text);
	assert_non_null(j);
	return j;
}

static void test_verify_quorum_and_not(void **state)
{
	struct fix *f = *state;
	enum cer_share_outcome o;
	struct cer_report *rep = NULL;
	json_t *j;
	size_t i;
	bool seen = false;

	assert_int_equal(cer_recovery_add_key(f->r, KEY(1), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_EQUORUM);
	assert_non_null(rep);
	assert_int_equal(cer_report_status(rep), CER_EQUORUM);
	j = report_json(rep);
	assert_string_equal(json_string_value(json_object_get(j, "result")), "quorum_not_reached");
	assert_int_equal(json_integer_value(json_object_get(j, "needed")), 1);
	json_decref(j);
	cer_report_free(rep);

	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_OK);
	for (i = 0; i < cer_report_line_count(rep); i++)
		seen |= strstr(cer_report_line(rep, i), "Result: VERIFIED") != NULL;
	assert_true(seen);
	assert_non_null(strstr(cer_report_summary(rep), "verified"));
	j = report_json(rep);
	assert_int_equal(json_integer_value(json_object_get(j, "good")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "subsets_checked")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "keys")), 2);
	json_decref(j);
	cer_report_free(rep);
	/* The drill can be run again: the session keeps the shares, not the key. */
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_OK);
	cer_report_free(rep);
}

static char *slurp(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;

	char *text;

	assert_int_equal(cer_file_read(path, 1 << 20, &data, &len), CER_OK);
	text = calloc(1, len + 1);
	assert_non_null(text);
	memcpy(text, data, len);
	free(data);
	return text;
}

/*
 * The session writes its own records: the start, each attempt as it is
 * made, the report and the result.  A key path that names nothing (a
 * passphrase typed in the key-file field) is neither recorded nor said back.
 */
static void test_transcript_records(void **state)
{
	static const char slipped[] = "ancy-secret-pass";
	struct fix *f = *state;
	char path[] = "/tmp/sdc-test-transcript-XXXXXX";
	struct cer_transcript *t = NULL;
	struct cer_report *rep = NULL;
	struct cer_recovery_key k;
	enum cer_share_outcome o;
	char *text;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cer_transcript_open(path, &t), CER_OK);
	assert_int_equal(cer_recovery_set_transcript(f->r, t, "drill", "q2_n3.json"), CER_OK);
	assert_int_equal(cer_recovery_add_key(f->r, slipped, NULL, NULL, &o), CER_EIO);
	assert_int_equal(o, CER_SHARE_NOT_A_KEY);
	assert_null(strstr(cer_errmsg(), slipped));
	assert_non_null(strstr(cer_errmsg(), "does not exist"));
	cer_recovery_key(f->r, 0, &k);
	assert_string_equal(k.key_path, CER_RECOVERY_MISSING_PATH);
	assert_null(strstr(k.message, slipped));
	assert_int_equal(cer_recovery_add_key(f->r, KEY(1), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_EIO);
	cer_report_free(rep);
	assert_int_equal(cer_transcript_close(t), CER_OK);
	text = slurp(path);
	unlink(path);
	assert_null(strstr(text, slipped));
	assert_non_null(strstr(text, " drill start: sd_file q2_n3.json sha256 "));
	assert_non_null(strstr(text, " drill key (a path that does not exist): certificate - "
	                             "x5t_256 -: [FAIL] not_a_key: "));
	assert_non_null(strstr(text, " drill key " KEY(1) ": certificate "));
	assert_non_null(strstr(text, ": [OK] good, 2 of 2 required\n"));
	assert_non_null(strstr(text, "  Result: FAILED"));
	assert_non_null(strstr(text, " drill result: failed (exit 5)\n"));
	free(text);
}

/* Retries by one custodian are superseded by the good share of the same key file or certificate. */
static void test_retries(void **state)
{
	struct fix *f = *state;
	enum cer_share_outcome o;
	struct cer_recovery_key k;
	struct cer_report *rep = NULL;
	json_t *j, *keys;

	assert_int_equal(cer_recovery_add_key(f->r, SD "keys/cert_0.cer", NULL, NULL, &o),
	                 CER_EINPUT);
	assert_int_equal(o, CER_SHARE_NOT_A_KEY);
	assert_non_null(strstr(cer_errmsg(), "this is a certificate"));
	cer_recovery_key(f->r, 0, &k);
	assert_int_equal(strlen(k.x5t_256), 43);
	assert_int_equal(k.status, CER_EINPUT);
	assert_false(k.superseded);
	assert_int_equal(cer_recovery_check_keys(f->r), CER_EINPUT);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_OK);
	cer_recovery_key(f->r, 0, &k);
	assert_true(k.superseded);
	assert_int_equal(k.superseded_by, 1);
	assert_int_equal(cer_recovery_check_keys(f->r), CER_OK);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_EAUTH);
	assert_int_equal(o, CER_SHARE_DUPLICATE);
	cer_recovery_key(f->r, 2, &k);
	assert_true(k.superseded);
	assert_int_equal(k.superseded_by, 1);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(1), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_OK);
	j = report_json(rep);
	keys = json_object_get(j, "keys");
	assert_int_equal(json_array_size(keys), 4);
	assert_true(json_is_true(json_object_get(json_array_get(keys, 0), "superseded")));
	assert_int_equal(
	        json_integer_value(json_object_get(json_array_get(keys, 2), "superseded_by")), 2);
	assert_true(json_is_null(json_object_get(json_array_get(keys, 3), "superseded_by")));
	assert_non_null(strstr(cer_report_summary(rep), "2 attempts retried"));
	json_decref(j);
	cer_report_free(rep);
	/* A directory that a good key file in it supersedes is a retry... */
	assert_int_equal(cer_recovery_add_key(f->r, SD "keys/", NULL, NULL, &o), CER_EINPUT);
	assert_int_equal(o, CER_SHARE_NOT_A_KEY);
	assert_non_null(strstr(cer_errmsg(), "is a directory"));
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_OK);
	cer_report_free(rep);
	/* ... one that no good share comes from fails the drill as bad input. */
	assert_int_equal(cer_recovery_add_key(f->r, "tests/vectors/bad", NULL, NULL, &o),
	                 CER_EINPUT);
	assert_int_equal(o, CER_SHARE_NOT_A_KEY);
	assert_int_equal(cer_recovery_verify(f->r, NULL, &rep), CER_EINPUT);
	assert_int_equal(cer_report_status(rep), CER_EINPUT);
	cer_report_free(rep);
}

static unsigned steps;

static void count_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	(void)ctx;
	(void)what;
	assert_true(done <= total);
	steps++;
}

static void test_restore_blob(void **state)
{
	struct fix *f = *state;
	const struct cer_progress p = {count_step, NULL, NULL};
	enum cer_share_outcome o;
	const struct cer_exchange_policy pol = {.now = 0};
	struct cer_exchange *x = NULL;
	char out[] = "/tmp/sdc-test-recovery-XXXXXX", path[64], hex[65], again[65];

	assert_non_null(mkdtemp(out));
	snprintf(path, sizeof path, "%s/blob.json", out);
	assert_int_equal(cer_exchange_open(SD "exchange/exchange_rest.json", &pol, &x), CER_OK);
	assert_int_equal(cer_recovery_add_key(f->r, KEY(0), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_restore_blob(f->r, path, false, &p, hex), CER_EUSAGE);
	assert_int_equal(cer_recovery_set_exchange(f->r, x, NULL), CER_OK);
	assert_int_equal(cer_recovery_restore_blob(f->r, path, false, &p, hex), CER_EQUORUM);
	assert_false(cer_path_exists(path));
	assert_int_equal(cer_recovery_add_key(f->r, KEY(1), NULL, NULL, &o), CER_OK);
	steps = 0;
	assert_int_equal(cer_recovery_restore_blob(f->r, path, false, &p, hex), CER_OK);
	assert_true(steps > 0);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(cer_file_sha256_hex(path, again), CER_OK);
	assert_string_equal(hex, again);
	assert_int_equal(cer_recovery_restore_blob(f->r, path, false, &p, again), CER_EIO);
	assert_non_null(strstr(cer_errmsg(), "already exists"));
	/* A typed reason: each face says in its own words how to replace it. */
	assert_int_equal(cer_errreason(), CER_REASON_EXISTS);
	assert_null(strstr(cer_errmsg(), "--force"));
	cer_fail(CER_EIO, "another failure");
	assert_int_equal(cer_errreason(), CER_REASON_NONE);
	assert_int_equal(cer_file_sha256_hex(path, again), CER_OK);
	assert_string_equal(hex, again);
	/* A fresh master key each time: the new blob differs. */
	assert_int_equal(cer_recovery_restore_blob(f->r, path, true, &p, again), CER_OK);
	assert_string_not_equal(hex, again);
	unlink(path);
	rmdir(out);
	cer_exchange_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_one_at_a_time, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_verify_quorum_and_not, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_restore_blob, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_transcript_records, setup, teardown),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
