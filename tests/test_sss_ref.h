#ifndef TEST_SSS_REF_H
#define TEST_SSS_REF_H

/*
 * A plain model of the service clients' Shamir code, for tests and the
 * benchmark: one byte at a time, Lagrange weights and their inverses worked
 * out again for every byte, % for every reduction, shares decoded element by
 * element.  Neither fast nor constant-time; it only has to be obviously
 * right.  Header-only so that test and benchmark programs each get a copy.
 */

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

static inline unsigned ref_pow257(unsigned a, unsigned e)
{
	unsigned r = 1;

	a %= 257;
	while (e) {
		if (e & 1)
			r = r * a % 257;
		a = a * a % 257;
		e >>= 1;
	}
	return r;
}

static inline unsigned ref_elem(const uint8_t *share, size_t j)
{
	return share[2 * j] | (unsigned)share[2 * j + 1] << 8;
}

/* Rebuilds byte j; returns 0..255, or -1 for a value of 256. */
static inline int ref_combine_byte(const uint8_t *const shares[], unsigned k, size_t j)
{
	unsigned sum = 0, i, m;

	for (i = 0; i < k; i++) {
		unsigned xi = ref_elem(shares[i], j) >> 9, yi = ref_elem(shares[i], j) & 0x1ff;
		unsigned num = 1, den = 1;

		for (m = 0; m < k; m++) {
			unsigned xm = ref_elem(shares[m], j) >> 9;

			if (m == i)
				continue;
			num = num * xm % 257;
			den = den * ((xm + 257 - xi) % 257) % 257;
		}
		sum = (sum + yi % 257 * (num * ref_pow257(den, 255) % 257)) % 257;
	}
	return sum == 256 ? -1 : (int)sum;
}

/* 0 on success, -1 when some byte rebuilds to 256 (secret left partial). */
static inline int ref_combine(uint8_t *secret, size_t len, const uint8_t *const shares[],
                              unsigned k)
{
	size_t j;

	for (j = 0; j < len; j++) {
		int v = ref_combine_byte(shares, k, j);

		if (v < 0)
			return -1;
		secret[j] = (uint8_t)v;
	}
	return 0;
}

/* Shares with x = 1..n of a secret, coefficients from randombytes_uniform. */
static inline void ref_split(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                             size_t len)
{
	unsigned coef[128], i, d;
	size_t j;

	for (j = 0; j < len; j++) {
		coef[0] = secret[j];
		for (d = 1; d < k; d++)
			coef[d] = randombytes_uniform(257);
		for (i = 0; i < n; i++) {
			unsigned x = i + 1, y = 0;

			for (d = k; d-- > 0;)
				y = (y * x + coef[d]) % 257;
			shares[i][2 * j] = (uint8_t)((x << 9) | y);
			shares[i][2 * j + 1] = (uint8_t)(((x << 9) | y) >> 8);
		}
	}
	sodium_memzero(coef, sizeof(coef));
}

#endif
