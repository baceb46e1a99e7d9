/*
 * ceremony/keygen: parameter and passphrase rules, keys written to
 * per-custodian paths outside DIR, and all-or-nothing when something goes
 * wrong after the keys were generated (provoked from the progress callback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ceremony/keygen.h"
#include "ceremony/keys.h"

static char work[256];

/*
 * FAT-formatted media have no hard links: with no_hard_links set, link()
 * fails as it does there.  Keygen places a key with a rename that does not
 * replace (renameat2 RENAME_NOREPLACE), so that it never has two names; a
 * file system without renameat2's flags is had with no_rename_flags, which
 * refuses them under fat/ as such a kernel does, and keygen must fall back
 * to link().  (Defined here, these stand in for libc's for this program.)
 */
static bool no_hard_links, no_rename_flags;
static unsigned links_made, links_refused, renames_noreplace;

int link(const char *from, const char *to)
{
	if (no_hard_links) {
		links_refused++;
		errno = EPERM;
		return -1;
	}
	links_made++;
	return linkat(AT_FDCWD, from, AT_FDCWD, to, 0);
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
	if (flags != 0 && no_rename_flags && strstr(to, "/fat/") != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (flags & RENAME_NOREPLACE && strstr(to, "/fat/") != NULL)
		renames_noreplace++;
	return (int)syscall(SYS_renameat2, olddir, from, newdir, to, flags);
}

static void path(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", work, rel);
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	path(p, sizeof p, rel);
	return lstat(p, &st) == 0;
}

/* Counts entries whose name contains ".tmp-" in a directory of the work area. */
static int temps_in(const char *rel)
{
	char p[512];
	DIR *d;
	struct dirent *e;
	int n = 0;

	path(p, sizeof p, rel);
	d = opendir(p);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp-") != NULL)
			n++;
	closedir(d);
	return n;
}

static void touch(const char *rel)
{
	char p[512];
	int fd;

	path(p, sizeof p, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(work, sizeof work, "%s/sdc-keygen-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_counts(void **state)
{
	(void)state;
	assert_int_equal(cer_keygen_check_counts(3, 2), CER_OK);
	assert_int_equal(cer_keygen_check_counts(10, 10), CER_OK);
	assert_int_equal(cer_keygen_check_counts(2, 2), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "number of keys 2"));
	assert_int_equal(cer_keygen_check_counts(11, 3), CER_EUSAGE);
	assert_int_equal(cer_keygen_check_counts(3, 1), CER_EUSAGE);
	assert_int_equal(cer_keygen_check_counts(3, 4), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "quorum 4"));
}

static void test_passphrase_rules(void **state)
{
	const char *others[] = {"first passphrase", NULL, "third passphrase"};
	/* 11 and 12 two-byte characters: the rule counts characters, not bytes. */
	const char *e11 = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                  "\xc3\xa9\xc3\xa9";
	const char *e12 = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                  "\xc3\xa9\xc3\xa9\xc3\xa9";
	char big[CER_PASSPHRASE_MAX + 2];

	(void)state;
	assert_int_equal(cer_passphrase_check(0, "twelve chars", NULL, 0), CER_OK);
	assert_int_equal(cer_passphrase_check(0, "eleven char", NULL, 0), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodian 1: passphrase is shorter than 12"));
	assert_null(strstr(cer_errmsg(), "eleven char"));
	assert_int_equal(cer_passphrase_check(4, e11, NULL, 0), CER_EUSAGE);
	assert_int_equal(cer_passphrase_check(4, e12, NULL, 0), CER_OK);
	assert_int_equal(cer_passphrase_check(3, "third passphrase", others, 3), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodian 4: passphrase is the same"));
	assert_null(strstr(cer_errmsg(), "third passphrase"));
	assert_int_equal(cer_passphrase_check(3, "third passphrase", others, 2), CER_OK);
	assert_int_equal(cer_passphrase_check(3, "third passphrasE", others, 3), CER_OK);
	assert_int_equal(cer_passphrase_check(0, NULL, NULL, 0), CER_EUSAGE);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(cer_passphrase_check(0, big, NULL, 0), CER_EUSAGE);
}

static void test_names(void **state)
{
	char longname[CER_NAME_MAX + 2];

	(void)state;
	assert_int_equal(cer_keygen_check_name(0, NULL), CER_OK);
	assert_int_equal(cer_keygen_check_name(0, ""), CER_OK);
	assert_int_equal(cer_keygen_check_name(0, "J\xc3\xb6rg M\xc3\xbcller"), CER_OK);
	assert_int_equal(cer_keygen_check_name(1, "tab\there"), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodian 2"));
	assert_int_equal(cer_keygen_check_name(0, "bad \xff utf8"), CER_EUSAGE);
	assert_int_equal(cer_keygen_check_name(0, " padded"), CER_EUSAGE);
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(cer_keygen_check_name(0, longname), CER_EUSAGE);
}

struct pass_set {
	char *p[3];
};

static void params3(struct cer_keygen_params *p, struct pass_set *ps, char dir[static 512])
{
	static const char *const text[] = {"alpha passphrase", "bravo passphrase",
	                                   "charlie passphrase"};
	unsigned i;

	cer_keygen_params_init(p);
	p->count = 3;
	p->quorum = 2;
	p->bits = 2048;
	p->days = 30;
	path(dir, 512, "set");
	p->out_dir = dir;
	for (i = 0; i < 3; i++) {
		ps->p[i] = cer_secret_strdup(text[i]);
		assert_non_null(ps->p[i]);
		p->custodians[i].passphrase = ps->p[i];
	}
}

static void pass_free(struct pass_set *ps)
{
	unsigned i;

	for (i = 0; i < 3; i++)
		cer_secret_free(ps->p[i]);
}

struct watch {
	pthread_t main;
	bool other_thread;
	unsigned calls, last_done, last_total;
	const char *sabotage; /* relative path created when the first key is done */
	bool sabotage_dir;
};

static void watch_step(void *ctx, const char *what, unsigned done, unsigned total)
{
	struct watch *w = ctx;

	(void)what;
	if (!pthread_equal(pthread_self(), w->main))
		w->other_thread = true;
	w->calls++;
	w->last_done = done;
	w->last_total = total;
	if (done >= 1 && w->sabotage != NULL) {
		if (w->sabotage_dir) {
			char p[512];

			path(p, sizeof p, "set");
			mkdir(p, 0755);
		}
		touch(w->sabotage);
		w->sabotage = NULL;
	}
}

static void test_outside_key_paths(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	struct watch w = {.main = pthread_self()};
	struct cer_progress prog = {watch_step, NULL, &w};
	char dir[512], k0[512], k2[512], media[512];
	struct stat st;

	(void)state;
	path(media, sizeof media, "media0");
	assert_int_equal(mkdir(media, 0700), 0);
	path(media, sizeof media, "media2");
	assert_int_equal(mkdir(media, 0700), 0);
	params3(&p, &ps, dir);
	path(k0, sizeof k0, "media0/alpha.key");
	path(k2, sizeof k2, "media2/charlie.pem");
	p.custodians[0].key_path = k0;
	p.custodians[2].key_path = k2;
	p.custodians[1].name = "Bravo";
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_OK);
	assert_non_null(r);
	assert_false(w.other_thread);
	assert_true(w.calls >= 2);
	assert_int_equal(w.last_done, 3);
	assert_int_equal(w.last_total, 3);
	assert_string_equal(r->keys[0].key_path, k0);
	assert_true(exists("media0/alpha.key") && exists("media0/alpha.cer"));
	assert_true(exists("media2/charlie.pem") && exists("media2/charlie.cer"));
	assert_true(exists("set/cert_0.cer") && !exists("set/cert_0.key"));
	assert_true(exists("set/cert_1.key") && exists("set/cert_2.cer") &&
	            !exists("set/cert_2.key"));
	assert_string_equal(r->keys[1].name, "Bravo");
	assert_string_equal(r->keys[2].name, "custodian-3");
	assert_non_null(strstr(r->keys[2].key_cert_path, "media2/charlie.cer"));
	assert_int_equal(stat(k0, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(strlen(r->keys[0].thumb_hex), 64);
	assert_int_equal(strlen(r->keys[0].thumb_b64url), 43);
	assert_int_equal(temps_in("media0") + temps_in("media2") + temps_in("."), 0);
	cer_keygen_result_free(r);

	/* The same set again: its outside key files exist and are never replaced. */
	p.force = true;
	w.calls = 0;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO);
	assert_null(r);
	assert_non_null(strstr(cer_errmsg(), "alpha.key already exists"));
	assert_int_equal(w.calls, 0);
	pass_free(&ps);
}

static void test_rollback_when_a_key_path_appears(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	struct watch w = {.main = pthread_self(), .sabotage = "m2/carol.key"};
	struct cer_progress prog = {watch_step, NULL, &w};
	char dir[512], k0[512], k1[512], k2[512], m[512];

	(void)state;
	path(m, sizeof m, "m0");
	assert_int_equal(mkdir(m, 0700), 0);
	path(m, sizeof m, "m1");
	assert_int_equal(mkdir(m, 0700), 0);
	path(m, sizeof m, "m2");
	assert_int_equal(mkdir(m, 0700), 0);
	params3(&p, &ps, dir);
	path(k0, sizeof k0, "m0/alice.key");
	path(k1, sizeof k1, "m1/bob.key");
	path(k2, sizeof k2, "m2/carol.key");
	p.custodians[0].key_path = k0;
	p.custodians[1].key_path = k1;
	p.custodians[2].key_path = k2;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO);
	assert_null(r);
	assert_non_null(strstr(cer_errmsg(), "carol.key"));
	/* All or nothing: the keys already linked into place were taken back. */
	assert_false(exists("m0/alice.key") || exists("m0/alice.cer"));
	assert_false(exists("m1/bob.key") || exists("m1/bob.cer"));
	assert_false(exists("m2/carol.cer"));
	assert_true(exists("m2/carol.key")); /* the intruder, untouched */
	assert_false(exists("set"));
	assert_int_equal(temps_in("m0") + temps_in("m1") + temps_in("m2") + temps_in("."), 0);
	pass_free(&ps);
}

static void test_rollback_when_dir_fills(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	struct watch w = {.main = pthread_self(), .sabotage = "set/theirs", .sabotage_dir = true};
	struct cer_progress prog = {watch_step, NULL, &w};
	char dir[512], k0[512], m[512];

	(void)state;
	path(m, sizeof m, "usb");
	assert_int_equal(mkdir(m, 0700), 0);
	params3(&p, &ps, dir);
	path(k0, sizeof k0, "usb/alice.key");
	p.custodians[0].key_path = k0;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO);
	assert_null(r);
	assert_non_null(strstr(cer_errmsg(), "not empty"));
	assert_false(exists("usb/alice.key") || exists("usb/alice.cer"));
	assert_true(exists("set/theirs"));
	assert_false(exists("set/cert_0.cer"));
	assert_int_equal(temps_in("usb") + temps_in("."), 0);
	pass_free(&ps);
}

static void test_refused_before_generating(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	struct watch w = {.main = pthread_self()};
	struct cer_progress prog = {watch_step, NULL, &w};
	char dir[512], k[512], k2[512];

	(void)state;
	params3(&p, &ps, dir);

	path(k, sizeof k, "set/inside.key");
	p.custodians[1].key_path = k;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO); /* set/ does not exist yet */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "inside the output directory"));
	assert_int_equal(rmdir(dir), 0);
	path(k, sizeof k, "twice.key");
	path(k2, sizeof k2, "./twice.key");
	p.custodians[0].key_path = k;
	p.custodians[1].key_path = k2;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodians 1 and 2: the same key path"));
	p.custodians[1].key_path = NULL;

	touch("taken.cer");
	path(k, sizeof k, "taken.key");
	p.custodians[0].key_path = k;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO);
	assert_non_null(strstr(cer_errmsg(), "taken.cer already exists"));
	p.custodians[0].key_path = NULL;

	p.custodians[2].passphrase = p.custodians[0].passphrase;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodian 3: passphrase is the same"));
	p.custodians[2].passphrase = ps.p[2];

	p.bits = 1024;
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	p.bits = 2048;
	p.custodians[0].name = "same";
	p.custodians[1].name = "same";
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	p.custodians[1].name = NULL;
	p.custodians[0].name = "custodian-3"; /* custodian 3's default name */
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EUSAGE);
	assert_non_null(strstr(cer_errmsg(), "custodians 1 and 3 have the same name"));
	assert_int_equal(w.calls, 0);
	assert_null(r);
	assert_false(exists("set"));
	pass_free(&ps);
}

static void test_media_without_hard_links(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	struct watch w = {.main = pthread_self(), .sabotage = "fat/c.key"};
	struct cer_progress prog = {watch_step, NULL, &w};
	char dir[512], k[3][512], m[512];
	struct stat st;
	unsigned i;

	(void)state;
	path(m, sizeof m, "fat");
	assert_int_equal(mkdir(m, 0700), 0);
	params3(&p, &ps, dir);
	for (i = 0; i < 3; i++) {
		snprintf(k[i], sizeof k[i], "%s/fat/%c.key", work, 'a' + i);
		p.custodians[i].key_path = k[i];
	}
	no_hard_links = true;
	links_refused = renames_noreplace = 0;
	/* Rollback first: c.key appears while the keys are made. */
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_EIO);
	assert_true(renames_noreplace > 0);
	assert_int_equal(links_refused, 0);
	assert_false(exists("fat/a.key") || exists("fat/a.cer") || exists("fat/b.key"));
	assert_false(exists("set"));
	assert_int_equal(temps_in("fat") + temps_in("."), 0);
	assert_int_equal(unlink(k[2]), 0);
	/* Then the whole set, on the same media. */
	assert_int_equal(cer_keygen(&p, &prog, &r), CER_OK);
	no_hard_links = false;
	assert_true(exists("fat/a.key") && exists("fat/b.cer") && exists("fat/c.key"));
	assert_int_equal(stat(k[1], &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(temps_in("fat") + temps_in("."), 0);
	cer_keygen_result_free(r);
	pass_free(&ps);
}

/* Where renameat2's flags are unknown, link() places each key, one name left. */
static void test_media_without_rename_flags(void **state)
{
	struct cer_keygen_params p;
	struct cer_keygen_result *r = NULL;
	struct pass_set ps;
	char dir[512], k[3][512], m[512];
	struct stat st;
	unsigned i;

	(void)state;
	path(m, sizeof m, "fat");
	assert_int_equal(mkdir(m, 0700), 0);
	params3(&p, &ps, dir);
	for (i = 0; i < 3; i++) {
		snprintf(k[i], sizeof k[i], "%s/fat/%c.key", work, 'a' + i);
		p.custodians[i].key_path = k[i];
	}
	no_rename_flags = true;
	links_made = renames_noreplace = 0;
	assert_int_equal(cer_keygen(&p, NULL, &r), CER_OK);
	no_rename_flags = false;
	assert_int_equal(links_made, 6); /* three keys and their certificates */
	assert_int_equal(renames_noreplace, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(stat(k[i], &st), 0);
		assert_int_equal(st.st_nlink, 1);
	}
	assert_true(exists("fat/a.cer") && exists("fat/c.cer"));
	assert_int_equal(temps_in("fat") + temps_in("."), 0);
	cer_keygen_result_free(r);
	pass_free(&ps);
}

/* The name keygen gives a certificate beside a key is the one recovery (and az) look for. */
static void test_key_cert_path(void **state)
{
	static const char *const cases[][2] = {
	        {"a/b.key", "a/b.cer"},   {"b.pem", "b.cer"},     {"a.d/key", "a.d/key.cer"},
	        {"key", "key.cer"},       {".key", ".key.cer"},   {"a/.key", "a/.key.cer"},
	        {"a/.b.key", "a/.b.cer"}, {"..key", "..key.cer"}, {"a/b.tar.pem", "a/b.tar.cer"},
	        {"/k.p12", "/k.cer"},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(cer_key_cert_path(cases[i][0], out, sizeof out), CER_OK);
		assert_string_equal(out, cases[i][1]);
	}
	assert_int_equal(cer_key_cert_path("abc.key", out, 7), CER_EUSAGE);
	assert_int_equal(cer_key_cert_path("abc.key", out, 8), CER_OK);
	assert_string_equal(out, "abc.cer");
}

/* A copy of key with the RSA parameter `name` increased by 2 (d and the CRT values stay odd). */
static EVP_PKEY *rsa_with_bumped(EVP_PKEY *key, const char *name)
{
	static const char *const names[] = {
	        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
	        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
	        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn[8] = {NULL};
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *out = NULL;
	size_t i;

	assert_non_null(bld);
	assert_non_null(ctx);
	for (i = 0; i < 8; i++) {
		assert_int_equal(EVP_PKEY_get_bn_param(key, names[i], &bn[i]), 1);
		if (strcmp(names[i], name) == 0)
			assert_int_equal(BN_add_word(bn[i], 2), 1);
		assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]), 1);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_KEYPAIR, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return out;
}

/* A good key passes the pairwise check; one wrong private value makes it fail, naming the key. */
static void test_rsa_pairwise_check(void **state)
{
	static const char *const bumped[] = {
	        OSSL_PKEY_PARAM_RSA_D,
	        OSSL_PKEY_PARAM_RSA_EXPONENT1,
	        OSSL_PKEY_PARAM_RSA_EXPONENT2,
	        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	struct cer_privkey *k = NULL;
	enum cer_key_load why;
	EVP_PKEY *bad;
	size_t i;

	(void)state;
	assert_int_equal(cer_privkey_load("tests/vectors/sd/keys/cert_0.key", NULL, &k, &why),
	                 CER_OK);
	assert_int_equal(cer_rsa_pairwise_check(cer_privkey_pkey(k), "cert_0"), CER_OK);
	assert_int_equal(cer_rsa_pairwise_check(cer_privkey_pkey(k), "cert_0"), CER_OK);
	for (i = 0; i < sizeof bumped / sizeof bumped[0]; i++) {
		bad = rsa_with_bumped(cer_privkey_pkey(k), bumped[i]);
		assert_int_equal(cer_rsa_pairwise_check(bad, "tampered"), CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "tampered: the RSA key pair is inconsistent"));
		EVP_PKEY_free(bad);
	}
	bad = rsa_with_bumped(cer_privkey_pkey(k), "none");
	assert_int_equal(cer_rsa_pairwise_check(bad, "copy"), CER_OK);
	EVP_PKEY_free(bad);
	cer_privkey_free(k);
}

/*
 * cer_rsa_number: each number of the key, in the secure heap, and nothing
 * of it left there once freed (valgrind does not see the secure heap).
 */
static void test_rsa_number(void **state)
{
	static const char *const names[] = {
	        OSSL_PKEY_PARAM_RSA_N,
	        OSSL_PKEY_PARAM_RSA_D,
	        OSSL_PKEY_PARAM_RSA_FACTOR1,
	        OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	struct cer_privkey *k = NULL;
	enum cer_key_load why;
	BIGNUM *v = NULL, *n = NULL;
	size_t used, i;

	(void)state;
	assert_int_equal(cer_privkey_load("tests/vectors/sd/keys/cert_0.key", NULL, &k, &why),
	                 CER_OK);
	assert_int_equal(EVP_PKEY_get_bn_param(cer_privkey_pkey(k), OSSL_PKEY_PARAM_RSA_N, &n), 1);
	used = CRYPTO_secure_used();
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(cer_rsa_number(cer_privkey_pkey(k), names[i], &v), 0);
		assert_non_null(v);
		assert_int_equal(BN_get_flags(v, BN_FLG_SECURE), BN_FLG_SECURE);
		if (i == 0)
			assert_int_equal(BN_cmp(v, n), 0);
		else
			assert_true(BN_num_bits(v) > 1000);
		BN_clear_free(v);
		v = NULL;
	}
	assert_int_equal(CRYPTO_secure_used(), used);
	assert_int_equal(cer_rsa_number(cer_privkey_pkey(k), "no-such-number", &v), -1);
	assert_null(v);
	assert_int_equal(CRYPTO_secure_used(), used);
	BN_free(n);
	cer_privkey_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_counts),
	        cmocka_unit_test(test_passphrase_rules),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_key_cert_path),
	        cmocka_unit_test(test_rsa_pairwise_check),
	        cmocka_unit_test(test_rsa_number),
	        cmocka_unit_test_setup_teardown(test_outside_key_paths, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rollback_when_a_key_path_appears, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_rollback_when_dir_fills, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_refused_before_generating, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_media_without_hard_links, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_media_without_rename_flags, setup, teardown),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
