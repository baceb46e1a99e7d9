#include "sss.h"

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#ifdef SSS_VALGRIND
#include <valgrind/memcheck.h>
#define sss_declassify(p, len) VALGRIND_MAKE_MEM_DEFINED((p), (len))
#define sss_classify(p, len) VALGRIND_MAKE_MEM_UNDEFINED((p), (len))
#else
#define sss_declassify(p, len) ((void)0)
#define sss_classify(p, len) ((void)0)
#endif

#if defined(__GNUC__)
#define SSS_INLINE static inline __attribute__((always_inline))
#else
#define SSS_INLINE static inline
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define SSS_X86_DISPATCH 1
#endif

/* Elements rebuilt per pass over the k shares; acc[] stays in L1. */
#define COMBINE_BLK 256u
/* Split: random words per refill, and most bytes per block. */
#define SPLIT_WORDS 2048u
#define SPLIT_BLK_MAX 256u
/* randombytes_buf_deterministic covers at most 2^38 bytes (32-bit block counter). */
#define DET_STREAM_MAX ((uint64_t)1 << 38)

/* Branch-free full reduction mod 257 of any uint32 (2^16 = 1, 2^8 = -1 mod 257). */
SSS_INLINE uint32_t red257(uint32_t v)
{
	uint32_t t;

	v = (v & 0xffff) + (v >> 16);
	v = (v & 0xffff) + (v >> 16);
	t = (v & 0xff) + 257 - (v >> 8);
	return t - (257 & (0u - ((256 - t) >> 31)));
}

SSS_INLINE uint32_t red257_u64(uint64_t r)
{
	return red257((uint32_t)(r & 0xffff) + (uint32_t)((r >> 16) & 0xffff) +
	              (uint32_t)((r >> 32) & 0xffff) + (uint32_t)(r >> 48));
}

static uint32_t mul257(uint32_t a, uint32_t b)
{
	return red257(a * b);
}

/* a^255 = a^-1 mod 257 (and 0 for 0), by a fixed chain: a^(2^8 - 1). */
static uint32_t inv257(uint32_t a)
{
	uint32_t r = a;
	int i;

	for (i = 0; i < 7; i++)
		r = mul257(mul257(r, r), a);
	return r;
}

static uint16_t load16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static void store16le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint64_t load64le(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

const char *sss_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case SSS_ENULL:
		return "missing buffer";
	case SSS_ELEN:
		return "secret length is 0 or too large";
	case SSS_EK_LOW:
		return "fewer than 2 shares required";
	case SSS_EN_HIGH:
		return "more than 126 shares";
	case SSS_EK_HIGH:
		return "more shares required than made";
	case SSS_EX_RANGE:
		return "share number (x) outside 1..126";
	case SSS_EX_REPEAT:
		return "the same share given twice";
	case SSS_EX_MIXED:
		return "share number (x) changes inside one share";
	case SSS_EY_RANGE:
		return "share value (y) above 256";
	case SSS_EINCONSISTENT:
		return "shares are inconsistent";
	default:
		return "unknown error";
	}
}

struct split_rng {
	const uint8_t *seed;
	uint32_t block;
};

static void split_random(struct split_rng *g, uint8_t *buf, size_t len)
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {
		'L', 'i', 'b', 's', 'o', 'd', 'i', 'u', 'm', 'D', 'R', 'G'
	};

	if (!g->seed) {
		randombytes_buf(buf, len);
	} else {
		memset(buf, 0, len);
		crypto_stream_chacha20_ietf_xor_ic(buf, buf, len, nonce, g->block, g->seed);
		g->block += (uint32_t)(len / 64);
	}
	sss_classify(buf, len);
}

static void split_zero(uint8_t *const shares[], unsigned n, size_t secret_len)
{
	unsigned i;

	if (!shares || n > SSS_MAX_SHARES || secret_len > SSS_MAX_SECRET_LEN)
		return;
	for (i = 0; i < n; i++)
		if (shares[i])
			sodium_memzero(shares[i], 2 * secret_len);
}

static int split_check(uint8_t *const shares[], unsigned n, unsigned k,
                       const uint8_t *secret, size_t secret_len)
{
	unsigned i;

	if (!shares || !secret)
		return SSS_ENULL;
	if (secret_len == 0 || secret_len > SSS_MAX_SECRET_LEN)
		return SSS_ELEN;
	if (k < 2)
		return SSS_EK_LOW;
	if (n > SSS_MAX_SHARES)
		return SSS_EN_HIGH;
	if (k > n)
		return SSS_EK_HIGH;
	for (i = 0; i < n; i++)
		if (!shares[i])
			return SSS_ENULL;
	return 0;
}

static void split_block(uint8_t *const shares[], unsigned n, unsigned k,
                        const uint8_t *secret, size_t off, size_t cnt,
                        const uint16_t *coef)
{
	unsigned i, d;
	size_t j;

	for (i = 0; i < n; i++) {
		uint32_t x = i + 1;

		for (j = 0; j < cnt; j++) {
			const uint16_t *c = coef + j * (k - 1);
			uint32_t v = c[k - 2];

			for (d = k - 2; d >= 1; d--)
				v = red257(v * x + c[d - 1]);
			v = red257(v * x + secret[off + j]);
			store16le(shares[i] + 2 * (off + j), (x << 9) | v);
		}
	}
}

static int split_impl(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                      size_t secret_len, const uint8_t *seed)
{
	uint8_t rnd[SPLIT_WORDS * 8];
	uint16_t coef[SPLIT_WORDS];
	struct split_rng g = { seed, 0 };
	size_t blk, off, w, nw, cnt;
	int ret;

	ret = split_check(shares, n, k, secret, secret_len);
	if (ret)
		goto out;
	if (seed && (uint64_t)secret_len > DET_STREAM_MAX / (8 * (uint64_t)(k - 1))) {
		ret = SSS_ELEN;
		goto out;
	}
	blk = SPLIT_WORDS / (k - 1);
	if (blk > SPLIT_BLK_MAX)
		blk = SPLIT_BLK_MAX;
	blk &= ~(size_t)7;
	for (off = 0; off < secret_len; off += cnt) {
		cnt = secret_len - off < blk ? secret_len - off : blk;
		nw = (size_t)(k - 1) * cnt;
		split_random(&g, rnd, nw * 8);
		for (w = 0; w < nw; w++)
			coef[w] = (uint16_t)red257_u64(load64le(rnd + 8 * w));
		split_block(shares, n, k, secret, off, cnt, coef);
	}
	ret = 0;
out:
	sodium_memzero(rnd, sizeof(rnd));
	sodium_memzero(coef, sizeof(coef));
	if (ret)
		split_zero(shares, n, secret_len);
	return ret;
}

int sss_split(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
              size_t secret_len)
{
	return split_impl(shares, n, k, secret, secret_len, NULL);
}

int sss_split_deterministic(uint8_t *const shares[], unsigned n, unsigned k,
                            const uint8_t *secret, size_t secret_len,
                            const uint8_t seed[SSS_SEEDBYTES])
{
	if (!seed) {
		split_zero(shares, n, secret_len);
		return SSS_ENULL;
	}
	return split_impl(shares, n, k, secret, secret_len, seed);
}

/*
 * The combine kernel.  Each element of a share is first xored with the
 * share's (x << 9): what remains, t, is y when x is right.  A share is bad
 * when some t has a bit at 9 or above (x changes, or the encoding overflows)
 * or when t > 256 (bit 9 of t + 255, as t <= 511 then); both show in
 * t | (t + 255) above bit 8, accumulated per lane and read once at the end.
 */
SSS_INLINE void combine_load(uint16_t w[COMBINE_BLK], const uint8_t *src, size_t cnt,
                             uint16_t pad)
{
	size_t j;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(w, src, 2 * cnt);
#else
	for (j = 0; j < cnt; j++)
		w[j] = load16le(src + 2 * j);
#endif
	for (j = cnt; j < COMBINE_BLK; j++)
		w[j] = pad;
}

SSS_INLINE uint32_t combine_body(uint8_t *secret, size_t secret_len,
                                 const uint8_t *const shares[], unsigned k,
                                 const uint16_t lag[], const uint16_t xhi[])
{
	uint32_t acc[COMBINE_BLK];
	uint16_t w[COMBINE_BLK], bad_in[COMBINE_BLK], bad_out[COMBINE_BLK];
	uint8_t tail[COMBINE_BLK];
	uint32_t bad = 0;
	size_t off, cnt, j;
	unsigned i;

	memset(bad_in, 0, sizeof(bad_in));
	memset(bad_out, 0, sizeof(bad_out));
	for (off = 0; off < secret_len; off += cnt) {
		uint8_t *dst;

		cnt = secret_len - off < COMBINE_BLK ? secret_len - off : COMBINE_BLK;
		memset(acc, 0, sizeof(acc));
		for (i = 0; i < k; i++) {
			uint32_t l = lag[i];
			uint16_t x = xhi[i];

			combine_load(w, shares[i] + 2 * off, cnt, x);
			for (j = 0; j < COMBINE_BLK; j++) {
				uint16_t t = w[j] ^ x;

				bad_in[j] |= t | (uint16_t)(t + 255);
				acc[j] += (uint32_t)t * l;
			}
		}
		dst = cnt == COMBINE_BLK ? secret + off : tail;
		for (j = 0; j < COMBINE_BLK; j++) {
			uint32_t r = red257(acc[j]);

			bad_out[j] |= (uint16_t)r;
			dst[j] = (uint8_t)r;
		}
		if (cnt < COMBINE_BLK)
			memcpy(secret + off, tail, cnt);
	}
	for (j = 0; j < COMBINE_BLK; j++)
		bad |= (bad_in[j] & 0xfe00u) | (bad_out[j] & 0x100u);
	sodium_memzero(acc, sizeof(acc));
	sodium_memzero(w, sizeof(w));
	sodium_memzero(tail, sizeof(tail));
	sodium_memzero(bad_in, sizeof(bad_in));
	sodium_memzero(bad_out, sizeof(bad_out));
	return bad;
}

typedef uint32_t combine_fn(uint8_t *, size_t, const uint8_t *const[], unsigned,
                            const uint16_t[], const uint16_t[]);

static uint32_t combine_generic(uint8_t *secret, size_t secret_len,
                                const uint8_t *const shares[], unsigned k,
                                const uint16_t lag[], const uint16_t xhi[])
{
	return combine_body(secret, secret_len, shares, k, lag, xhi);
}

#ifdef SSS_X86_DISPATCH
__attribute__((target("avx2"))) static uint32_t
combine_avx2(uint8_t *secret, size_t secret_len, const uint8_t *const shares[], unsigned k,
             const uint16_t lag[], const uint16_t xhi[])
{
	return combine_body(secret, secret_len, shares, k, lag, xhi);
}

__attribute__((target("avx512f,avx512bw,avx512vl,prefer-vector-width=512"))) static uint32_t
combine_avx512(uint8_t *secret, size_t secret_len, const uint8_t *const shares[], unsigned k,
               const uint16_t lag[], const uint16_t xhi[])
{
	return combine_body(secret, secret_len, shares, k, lag, xhi);
}
#endif

#ifdef SSS_TEST_IMPL
/* Test builds that #include this file may force one kernel. */
static combine_fn *sss_test_impl;
#endif

static combine_fn *combine_pick(void)
{
#ifdef SSS_TEST_IMPL
	if (sss_test_impl)
		return sss_test_impl;
#endif
#ifdef SSS_X86_DISPATCH
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
		return combine_avx512;
	if (__builtin_cpu_supports("avx2"))
		return combine_avx2;
#endif
	return combine_generic;
}

/* Only reached once the verdict "bad" is public: names the first failed check. */
static int combine_classify(size_t secret_len, const uint8_t *const shares[], unsigned k,
                            const uint16_t xhi[])
{
	uint32_t mixed = 0, high = 0;
	size_t j;
	unsigned i;

	for (i = 0; i < k; i++) {
		for (j = 0; j < secret_len; j++) {
			uint32_t t = (uint32_t)(load16le(shares[i] + 2 * j) ^ xhi[i]);

			mixed |= t & 0xfe00u;
			high |= (t + 255) & 0x200u;
		}
	}
	sss_declassify(&mixed, sizeof(mixed));
	sss_declassify(&high, sizeof(high));
	if (mixed)
		return SSS_EX_MIXED;
	if (high)
		return SSS_EY_RANGE;
	return SSS_EINCONSISTENT;
}

static void lagrange_at_zero(uint16_t lag[], const uint32_t x[], unsigned k)
{
	unsigned i, m;

	for (i = 0; i < k; i++) {
		uint32_t num = 1, den = 1;

		for (m = 0; m < k; m++) {
			if (m == i)
				continue;
			num = mul257(num, x[m]);
			den = mul257(den, x[m] + 257 - x[i]);
		}
		lag[i] = (uint16_t)mul257(num, inv257(den));
	}
}

int sss_combine(uint8_t *secret, size_t secret_len, const uint8_t *const shares[], unsigned k)
{
	uint16_t lag[SSS_MAX_SHARES], xhi[SSS_MAX_SHARES];
	uint32_t x[SSS_MAX_SHARES];
	bool seen[SSS_MAX_SHARES + 1] = { false };
	uint32_t bad;
	unsigned i;
	int ret;

	if (!secret || !shares) {
		ret = SSS_ENULL;
		goto out;
	}
	if (k < 2) {
		ret = SSS_EK_LOW;
		goto out;
	}
	if (k > SSS_MAX_SHARES) {
		ret = SSS_EN_HIGH;
		goto out;
	}
	for (i = 0; i < k; i++) {
		if (!shares[i]) {
			ret = SSS_ENULL;
			goto out;
		}
	}
	if (secret_len == 0 || secret_len > SSS_MAX_SECRET_LEN) {
		ret = SSS_ELEN;
		goto out;
	}
	for (i = 0; i < k; i++) {
		x[i] = shares[i][1] >> 1;
		if (x[i] == 0 || x[i] > SSS_MAX_SHARES) {
			ret = SSS_EX_RANGE;
			goto out;
		}
		if (seen[x[i]]) {
			ret = SSS_EX_REPEAT;
			goto out;
		}
		seen[x[i]] = true;
		xhi[i] = (uint16_t)(x[i] << 9);
	}
	lagrange_at_zero(lag, x, k);
	bad = combine_pick()(secret, secret_len, shares, k, lag, xhi);
	sss_declassify(&bad, sizeof(bad));
	if (bad) {
		ret = combine_classify(secret_len, shares, k, xhi);
		goto out;
	}
	ret = 0;
out:
	if (ret && secret)
		sodium_memzero(secret, secret_len);
	return ret;
}
