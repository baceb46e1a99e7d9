/*
 * Constant-time check of sss/, meant to run under valgrind memcheck
 * (tests/t_sss_ct.sh): every secret input is marked undefined (the secret,
 * the seed, the random coefficients, and the y bits of every share element,
 * bit by bit, x bits left defined) so that memcheck reports any branch or
 * memory index depending on them.  sss.c is compiled in with SSS_VALGRIND,
 * which declassifies only the final verdict.  Each combine kernel the CPU (as
 * valgrind presents it) supports is run.  Outside valgrind this is a plain
 * functional test.
 *
 * `test_sss_ct --canary` instead runs a deliberately leaky lookup and branch
 * on a marked byte: valgrind must report it, which shows the marking works.
 */
#define SSS_VALGRIND 1
#define SSS_TEST_IMPL 1
#include "sss/sss.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "tests/test_sss_ref.h"

static void poison(const void *p, size_t len)
{
	VALGRIND_MAKE_MEM_UNDEFINED(p, len);
}

static void unpoison(const void *p, size_t len)
{
	VALGRIND_MAKE_MEM_DEFINED(p, len);
}

/* Marks the y bits (0..8) of every element undefined, x bits defined. */
static void poison_y(uint8_t *share, size_t len)
{
	uint8_t *vbits = malloc(2 * len);
	size_t j;

	assert_non_null(vbits);
	for (j = 0; j < len; j++) {
		vbits[2 * j] = 0xff;
		vbits[2 * j + 1] = 0x01;
	}
	if (RUNNING_ON_VALGRIND)
		assert_int_equal(VALGRIND_SET_VBITS(share, vbits, 2 * len), 1);
	free(vbits);
}

struct kernel {
	const char *name;
	combine_fn *fn;
	int usable;
};

static struct kernel kernels[3];
static unsigned nkernels;

static void find_kernels(void)
{
	nkernels = 0;
	kernels[nkernels++] = (struct kernel){"generic", combine_generic, 1};
#ifdef SSS_X86_DISPATCH
	__builtin_cpu_init();
	kernels[nkernels++] = (struct kernel){"avx2", combine_avx2, __builtin_cpu_supports("avx2")};
	kernels[nkernels++] =
	        (struct kernel){"avx512", combine_avx512, __builtin_cpu_supports("avx512bw")};
#endif
}

static const size_t lens[] = {1, 32, 255, 256, 300, 600};
static const unsigned nks[][2] = {{2, 2}, {3, 5}, {5, 5}, {10, 10}, {126, 126}};

static void test_split_secret_marked(void **state)
{
	uint8_t seed[SSS_SEEDBYTES], *sh[126], *secret, *out;
	const uint8_t *pick[126];
	size_t li, len;
	unsigned c, i, n, k, det;

	(void)state;
	for (c = 0; c < sizeof(nks) / sizeof(nks[0]); c++) {
		for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			n = nks[c][1];
			k = nks[c][0];
			len = k > 10 ? 7 : lens[li];
			secret = malloc(len);
			out = malloc(len);
			assert_true(secret && out);
			for (i = 0; i < n; i++) {
				sh[i] = malloc(2 * len);
				assert_non_null(sh[i]);
			}
			for (det = 0; det < 2; det++) {
				randombytes_buf(secret, len);
				randombytes_buf(seed, sizeof(seed));
				poison(secret, len);
				poison(seed, sizeof(seed));
				assert_int_equal(
				        det ? sss_split_deterministic(sh, n, k, secret, len, seed)
				            : sss_split(sh, n, k, secret, len),
				        0);
				unpoison(secret, len);
				for (i = 0; i < n; i++) {
					unpoison(sh[i], 2 * len);
					pick[i] = sh[n - 1 - i];
				}
				assert_int_equal(ref_combine(out, len, pick, k), 0);
				assert_memory_equal(out, secret, len);
			}
			for (i = 0; i < n; i++)
				free(sh[i]);
			free(secret);
			free(out);
		}
	}
}

enum damage { INTACT, Y_HIGH, X_MIXED, INCONSISTENT };

/* Damage, if any, goes to element len / 2 of the victim-th share given. */
static void combine_case(const struct kernel *kn, unsigned n, unsigned k, size_t len,
                         enum damage dmg, unsigned victim)
{
	uint8_t *sh[126], *secret = malloc(len), *out = malloc(len), *vs;
	const uint8_t *pick[126];
	size_t pos = len / 2;
	unsigned i, y;
	int want = 0;

	assert_true(secret && out);
	if (dmg == X_MIXED && len < 2)
		dmg = INTACT;
	for (i = 0; i < n; i++) {
		sh[i] = malloc(2 * len);
		assert_non_null(sh[i]);
	}
	randombytes_buf(secret, len);
	assert_int_equal(sss_split(sh, n, k, secret, len), 0);
	for (i = 0; i < n; i++)
		unpoison(sh[i], 2 * len);
	for (i = 0; i < k; i++)
		pick[i] = sh[(i + 3) % n];
	vs = sh[(victim + 3) % n];
	if (dmg == Y_HIGH) {
		vs[2 * pos] = 0xff;
		vs[2 * pos + 1] |= 1;
		want = SSS_EY_RANGE;
	} else if (dmg == X_MIXED) {
		vs[2 * pos + 1] ^= 0x80;
		want = SSS_EX_MIXED;
	} else if (dmg == INCONSISTENT) {
		for (y = 0; y < 257; y++) {
			vs[2 * pos] = (uint8_t)y;
			vs[2 * pos + 1] = (uint8_t)((vs[2 * pos + 1] & 0xfe) | (y >> 8));
			if (ref_combine_byte(pick, k, pos) < 0)
				break;
		}
		assert_true(y < 257);
		want = SSS_EINCONSISTENT;
	}
	for (i = 0; i < n; i++)
		poison_y(sh[i], len);
	memset(out, 0xa5, len);
	sss_test_impl = kn->fn;
	assert_int_equal(sss_combine(out, len, pick, k), want);
	sss_test_impl = NULL;
	unpoison(out, len);
	if (want == 0)
		assert_memory_equal(out, secret, len);
	else
		for (size_t j = 0; j < len; j++)
			assert_int_equal(out[j], 0);
	for (i = 0; i < n; i++)
		free(sh[i]);
	free(secret);
	free(out);
}

static void test_combine_shares_marked(void **state)
{
	unsigned ki, c, li, d, v, runs = 0;

	(void)state;
	for (ki = 0; ki < nkernels; ki++) {
		if (!kernels[ki].usable)
			continue;
		for (c = 0; c < sizeof(nks) / sizeof(nks[0]); c++)
			for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
				for (d = INTACT; d <= INCONSISTENT; d++)
					for (v = 0; v < 3; v++, runs++)
						combine_case(&kernels[ki], nks[c][1], nks[c][0],
						             nks[c][0] > 10 ? 9 : lens[li],
						             (enum damage)d,
						             v == 2 ? nks[c][0] - 1 : v);
		print_message("# kernel %s: checked\n", kernels[ki].name);
	}
	assert_true(runs > 0);
}

/* Every kernel this CPU runs gives the same verdict, and the same bytes when valid. */
static void test_kernels_agree(void **state)
{
	static const size_t sizes[] = {1, 17, 256, 257, 1000, 70001};
	uint8_t *sh[5], *out[3], *secret;
	const uint8_t *pick[5];
	size_t si, len, j;
	unsigned ki, t, i;
	uint32_t bad[3];
	uint16_t lag[5], xhi[5];
	uint32_t x[5];

	(void)state;
	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		len = sizes[si];
		secret = malloc(len);
		assert_non_null(secret);
		for (i = 0; i < 5; i++) {
			sh[i] = malloc(2 * len);
			assert_non_null(sh[i]);
		}
		for (i = 0; i < 3; i++) {
			out[i] = malloc(len);
			assert_non_null(out[i]);
		}
		for (t = 0; t < 12; t++) {
			unsigned k = 2 + t % 4;

			randombytes_buf(secret, len);
			assert_int_equal(sss_split(sh, 5, k, secret, len), 0);
			for (i = 0; i < 5; i++)
				unpoison(sh[i], 2 * len);
			if (t >= 4) {
				j = randombytes_uniform((uint32_t)len);
				sh[t % 5][2 * j + (t & 1)] ^=
				        (uint8_t)(1u << randombytes_uniform(8));
			}
			for (i = 0; i < k; i++) {
				pick[i] = sh[(i + t) % 5];
				x[i] = pick[i][1] >> 1;
				xhi[i] = (uint16_t)(x[i] << 9);
			}
			lagrange_at_zero(lag, x, k);
			for (ki = 0; ki < nkernels; ki++) {
				if (!kernels[ki].usable)
					continue;
				bad[ki] = kernels[ki].fn(out[ki], len, pick, k, lag, xhi);
				unpoison(&bad[ki], sizeof(bad[ki]));
				unpoison(out[ki], len);
				assert_int_equal(bad[ki] != 0, bad[0] != 0);
				if (bad[0] == 0)
					assert_memory_equal(out[ki], out[0], len);
			}
			if (t < 4) {
				assert_int_equal(bad[0], 0);
				assert_memory_equal(out[0], secret, len);
			}
		}
		for (i = 0; i < 5; i++)
			free(sh[i]);
		for (i = 0; i < 3; i++)
			free(out[i]);
		free(secret);
	}
}

static int canary(void)
{
	static volatile uint8_t table[256];
	volatile uint8_t secret = 0x42;
	uint8_t s;
	int r = 0;

	poison((const void *)&secret, 1);
	s = secret;
	r += table[s];
	if (s > 100)
		r++;
	printf("canary ran (%d)\n", r);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_split_secret_marked),
	        cmocka_unit_test(test_combine_shares_marked),
	        cmocka_unit_test(test_kernels_agree),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc > 1 && !strcmp(argv[1], "--canary"))
		return canary();
	find_kernels();
	for (unsigned i = 0; i < nkernels; i++)
		printf("# kernel %s: %s\n", kernels[i].name,
		       kernels[i].usable ? "usable" : "not supported here");
	if (RUNNING_ON_VALGRIND)
		printf("# secrets marked undefined under valgrind\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
