#ifndef SSS_H
#define SSS_H

/*
 * Shamir secret sharing over GF(257) in the Managed HSM share encoding.
 *
 * This is the raw level: it splits and rebuilds bytes and rejects malformed
 * shares, but cannot tell a right secret from a wrong one (too few shares, or
 * shares of another secret, rebuild *some* value).  Callers authenticate what
 * they rebuild.
 *
 * Encoding.  A secret of secret_len bytes gives shares of 2 * secret_len
 * bytes each.  Element j of a share is the little-endian uint16
 * (x << 9) | y, where x in 1..126 identifies the share (the same in every
 * element) and y = f_j(x) in 0..256, f_j being a random polynomial of degree
 * k - 1 over the integers mod 257 with f_j(0) = secret byte j.
 *
 * Secret and public data.  The secret, the share y values and the polynomial
 * coefficients are secret: no branch and no memory index depends on them.
 * The x values and the sizes are public.  Only the final verdict (shares
 * valid or not) is revealed; the reason given for a rejection may show which
 * check failed.
 *
 * Errors.  Both functions return 0 on success or one of the negative SSS_E*
 * codes below.  On error the output is zeroed (all of it, as described by the
 * arguments): no partial result.  Checks run in the order each function
 * lists them; the first that fails gives the code.
 *
 * The functions keep no state and are safe to call from several threads.
 * Temporaries holding secret data are wiped before return.  sss_combine uses
 * AVX2 or AVX-512BW when the CPU has them (chosen at run time) and a portable
 * kernel otherwise; the results are the same.
 */

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SSS_WUR __attribute__((warn_unused_result))
#else
#define SSS_WUR
#endif

/* Most shares one secret can have: x runs over 1..126. */
#define SSS_MAX_SHARES 126u
/* Largest secret_len accepted (shares are twice as long). */
#define SSS_MAX_SECRET_LEN ((size_t)1 << 30)
/* Seed size of sss_split_deterministic. */
#define SSS_SEEDBYTES 32u

enum sss_error {
	SSS_ENULL = -1,         /* a NULL buffer where one is needed */
	SSS_ELEN = -2,          /* secret_len is 0 (a share with no elements has no
	                           x to check) or above SSS_MAX_SECRET_LEN */
	SSS_EK_LOW = -3,        /* k < 2 */
	SSS_EN_HIGH = -4,       /* split: n > 126; combine: k > 126 */
	SSS_EK_HIGH = -5,       /* split: k > n */
	SSS_EX_RANGE = -6,      /* combine: a share's x is 0 or above 126 */
	SSS_EX_REPEAT = -7,     /* combine: two shares carry the same x */
	SSS_EX_MIXED = -8,      /* combine: x differs between elements of one share */
	SSS_EY_RANGE = -9,      /* combine: a y value above 256 */
	SSS_EINCONSISTENT = -10 /* combine: a rebuilt value is 256, so the shares
	                           do not lie on one polynomial of degree < k */
};

/*
 * Splits secret[0..secret_len) into n shares, any k of which rebuild it.
 * shares[i] must point to 2 * secret_len writable bytes and receives the
 * share with x = i + 1.  Coefficients come from libsodium's randombytes_buf
 * and are uniform mod 257 (each from 64 random bits; bias below 2^-55).
 * Secret: secret, and what is written to shares.  Public: n, k, secret_len.
 * Checks: SSS_ENULL (shares or secret), SSS_ELEN, SSS_EK_LOW, SSS_EN_HIGH
 * (n > 126), SSS_EK_HIGH (k > n), SSS_ENULL (a shares[i]).  On error every
 * non-NULL shares[i], i < n, is zeroed (unless shares is NULL, n > 126 or
 * secret_len too large: then nothing is written).  secret may not overlap
 * the shares.
 */
int sss_split(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
              size_t secret_len) SSS_WUR;

/*
 * Rebuilds secret[0..secret_len) from k shares, each 2 * secret_len bytes,
 * given in any order.  Secret: the y values of the shares and what is written
 * to secret.  Public: k, secret_len, and the x values.
 * Checks: SSS_ENULL (secret or shares), SSS_ELEN, SSS_EK_LOW, SSS_EN_HIGH
 * (k > 126), SSS_ENULL (a shares[i]); then, with x taken from element 0 of
 * each share, SSS_EX_RANGE and SSS_EX_REPEAT; then, over every element, in
 * this order of precedence: SSS_EX_MIXED, SSS_EY_RANGE, SSS_EINCONSISTENT.
 * On error secret[0..secret_len) is zeroed (when secret is not NULL).
 * The number k is not checked against the quorum the shares were made for:
 * fewer shares than that rebuild a wrong secret, most often without error.
 * secret may not overlap the shares.
 */
int sss_combine(uint8_t *secret, size_t secret_len, const uint8_t *const shares[],
                unsigned k) SSS_WUR;

/*
 * FOR TESTS ONLY: sss_split with the coefficients drawn from a stream fixed
 * by seed, so that its output can be compared with known answers.  The same
 * seed gives the same shares, which destroys the secrecy of any secret split
 * twice: never use it for a real secret.  The random stream is exactly
 * randombytes_buf_deterministic(buf, size, seed): the coefficient of degree d
 * (1..k-1) of secret byte j is the little-endian uint64 at byte offset
 * 8 * ((k - 1) * j + d - 1) of that stream, reduced mod 257.  sss_split lays
 * out its randombytes_buf output the same way.  Besides sss_split's errors:
 * SSS_ENULL when seed is NULL, SSS_ELEN when the stream would exceed 2^38
 * bytes (8 * (k - 1) * secret_len).
 */
int sss_split_deterministic(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                            size_t secret_len, const uint8_t seed[SSS_SEEDBYTES]) SSS_WUR;

/* A short English description of an SSS_E* code ("unknown error" otherwise). */
const char *sss_strerror(int code);

#endif
