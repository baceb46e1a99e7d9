/*
 * sss/: known answers, every subset of small share sets, random subsets up
 * to 126 shares, round trips over many lengths, every error code, and
 * agreement both ways with a per-byte model of the service clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sss/sss.h"
#include "tests/test_sss_ref.h"

#define VECTORS "tests/vectors/sss_vectors.txt"
#define MAXN 126

struct shareset {
	uint8_t *s[MAXN];
	unsigned n;
	size_t len;
};

static void set_alloc(struct shareset *set, unsigned n, size_t len)
{
	unsigned i;

	set->n = n;
	set->len = len;
	for (i = 0; i < n; i++) {
		set->s[i] = malloc(2 * len + 1);
		assert_non_null(set->s[i]);
	}
}

static void set_free(struct shareset *set)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		free(set->s[i]);
	set->n = 0;
}

static uint8_t *xrandom(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	assert_non_null(p);
	randombytes_buf(p, len);
	return p;
}

static int all_zero(const uint8_t *p, size_t len)
{
	size_t j;
	uint8_t acc = 0;

	for (j = 0; j < len; j++)
		acc |= p[j];
	return acc == 0;
}

static void set_elem(uint8_t *share, size_t j, unsigned v)
{
	share[2 * j] = (uint8_t)v;
	share[2 * j + 1] = (uint8_t)(v >> 8);
}

/* Combines shares picked by idx[0..k) and checks the result against secret. */
static int combine_pick(const struct shareset *set, const unsigned *idx, unsigned k, uint8_t *out)
{
	const uint8_t *pick[MAXN];
	unsigned i;

	for (i = 0; i < k; i++)
		pick[i] = set->s[idx[i]];
	memset(out, 0xa5, set->len);
	return sss_combine(out, set->len, pick, k);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static uint8_t *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h), j;
	uint8_t *p;

	assert_int_equal(n % 2, 0);
	p = malloc(n / 2 + 1);
	assert_non_null(p);
	for (j = 0; j < n / 2; j++) {
		int hi = hexval(h[2 * j]), lo = hexval(h[2 * j + 1]);

		assert_true(hi >= 0 && lo >= 0);
		p[j] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return p;
}

static int error_code(const char *name)
{
	static const struct {
		const char *name;
		int code;
	} codes[] = {
	        {"X_RANGE", SSS_EX_RANGE},           {"X_REPEAT", SSS_EX_REPEAT},
	        {"X_MIXED", SSS_EX_MIXED},           {"Y_RANGE", SSS_EY_RANGE},
	        {"INCONSISTENT", SSS_EINCONSISTENT},
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(codes[i].name, name))
			return codes[i].code;
	fail_msg("unknown error name %s", name);
	return 0;
}

static void check_combine_line(char **tok, int ntok, unsigned *nok, unsigned *nerr)
{
	const uint8_t *sh[MAXN], *rev[MAXN];
	uint8_t *owned[MAXN], *want = NULL, *out;
	size_t len = 0, slen;
	int k = ntok - 3, i, ret, expect = 0;

	assert_true(k >= 2 && k <= MAXN);
	for (i = 0; i < k; i++) {
		owned[i] = unhex(tok[3 + i], &slen);
		assert_true(i == 0 || slen == 2 * len);
		len = slen / 2;
		sh[i] = owned[i];
		rev[k - 1 - i] = owned[i];
	}
	if (!strcmp(tok[1], "ok")) {
		size_t wl;

		want = unhex(tok[2], &wl);
		assert_int_equal(wl, len);
	} else {
		expect = error_code(tok[1]);
	}
	out = malloc(len);
	assert_non_null(out);
	for (int pass = 0; pass < 2; pass++) {
		memset(out, 0xa5, len);
		ret = sss_combine(out, len, pass ? rev : sh, (unsigned)k);
		assert_int_equal(ret, expect);
		if (want)
			assert_memory_equal(out, want, len);
		else
			assert_true(all_zero(out, len));
	}
	if (want) {
		memset(out, 0, len);
		assert_int_equal(ref_combine(out, len, sh, (unsigned)k), 0);
		assert_memory_equal(out, want, len);
		(*nok)++;
	} else {
		(*nerr)++;
	}
	for (i = 0; i < k; i++)
		free(owned[i]);
	free(want);
	free(out);
}

static void check_split_line(char **tok, int ntok, unsigned *nsplit)
{
	struct shareset set;
	uint8_t *seed, *secret, *want;
	size_t seedlen, len, wl;
	unsigned n = (unsigned)atoi(tok[1]), k = (unsigned)atoi(tok[2]), i;

	assert_int_equal(ntok, 5 + (int)n);
	seed = unhex(tok[3], &seedlen);
	assert_int_equal(seedlen, SSS_SEEDBYTES);
	secret = unhex(tok[4], &len);
	set_alloc(&set, n, len);
	assert_int_equal(sss_split_deterministic(set.s, n, k, secret, len, seed), 0);
	for (i = 0; i < n; i++) {
		want = unhex(tok[5 + i], &wl);
		assert_int_equal(wl, 2 * len);
		assert_memory_equal(set.s[i], want, wl);
		free(want);
	}
	set_free(&set);
	free(seed);
	free(secret);
	(*nsplit)++;
}

static void test_known_answers(void **state)
{
	FILE *f = fopen(VECTORS, "r");
	char *line = NULL, *tok[MAXN + 8], *save;
	size_t cap = 0;
	unsigned nok = 0, nerr = 0, nsplit = 0;
	int ntok;

	(void)state;
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		ntok = 0;
		for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			assert_true(ntok < MAXN + 8);
			tok[ntok++] = t;
		}
		if (!strcmp(tok[0], "combine"))
			check_combine_line(tok, ntok, &nok, &nerr);
		else if (!strcmp(tok[0], "split"))
			check_split_line(tok, ntok, &nsplit);
		else
			fail_msg("bad vector line starting %s", tok[0]);
	}
	free(line);
	fclose(f);
	print_message("# %u combine, %u error, %u split vectors\n", nok, nerr, nsplit);
	assert_true(nok >= 80 && nerr >= 15 && nsplit >= 5);
}

static void test_every_subset_small_n(void **state)
{
	const size_t len = 37;
	unsigned n, k, mask, idx[8], cnt, i, checked = 0;
	uint8_t *secret, out[37];
	struct shareset set;

	(void)state;
	for (n = 2; n <= 7; n++) {
		for (k = 2; k <= n; k++) {
			secret = xrandom(len);
			set_alloc(&set, n, len);
			assert_int_equal(sss_split(set.s, n, k, secret, len), 0);
			for (mask = 1; mask < (1u << n); mask++) {
				cnt = 0;
				for (i = 0; i < n; i++)
					if (mask & (1u << i))
						idx[cnt++] = i;
				if (cnt < 2)
					continue;
				if (cnt >= k) {
					assert_int_equal(combine_pick(&set, idx, cnt, out), 0);
					assert_memory_equal(out, secret, len);
					for (i = 0; i < cnt / 2; i++) {
						unsigned t = idx[i];

						idx[i] = idx[cnt - 1 - i];
						idx[cnt - 1 - i] = t;
					}
					assert_int_equal(combine_pick(&set, idx, cnt, out), 0);
					assert_memory_equal(out, secret, len);
				} else {
					int ret = combine_pick(&set, idx, cnt, out);

					assert_true(ret == SSS_EINCONSISTENT ||
					            (ret == 0 && memcmp(out, secret, len) != 0));
				}
				checked++;
			}
			set_free(&set);
			free(secret);
		}
	}
	print_message("# %u subsets\n", checked);
}

static void shuffle(unsigned *a, unsigned n)
{
	unsigned i;

	for (i = n; i > 1; i--) {
		unsigned j = randombytes_uniform(i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static void test_random_subsets_large_n(void **state)
{
	static const unsigned ns[] = {8, 11, 33, 64, 100, 126};
	const size_t len = 45;
	unsigned idx[MAXN], ni, kk, t, i, n, k, cnt;
	uint8_t *secret, out[45];
	struct shareset set;

	(void)state;
	for (ni = 0; ni < sizeof(ns) / sizeof(ns[0]); ni++) {
		n = ns[ni];
		for (kk = 0; kk < 4; kk++) {
			k = kk == 0 ? 2 : kk == 1 ? 10 : kk == 2 ? n / 2 + 1 : n;
			if (k > n)
				k = n;
			secret = xrandom(len);
			set_alloc(&set, n, len);
			assert_int_equal(sss_split(set.s, n, k, secret, len), 0);
			for (t = 0; t < 12; t++) {
				for (i = 0; i < n; i++)
					idx[i] = i;
				shuffle(idx, n);
				cnt = k + (t % 3 == 0 ? randombytes_uniform(n - k + 1) : 0);
				assert_int_equal(combine_pick(&set, idx, cnt, out), 0);
				assert_memory_equal(out, secret, len);
			}
			if (k > 2) {
				int ret = combine_pick(&set, idx, k - 1, out);

				assert_true(ret == SSS_EINCONSISTENT ||
				            (ret == 0 && memcmp(out, secret, len) != 0));
			}
			set_free(&set);
			free(secret);
		}
	}
}

static void test_round_trip_lengths(void **state)
{
	static const size_t lens[] = {1,
	                              2,
	                              3,
	                              7,
	                              15,
	                              16,
	                              31,
	                              32,
	                              33,
	                              63,
	                              64,
	                              100,
	                              255,
	                              256,
	                              257,
	                              511,
	                              512,
	                              513,
	                              1000,
	                              4095,
	                              4097,
	                              65537,
	                              (size_t)1 << 20};
	static const unsigned nk[][2] = {{2, 2}, {5, 3}, {10, 10}};
	unsigned li, c, idx[10], i;
	struct shareset set;
	uint8_t *secret, *out;

	(void)state;
	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		for (c = 0; c < 3; c++) {
			unsigned n = nk[c][0], k = nk[c][1];
			size_t len = lens[li];

			secret = xrandom(len);
			out = malloc(len);
			assert_non_null(out);
			set_alloc(&set, n, len);
			assert_int_equal(sss_split(set.s, n, k, secret, len), 0);
			for (i = 0; i < n; i++)
				idx[i] = i;
			shuffle(idx, n);
			assert_int_equal(combine_pick(&set, idx, k, out), 0);
			assert_memory_equal(out, secret, len);
			set_free(&set);
			free(secret);
			free(out);
		}
	}
}

static void test_split_is_random(void **state)
{
	uint8_t secret[64] = {0}, a[128], b[128], c[128], d[128];
	uint8_t *s1[2] = {a, b}, *s2[2] = {c, d};

	(void)state;
	assert_int_equal(sss_split(s1, 2, 2, secret, sizeof(secret)), 0);
	assert_int_equal(sss_split(s2, 2, 2, secret, sizeof(secret)), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	assert_memory_not_equal(b, d, sizeof(b));
	for (size_t j = 0; j < 64; j++) {
		assert_int_equal(a[2 * j + 1] >> 1, 1);
		assert_int_equal(b[2 * j + 1] >> 1, 2);
	}
}

static void test_split_errors(void **state)
{
	uint8_t secret[20] = {1, 2, 3}, bufs[130][40], seed[SSS_SEEDBYTES] = {0};
	uint8_t *sh[130];
	unsigned i;

	(void)state;
	for (i = 0; i < 130; i++)
		sh[i] = bufs[i];
#define SPLIT_FAILS(code, expr)                                                                    \
	do {                                                                                       \
		memset(bufs, 0xa5, sizeof(bufs));                                                  \
		assert_int_equal((expr), (code));                                                  \
	} while (0)
	SPLIT_FAILS(SSS_EK_LOW, sss_split(sh, 3, 1, secret, 20));
	assert_true(all_zero(bufs[0], 120));
	SPLIT_FAILS(SSS_EK_LOW, sss_split(sh, 3, 0, secret, 20));
	SPLIT_FAILS(SSS_EK_HIGH, sss_split(sh, 3, 4, secret, 20));
	assert_true(all_zero(bufs[0], 120));
	assert_int_equal(bufs[3][0], 0xa5);
	SPLIT_FAILS(SSS_EN_HIGH, sss_split(sh, 127, 3, secret, 20));
	SPLIT_FAILS(SSS_EN_HIGH, sss_split(sh, 127, 200, secret, 20));
	SPLIT_FAILS(SSS_EK_LOW, sss_split(sh, 127, 1, secret, 20));
	SPLIT_FAILS(SSS_ELEN, sss_split(sh, 127, 1, secret, 0));
	SPLIT_FAILS(SSS_ENULL, sss_split(sh, 3, 1, NULL, 0));
	SPLIT_FAILS(SSS_ELEN, sss_split(sh, 3, 2, secret, 0));
	SPLIT_FAILS(SSS_ELEN, sss_split(sh, 3, 2, secret, SSS_MAX_SECRET_LEN + 1));
	SPLIT_FAILS(SSS_ENULL, sss_split(NULL, 3, 2, secret, 20));
	SPLIT_FAILS(SSS_ENULL, sss_split(sh, 3, 2, NULL, 20));
	assert_true(all_zero(bufs[0], 120));
	sh[1] = NULL;
	SPLIT_FAILS(SSS_ENULL, sss_split(sh, 3, 2, secret, 20));
	assert_true(all_zero(bufs[0], 40) && all_zero(bufs[2], 40));
	sh[1] = bufs[1];
	SPLIT_FAILS(SSS_ENULL, sss_split_deterministic(sh, 3, 2, secret, 20, NULL));
	assert_true(all_zero(bufs[0], 120));
	SPLIT_FAILS(0, sss_split(sh, 126, 126, secret, 20));
	SPLIT_FAILS(0, sss_split(sh, 2, 2, secret, 20));
	SPLIT_FAILS(0, sss_split_deterministic(sh, 3, 2, secret, 20, seed));
}

/* A valid 3-of-4 set over 600 bytes: whole vector steps, then a scalar tail. */
#define ELEN 600
static void make_valid(struct shareset *set, uint8_t secret[ELEN])
{
	randombytes_buf(secret, ELEN);
	set_alloc(set, 4, ELEN);
	assert_int_equal(sss_split(set->s, 4, 3, secret, ELEN), 0);
}

static void expect_combine(int code, struct shareset *set, unsigned k)
{
	uint8_t out[ELEN];

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(sss_combine(out, ELEN, (const uint8_t *const *)set->s, k), code);
	assert_true(all_zero(out, ELEN));
}

static void test_combine_param_errors(void **state)
{
	struct shareset set;
	uint8_t secret[ELEN], out[ELEN];
	const uint8_t *many[127];
	unsigned i;

	(void)state;
	make_valid(&set, secret);
	expect_combine(SSS_EK_LOW, &set, 1);
	expect_combine(SSS_EK_LOW, &set, 0);
	for (i = 0; i < 127; i++)
		many[i] = set.s[i % 4];
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(sss_combine(out, ELEN, many, 127), SSS_EN_HIGH);
	assert_true(all_zero(out, ELEN));
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(sss_combine(out, ELEN, NULL, 3), SSS_ENULL);
	assert_true(all_zero(out, ELEN));
	assert_int_equal(sss_combine(NULL, ELEN, many, 3), SSS_ENULL);
	many[1] = NULL;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(sss_combine(out, ELEN, many, 3), SSS_ENULL);
	assert_true(all_zero(out, ELEN));
	assert_int_equal(sss_combine(out, ELEN, many, 127), SSS_EN_HIGH);
	assert_int_equal(sss_combine(out, ELEN, many, 1), SSS_EK_LOW);
	assert_int_equal(sss_combine(out, 0, many, 1), SSS_ELEN);
	assert_int_equal(sss_combine(NULL, 0, many, 1), SSS_ENULL);
	many[1] = set.s[1];
	assert_int_equal(sss_combine(out, 0, many, 3), SSS_ELEN);
	assert_int_equal(sss_combine(out, ELEN, many, 3), 0);
	assert_memory_equal(out, secret, ELEN);
	set_free(&set);
}

static void test_combine_share_errors(void **state)
{
	static const size_t pos[] = {0, 1, 255, 256, 511, 512, 599};
	struct shareset set;
	uint8_t secret[ELEN], out[ELEN];
	unsigned e, pi, y;
	size_t j;

	(void)state;
	make_valid(&set, secret);
	e = ref_elem(set.s[1], 0);
	set_elem(set.s[1], 0, e & 0x1ff);
	expect_combine(SSS_EX_RANGE, &set, 3);
	set_elem(set.s[1], 0, (127u << 9) | (e & 0x1ff));
	expect_combine(SSS_EX_RANGE, &set, 3);
	set_elem(set.s[1], 0, e);
	memcpy(set.s[2], set.s[0], 2 * ELEN);
	expect_combine(SSS_EX_REPEAT, &set, 3);
	set_free(&set);

	for (pi = 0; pi < sizeof(pos) / sizeof(pos[0]); pi++) {
		j = pos[pi];
		make_valid(&set, secret);
		e = ref_elem(set.s[2], j);
		set_elem(set.s[2], j, e ^ (5u << 9));
		expect_combine(SSS_EX_MIXED, &set, 3);
		set_elem(set.s[2], j, (e & ~0x1ffu) | 257);
		expect_combine(SSS_EY_RANGE, &set, 3);
		set_elem(set.s[2], j, (e & ~0x1ffu) | 511);
		expect_combine(SSS_EY_RANGE, &set, 3);
		set_elem(set.s[0], ELEN - 1 - j, ref_elem(set.s[0], ELEN - 1 - j) ^ (1u << 13));
		expect_combine(SSS_EX_MIXED, &set, 3);
		set_free(&set);

		make_valid(&set, secret);
		e = ref_elem(set.s[2], j);
		for (y = 0; y < 257; y++) {
			set_elem(set.s[2], j, (e & ~0x1ffu) | y);
			if (ref_combine_byte((const uint8_t *const *)set.s, 3, j) < 0)
				break;
		}
		assert_true(y < 257);
		expect_combine(SSS_EINCONSISTENT, &set, 3);
		set_elem(set.s[2], j, e);
		memset(out, 0, sizeof(out));
		assert_int_equal(sss_combine(out, ELEN, (const uint8_t *const *)set.s, 3), 0);
		assert_memory_equal(out, secret, ELEN);
		set_free(&set);
	}
}

static void test_clients_to_sss(void **state)
{
	static const size_t lens[] = {1, 32, 33, 257, 1000};
	struct shareset set;
	unsigned n, k, li, idx[10], i;
	uint8_t *secret, *out;

	(void)state;
	for (n = 2; n <= 10; n++) {
		for (k = 2; k <= n; k++) {
			size_t len = lens[(n + k) % 5];

			secret = xrandom(len);
			out = malloc(len);
			assert_non_null(out);
			set_alloc(&set, n, len);
			ref_split(set.s, n, k, secret, len);
			for (i = 0; i < n; i++)
				idx[i] = i;
			shuffle(idx, n);
			assert_int_equal(combine_pick(&set, idx, k, out), 0);
			assert_memory_equal(out, secret, len);
			set_free(&set);
			free(out);
			free(secret);
		}
	}
	for (li = 0; li < 5; li++) {
		size_t len = lens[li];

		secret = xrandom(len);
		out = malloc(len);
		set_alloc(&set, 126, len);
		ref_split(set.s, 126, 126, secret, len);
		assert_int_equal(sss_combine(out, len, (const uint8_t *const *)set.s, 126), 0);
		assert_memory_equal(out, secret, len);
		set_free(&set);
		free(out);
		free(secret);
	}
}

static void test_sss_to_clients(void **state)
{
	static const size_t lens[] = {1, 32, 33, 257, 1000};
	struct shareset set;
	const uint8_t *pick[10];
	unsigned n, k, idx[10], i;
	uint8_t *secret, *out;

	(void)state;
	for (n = 2; n <= 10; n++) {
		for (k = 2; k <= n; k++) {
			size_t len = lens[(n * k) % 5];

			secret = xrandom(len);
			out = malloc(len);
			assert_non_null(out);
			set_alloc(&set, n, len);
			assert_int_equal(sss_split(set.s, n, k, secret, len), 0);
			for (i = 0; i < n; i++)
				idx[i] = i;
			shuffle(idx, n);
			for (i = 0; i < k; i++)
				pick[i] = set.s[idx[i]];
			assert_int_equal(ref_combine(out, len, pick, k), 0);
			assert_memory_equal(out, secret, len);
			set_free(&set);
			free(out);
			free(secret);
		}
	}
}

static void test_strerror(void **state)
{
	int a, b;

	(void)state;
	for (a = SSS_EINCONSISTENT; a <= 0; a++) {
		assert_string_not_equal(sss_strerror(a), "unknown error");
		for (b = a + 1; b <= 0; b++)
			assert_string_not_equal(sss_strerror(a), sss_strerror(b));
	}
	assert_string_equal(sss_strerror(1), "unknown error");
	assert_string_equal(sss_strerror(SSS_EINCONSISTENT - 1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_known_answers),
	        cmocka_unit_test(test_every_subset_small_n),
	        cmocka_unit_test(test_random_subsets_large_n),
	        cmocka_unit_test(test_round_trip_lengths),
	        cmocka_unit_test(test_split_is_random),
	        cmocka_unit_test(test_split_errors),
	        cmocka_unit_test(test_combine_param_errors),
	        cmocka_unit_test(test_combine_share_errors),
	        cmocka_unit_test(test_clients_to_sss),
	        cmocka_unit_test(test_sss_to_clients),
	        cmocka_unit_test(test_strerror),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
