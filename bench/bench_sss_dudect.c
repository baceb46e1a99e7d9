/*
 * dudect-style timing test of sss_combine's AVX-512 kernel (and the others
 * the CPU has): two classes of inputs, a fixed set of shares and fresh
 * random shares of fresh random secrets (same x values, k and length), are
 * timed in random interleaved order with the cycle counter; Welch's t
 * statistic compares the two timing distributions, after cropping the
 * slowest measurements (interrupts) at several percentiles.  |t| below 4.5
 * is no evidence of a timing difference; above 10 is a clear leak.  Timing
 * based, so a benchmark (`make bench`), never a pass/fail test.
 */
#define SSS_TEST_IMPL 1
#include "sss/sss.c"

#include <stdio.h>
#include <stdlib.h>
#include <x86intrin.h>

#define LEN 64 /* elements: a share of a 64-byte secret, as a v2 share plaintext */
#define K 3
#define N 200000   /* measurements per kernel */
#define BATCH 5000 /* N is a multiple */

struct welch {
	double n[2], mean[2], m2[2];
};

static void welch_add(struct welch *w, int c, double x)
{
	double d = x - w->mean[c];

	w->n[c] += 1;
	w->mean[c] += d / w->n[c];
	w->m2[c] += d * (x - w->mean[c]);
}

/* No libm in the bench link: Newton's square root and an absolute value. */
static double root(double v)
{
	double r = v > 1 ? v : 1;
	int i;

	for (i = 0; i < 200 && v > 0; i++)
		r = 0.5 * (r + v / r);
	return v > 0 ? r : 0;
}

static double absd(double v)
{
	return v < 0 ? -v : v;
}

static double welch_t(const struct welch *w)
{
	double v0 = w->m2[0] / (w->n[0] - 1), v1 = w->m2[1] / (w->n[1] - 1);

	return (w->mean[0] - w->mean[1]) / root(v0 / w->n[0] + v1 / w->n[1]);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double run(const char *name, combine_fn *fn)
{
	static uint8_t fixed[K][2 * LEN], batch[BATCH][K][2 * LEN], *all[5];
	static uint64_t t[N], sorted[N];
	static uint8_t cls[N];
	static const double crop[] = {1.0, 0.99, 0.95, 0.90, 0.75, 0.5};
	uint8_t secret[LEN], out[LEN], *sh[5];
	const uint8_t *pick[K];
	uint16_t lag[K], xhi[K];
	uint32_t x[K];
	double worst = 0;
	size_t i, c;
	unsigned j;

	for (j = 0; j < 5; j++)
		sh[j] = all[j] = malloc(2 * LEN);
	randombytes_buf(secret, sizeof secret);
	if (sss_split(sh, 5, K, secret, LEN) != 0)
		abort();
	for (j = 0; j < K; j++)
		memcpy(fixed[j], sh[j], 2 * LEN);
	for (j = 0; j < K; j++) {
		x[j] = j + 1;
		xhi[j] = (uint16_t)(x[j] << 9);
	}
	lagrange_at_zero(lag, x, K);
	randombytes_buf(cls, sizeof cls);
	/* Inputs of both classes are written to the batch first, alike, then timed. */
	for (i = 0; i < N; i += BATCH) {
		size_t m;

		for (m = 0; m < BATCH; m++) {
			cls[i + m] &= 1;
			if (cls[i + m]) {
				randombytes_buf(secret, sizeof secret);
				if (sss_split(sh, 5, K, secret, LEN) != 0)
					abort();
			}
			for (j = 0; j < K; j++)
				memcpy(batch[m][j], cls[i + m] ? sh[j] : fixed[j], 2 * LEN);
		}
		for (m = 0; m < BATCH; m++) {
			uint64_t t0, t1;
			unsigned aux;

			for (j = 0; j < K; j++)
				pick[j] = batch[m][j];
			_mm_lfence();
			t0 = __rdtscp(&aux);
			(void)fn(out, LEN, pick, K, lag, xhi);
			t1 = __rdtscp(&aux);
			_mm_lfence();
			t[i + m] = t1 - t0;
		}
	}
	memcpy(sorted, t, sizeof t);
	qsort(sorted, N, sizeof sorted[0], cmp_u64);
	for (c = 0; c < sizeof crop / sizeof crop[0]; c++) {
		uint64_t cut = sorted[(size_t)(crop[c] * (N - 1))];
		struct welch w = {{0}};
		double tv;

		for (i = 0; i < N; i++)
			if (t[i] <= cut)
				welch_add(&w, cls[i], (double)t[i]);
		tv = welch_t(&w);
		if (absd(tv) > absd(worst))
			worst = tv;
		printf("  %-7s crop %4.0f%%: fixed %.1f cycles, random %.1f cycles, t = %+.2f\n",
		       name, crop[c] * 100, w.mean[0], w.mean[1], tv);
	}
	printf("%-7s max |t| = %.2f over %d measurements (%s)\n", name, absd(worst), N,
	       absd(worst) < 4.5  ? "no evidence of a timing difference"
	       : absd(worst) < 10 ? "inconclusive: run again on a quiet machine"
	                          : "TIMING DIFFERENCE");
	for (j = 0; j < 5; j++)
		free(all[j]);
	return absd(worst);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	printf("dudect: sss combine kernels, fixed vs random shares, k = %d, %d elements\n", K,
	       LEN);
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512bw"))
		run("avx512", combine_avx512);
	else
		printf("avx512  not supported by this CPU\n");
	if (__builtin_cpu_supports("avx2"))
		run("avx2", combine_avx2);
	run("generic", combine_generic);
	return 0;
}
