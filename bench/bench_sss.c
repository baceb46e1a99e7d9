/*
 * Shamir combine: sss_combine against a per-byte Lagrange combine like the
 * service clients' (tests/test_sss_ref.h), for k in {2, 3, 5, 10} and
 * secrets of 32 B and 1 MiB.  Time is this thread's CPU time (so that other
 * processes on a busy machine count less), latency the best of many short
 * batches; throughput counts secret bytes (1 MB = 10^6 B).  A second table
 * forces each combine kernel in turn (sss.c is compiled in for that, with the
 * same flags as the library).
 */
#define SSS_TEST_IMPL 1
#include "sss/sss.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/test_sss_ref.h"

typedef int combine_call(uint8_t *, size_t, const uint8_t *const[], unsigned);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seconds per call: best batch of `batches`, each at least `min_s` long. */
static double time_call(combine_call *fn, uint8_t *out, size_t len, const uint8_t *const shares[],
                        unsigned k, double min_s, int batches)
{
	double best = 1e30, dt;
	long reps = 1;
	int b;

	for (;;) {
		double t0 = now();
		long r;

		for (r = 0; r < reps; r++)
			if (fn(out, len, shares, k) != 0)
				abort();
		dt = now() - t0;
		if (dt >= min_s / 8 || reps > (1L << 30))
			break;
		reps *= 2;
	}
	reps = (long)((double)reps * min_s / dt);
	if (reps < 1)
		reps = 1;
	for (b = 0; b < batches; b++) {
		double t0 = now();
		long r;

		for (r = 0; r < reps; r++)
			if (fn(out, len, shares, k) != 0)
				abort();
		dt = (now() - t0) / (double)reps;
		if (dt < best)
			best = dt;
	}
	return best;
}

static void fmt_time(char *buf, size_t cap, double s)
{
	if (s < 1e-6)
		snprintf(buf, cap, "%.1f ns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, cap, "%.2f us", s * 1e6);
	else
		snprintf(buf, cap, "%.2f ms", s * 1e3);
}

struct kernel {
	const char *name;
	combine_fn *fn;
	int usable;
};

static unsigned find_kernels(struct kernel ks[3])
{
	unsigned n = 0;

	ks[n++] = (struct kernel){"generic", combine_generic, 1};
#ifdef SSS_X86_DISPATCH
	__builtin_cpu_init();
	ks[n++] = (struct kernel){"avx2", combine_avx2, __builtin_cpu_supports("avx2")};
	ks[n++] = (struct kernel){"avx512", combine_avx512, __builtin_cpu_supports("avx512bw")};
#endif
	return n;
}

static const char *kernel_name(void)
{
	combine_fn *fn = combine_pick();
	struct kernel ks[3];
	unsigned i, n = find_kernels(ks);

	for (i = 0; i < n; i++)
		if (ks[i].fn == fn)
			return ks[i].name;
	return "?";
}

/* sss_combine through each kernel, k = 5 and k = 10. */
static int kernel_table(void)
{
	static const size_t lens[] = {32, (size_t)1 << 20};
	struct kernel ks[3];
	unsigned nk = find_kernels(ks), ki, li, i, k;
	uint8_t *secret, *out, *sh[10];
	const uint8_t *pick[10];

	printf("\nsss_combine by kernel\n%8s %3s %8s | %12s %11s\n", "kernel", "k", "secret",
	       "latency", "MB/s");
	for (li = 0; li < 2; li++) {
		size_t len = lens[li];

		secret = malloc(len);
		out = malloc(len);
		if (!secret || !out)
			return 1;
		for (i = 0; i < 10; i++)
			if (!(sh[i] = malloc(2 * len)))
				return 1;
		for (k = 5; k <= 10; k += 5) {
			randombytes_buf(secret, len);
			if (sss_split(sh, 10, k, secret, len) != 0)
				return 1;
			for (i = 0; i < k; i++)
				pick[i] = sh[i];
			for (ki = 0; ki < nk; ki++) {
				double t;
				char a[32];

				if (!ks[ki].usable)
					continue;
				sss_test_impl = ks[ki].fn;
				t = time_call(sss_combine, out, len, pick, k, 0.003, 40);
				sss_test_impl = NULL;
				if (memcmp(out, secret, len) != 0)
					return 1;
				fmt_time(a, sizeof(a), t);
				printf("%8s %3u %8s | %12s %11.1f\n", ks[ki].name, k,
				       len == 32 ? "32 B" : "1 MiB", a, (double)len / t / 1e6);
				fflush(stdout);
			}
		}
		for (i = 0; i < 10; i++)
			free(sh[i]);
		free(secret);
		free(out);
	}
	return 0;
}

int main(void)
{
	static const unsigned ks[] = {2, 3, 5, 10};
	static const size_t lens[] = {32, (size_t)1 << 20};
	uint8_t *secret, *out, *sh[10];
	const uint8_t *pick[10];
	unsigned ki, li, i;

	if (sodium_init() < 0)
		return 1;
	printf("Shamir combine (kernel: %s)\n", kernel_name());
	printf("%3s %8s | %12s %11s | %12s %11s | %8s\n", "k", "secret", "sss latency", "sss MB/s",
	       "per-byte lat", "per-byte MB/s", "speedup");
	for (li = 0; li < 2; li++) {
		size_t len = lens[li];

		secret = malloc(len);
		out = malloc(len);
		if (!secret || !out)
			return 1;
		for (i = 0; i < 10; i++)
			if (!(sh[i] = malloc(2 * len)))
				return 1;
		for (ki = 0; ki < 4; ki++) {
			unsigned k = ks[ki];
			double t_sss, t_ref;
			char a[32], b[32];

			randombytes_buf(secret, len);
			if (sss_split(sh, 10, k, secret, len) != 0)
				return 1;
			for (i = 0; i < k; i++)
				pick[i] = sh[9 - i];
			t_sss = time_call(sss_combine, out, len, pick, k, 0.003, 60);
			if (memcmp(out, secret, len) != 0)
				return 1;
			t_ref = time_call(ref_combine, out, len, pick, k, 0.003,
			                  len > 1000 ? 3 : 30);
			if (memcmp(out, secret, len) != 0)
				return 1;
			fmt_time(a, sizeof(a), t_sss);
			fmt_time(b, sizeof(b), t_ref);
			printf("%3u %8s | %12s %11.1f | %12s %13.2f | %7.0fx\n", k,
			       len == 32 ? "32 B" : "1 MiB", a, (double)len / t_sss / 1e6, b,
			       (double)len / t_ref / 1e6, t_ref / t_sss);
			fflush(stdout);
		}
		for (i = 0; i < 10; i++)
			free(sh[i]);
		free(secret);
		free(out);
	}
	return kernel_table();
}
