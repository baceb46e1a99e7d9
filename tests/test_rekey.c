/*
 * ceremony/rekey.c through its API (the one a wizard flow would call): the
 * checks made before any key is unlocked, a rekey whose new file opens with
 * the new keys to the same item plaintexts and with no old key, its report
 * in both renderings, and a run that fails without writing anything.
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

#include "ceremony/cer.h"
#include "ceremony/io.h"
#include "ceremony/recovery.h"
#include "ceremony/rekey.h"
#include "ceremony/report.h"
#include "ceremony/sd.h"

#define SD "tests/vectors/sd/"
#define CERT(i) SD "keys/cert_" #i ".cer"
#define KEY(i) SD "keys/cert_" #i ".key"

static char tmpdir[64];
static char out_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_rekey.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(out_path, sizeof out_path, "%s/new.json", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(out_path);
	rmdir(tmpdir);
	return 0;
}

static void params(struct cer_rekey_params *p, unsigned count, unsigned quorum)
{
	static const char *certs[] = {CERT(7), CERT(8), CERT(0), CERT(1)};
	unsigned i;

	memset(p, 0, sizeof *p);
	p->sd_path = SD "q2_n3.json";
	p->out_path = out_path;
	p->count = count;
	p->quorum = quorum;
	for (i = 0; i < count && i < 4; i++)
		p->cert_paths[i] = certs[i];
}

static void test_refusals(void **state)
{
	struct cer_rekey_params p;
	struct cer_rekey *k = NULL;

	(void)state;
	params(&p, 2, 2);
	assert_int_equal(cer_rekey_new(&p, &k), CER_EUSAGE);
	params(&p, 3, 1);
	assert_int_equal(cer_rekey_new(&p, &k), CER_EUSAGE);
	params(&p, 3, 4);
	assert_int_equal(cer_rekey_new(&p, &k), CER_EUSAGE);
	params(&p, 3, 2);
	p.out_path = SD "q2_n3.json";
	p.force = true;
	assert_int_equal(cer_rekey_new(&p, &k), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "is the input"));
	params(&p, 3, 2);
	p.cert_paths[2] = CERT(7);
	assert_int_equal(cer_rekey_new(&p, &k), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "same public key"));
	params(&p, 3, 2);
	p.cert_paths[1] = "tests/vectors/bad/ec_wrapping.cer";
	assert_int_equal(cer_rekey_new(&p, &k), CER_EINPUT);
	params(&p, 3, 2);
	p.out_path = SD "q3_n4_big.json";
	assert_int_equal(cer_rekey_new(&p, &k), CER_EIO);
	assert_null(k);
}

static struct cer_recovery *session(const struct cer_sd *sd, const char *a, const char *b)
{
	struct cer_recovery *r = NULL;
	enum cer_share_outcome o;

	assert_int_equal(cer_recovery_new(sd, &r), CER_OK);
	assert_int_equal(cer_recovery_add_key(r, a, NULL, NULL, &o), CER_OK);
	if (b != NULL)
		assert_int_equal(cer_recovery_add_key(r, b, NULL, NULL, &o), CER_OK);
	return r;
}

static void test_rekey_and_reopen(void **state)
{
	struct cer_rekey_params p;
	struct cer_rekey *k = NULL;
	struct cer_sd *sd = NULL, *nsd = NULL;
	struct cer_recovery *r, *nr;
	struct cer_report *rep = NULL;
	enum cer_share_outcome o;
	uint8_t *a[8] = {NULL}, *b[8] = {NULL}, *aarena = NULL, *barena = NULL;
	size_t alen[8], blen[8], i, n;
	char *json;

	(void)state;
	params(&p, 4, 3);
	assert_int_equal(cer_sd_load(SD "q2_n3.json", &sd), CER_OK);
	n = cer_sd_item_count(sd);
	assert_true(n <= 8);
	assert_int_equal(cer_rekey_new(&p, &k), CER_OK);
	r = session(sd, KEY(0), KEY(1));
	assert_int_equal(cer_rekey_run(k, sd, r, NULL, &rep), CER_OK);
	assert_non_null(rep);
	json = cer_report_json(rep);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"new_subsets_checked\": 4"));
	assert_non_null(strstr(json, "\"in_old_file\": true"));
	free(json);
	assert_non_null(strstr(cer_report_summary(rep), "3 of 4"));

	assert_int_equal(cer_sd_load(out_path, &nsd), CER_OK);
	assert_int_equal(cer_sd_version(nsd), 2);
	assert_int_equal(cer_sd_required(nsd), 3);
	/* Two new keys are not enough; with a kept custodian's, three open it to the same
	 * plaintexts. */
	nr = session(nsd, KEY(7), KEY(8));
	assert_int_equal(cer_recovery_open_items(nr, NULL, b, blen, &barena), CER_EQUORUM);
	assert_null(barena);
	assert_int_equal(cer_recovery_add_key(nr, KEY(0), NULL, NULL, &o), CER_OK);
	assert_int_equal(cer_recovery_open_items(nr, NULL, b, blen, &barena), CER_OK);
	cer_recovery_free(r);
	r = session(sd, KEY(0), KEY(1));
	assert_int_equal(cer_recovery_open_items(r, NULL, a, alen, &aarena), CER_OK);
	for (i = 0; i < n; i++) {
		assert_int_equal(alen[i], blen[i]);
		assert_memory_equal(a[i], b[i], alen[i]);
	}
	cer_secret_free(aarena);
	cer_secret_free(barena);
	/* The output exists now: a second run refuses and leaves it alone. */
	cer_report_free(rep);
	rep = NULL;
	assert_int_equal(cer_rekey_run(k, sd, r, NULL, &rep), CER_EIO);
	assert_null(rep);
	cer_recovery_free(r);
	cer_recovery_free(nr);
	cer_rekey_free(k);
	cer_sd_free(nsd);
	cer_sd_free(sd);
}

static void test_too_few_writes_nothing(void **state)
{
	struct cer_rekey_params p;
	struct cer_rekey *k = NULL;
	struct cer_sd *sd = NULL;
	struct cer_recovery *r;
	struct cer_report *rep = NULL;

	(void)state;
	params(&p, 3, 2);
	assert_int_equal(cer_sd_load(SD "q2_n3.json", &sd), CER_OK);
	assert_int_equal(cer_rekey_new(&p, &k), CER_OK);
	r = session(sd, KEY(0), NULL);
	assert_int_equal(cer_rekey_run(k, sd, r, NULL, &rep), CER_EQUORUM);
	assert_null(rep);
	assert_false(cer_path_exists(out_path));
	cer_recovery_free(r);
	cer_rekey_free(k);
	cer_sd_free(sd);
}

/* What a front end asks before and between the custodians' turns. */
static void test_front_end_helpers(void **state)
{
	char paths[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX], name[160];
	struct cer_rekey_params p;
	struct cer_rekey *k = NULL;
	struct cer_rekey_share sh;
	struct cer_sd *sd = NULL;
	struct cer_recovery *r;
	unsigned n = 99, i;
	FILE *f;

	(void)state;
	/* A directory: its .cer files in name order; other files are not certificates. */
	assert_int_equal(cer_rekey_certs_in_dir(tmpdir, paths, &n), CER_EUSAGE);
	assert_int_equal(n, 0);
	assert_non_null(strstr(cer_errmsg(), "no certificate"));
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "%s/c%u.cer", tmpdir, 2 - i);
		f = fopen(name, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(name, sizeof name, "%s/c9.key", tmpdir);
	f = fopen(name, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(cer_rekey_certs_in_dir(tmpdir, paths, &n), CER_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof name, "%s/c%u.cer", tmpdir, i);
		assert_string_equal(paths[i], name);
		unlink(name);
	}
	snprintf(name, sizeof name, "%s/c9.key", tmpdir);
	unlink(name);
	assert_int_equal(cer_rekey_certs_in_dir("tests/vectors/no-such-dir", paths, &n), CER_EIO);

	/* The output alone: the input refused even with force; a new name is fine. */
	params(&p, 3, 2);
	assert_int_equal(cer_rekey_check_out(&p), CER_OK);
	p.out_path = SD "q2_n3.json";
	p.force = true;
	assert_int_equal(cer_rekey_check_out(&p), CER_EUSAGE);
	p.out_path = SD "q3_n4_big.json";
	p.force = false;
	assert_int_equal(cer_rekey_check_out(&p), CER_EIO);

	/* The new shares, and the current custodians' quorum in plain words. */
	params(&p, 4, 3);
	assert_int_equal(cer_sd_load(SD "q2_n3.json", &sd), CER_OK);
	assert_int_equal(cer_rekey_new(&p, &k), CER_OK);
	assert_int_equal(cer_rekey_count(k), 4);
	assert_int_equal(cer_rekey_quorum(k), 3);
	cer_rekey_share(k, sd, 0, &sh);
	assert_int_equal(sh.x, 1);
	assert_string_equal(sh.cert_path, CERT(7));
	assert_false(sh.in_old_file);
	cer_rekey_share(k, sd, 2, &sh);
	assert_int_equal(sh.x, 3);
	assert_true(sh.in_old_file);
	assert_true(sh.rsa_bits >= 2048);
	assert_int_equal(strlen(sh.x5t_256), 43);
	r = session(sd, KEY(0), NULL);
	assert_int_equal(cer_rekey_check_session(r, sd), CER_EQUORUM);
	assert_non_null(strstr(cer_errmsg(), "too few current custodians: 1 good share in"));
	cer_recovery_free(r);
	r = session(sd, KEY(0), KEY(1));
	assert_int_equal(cer_rekey_check_session(r, sd), CER_OK);
	cer_recovery_free(r);
	cer_rekey_free(k);
	cer_sd_free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rekey_and_reopen, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_too_few_writes_nothing, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_front_end_helpers, setup, teardown),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
