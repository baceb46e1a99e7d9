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
#include <immintrin.h>
#endif

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

/* The same for v <= 65536 + 255 (a product or a Horner step of reduced values). */
SSS_INLINE uint32_t red257_small(uint32_t v)
{
	uint32_t t = (v & 0xff) + 257 - (v >> 8);

	return t - (257 & (0u - ((256 - t) >> 31)));
}

static uint32_t mul257(uint32_t a, uint32_t b)
{
	return red257_small(a * b);
}

/* a^255 = a^-1 mod 257 (and 0 for 0), by a fixed chain: (a^15)^16 * a^15. */
static uint32_t inv257(uint32_t a)
{
	uint32_t a3 = mul257(mul257(a, a), a);
	uint32_t a15 = mul257(mul257(mul257(a3, a3), mul257(a3, a3)), a3);
	uint32_t r = a15;
	int i;

	for (i = 0; i < 4; i++)
		r = mul257(r, r);
	return mul257(r, a15);
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
	case 0: return "success";
	case SSS_ENULL: return "missing buffer";
	case SSS_ELEN: return "secret length is 0 or too large";
	case SSS_EK_LOW: return "fewer than 2 shares required";
	case SSS_EN_HIGH: return "more than 126 shares";
	case SSS_EK_HIGH: return "more shares required than made";
	case SSS_EX_RANGE: return "share number (x) outside 1..126";
	case SSS_EX_REPEAT: return "the same share given twice";
	case SSS_EX_MIXED: return "share number (x) changes inside one share";
	case SSS_EY_RANGE: return "share value (y) above 256";
	case SSS_EINCONSISTENT: return "shares are inconsistent";
	default: return "unknown error";
	}
}

struct split_rng {
	const uint8_t *seed;
	uint32_t block;
};

static void split_random(struct split_rng *g, uint8_t *buf, size_t len)
{
	static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {
	        'L', 'i', 'b', 's', 'o', 'd', 'i', 'u', 'm', 'D', 'R', 'G'};

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

static int split_check(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                       size_t secret_len)
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

static void split_block(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                        size_t off, size_t cnt, const uint16_t *coef)
{
	unsigned i, d;
	size_t j;

	for (i = 0; i < n; i++) {
		uint32_t x = i + 1;

		for (j = 0; j < cnt; j++) {
			const uint16_t *c = coef + j * (k - 1);
			uint32_t v = c[k - 2];

			for (d = k - 2; d >= 1; d--)
				v = red257_small(v * x + c[d - 1]);
			v = red257_small(v * x + secret[off + j]);
			store16le(shares[i] + 2 * (off + j), (x << 9) | v);
		}
	}
}

static int split_impl(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                      size_t secret_len, const uint8_t *seed)
{
	uint8_t rnd[SPLIT_WORDS * 8];
	uint16_t coef[SPLIT_WORDS];
	struct split_rng g = {seed, 0};
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

int sss_split_deterministic(uint8_t *const shares[], unsigned n, unsigned k, const uint8_t *secret,
                            size_t secret_len, const uint8_t seed[SSS_SEEDBYTES])
{
	if (!seed) {
		split_zero(shares, n, secret_len);
		return SSS_ENULL;
	}
	return split_impl(shares, n, k, secret, secret_len, seed);
}

/*
 * Combine kernels.  Each element of a share is first xored with the share's
 * (x << 9): what remains, t, is y when x is right.  A share is bad when some
 * t has a bit at 9 or above (x changes) or when t > 256 (then bit 9 of
 * t + 255, as t <= 511); both show in t | (t + 255) above bit 8, gathered
 * and read once at the end, as is bit 8 of every rebuilt value (256).  Each
 * kernel returns that verdict, 0 for good.  The scalar loop (tails, and
 * compilers without vector extensions) sums t * L exactly in 32 bits and
 * reduces once per element.
 */
struct combine_bad {
	uint32_t in, out;
};

SSS_INLINE void combine_scalar(uint8_t *secret, size_t from, size_t to,
                               const uint8_t *const shares[], unsigned k, const uint16_t lag[],
                               const uint16_t xhi[], struct combine_bad *bad)
{
	size_t j;
	unsigned i;

	for (j = from; j < to; j++) {
		uint32_t acc = 0, r;

		for (i = 0; i < k; i++) {
			uint32_t t = (uint32_t)(load16le(shares[i] + 2 * j) ^ xhi[i]);

			bad->in |= t | (t + 255);
			acc += t * lag[i];
		}
		r = red257(acc);
		bad->out |= r;
		secret[j] = (uint8_t)r;
	}
}

#if defined(__GNUC__) && (__GNUC__ >= 9 || defined(__clang__))
/*
 * Portable vector kernel: 16-bit lanes only, 16 elements per step (two
 * 128-bit vectors, which every SIMD unit has).  With t <= 256 and L <= 255,
 * t * L < 2^16 is exact, and (p & 0xff) + 257 - (p >> 8) puts it in [2, 512]
 * without changing it mod 257; L = 256 = -1 adds 257 - t instead (L is
 * public).  k <= 126 such terms stay below 2^16.
 */
#define CHUNK 16u
typedef uint16_t v8u16 __attribute__((vector_size(16)));
typedef uint8_t v8u8 __attribute__((vector_size(8)));

/* Vectors pass through pointers: vector arguments would change the ABI. */
SSS_INLINE void load_v8u16(v8u16 *v, const uint8_t *p, uint16_t xor)
{
	memcpy(v, p, sizeof(*v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	*v = (*v << 8) | (*v >> 8);
#endif
	*v ^= xor;
}

SSS_INLINE void add_term_v(v8u16 *acc, const v8u16 *t, uint16_t l)
{
	v8u16 p;

	if (l == 256) {
		*acc += 257 - *t;
	} else {
		p = *t * l;
		*acc += (p & 0xff) + 257 - (p >> 8);
	}
}

SSS_INLINE void red257_v(v8u16 *v)
{
	v8u16 t = (*v & 0xff) + 257 - (*v >> 8);

	*v = t - (257 & (0 - ((256 - t) >> 15)));
}

SSS_INLINE uint32_t combine_body(uint8_t *secret, size_t secret_len, const uint8_t *const shares[],
                                 unsigned k, const uint16_t lag[], const uint16_t xhi[])
{
	struct combine_bad bad = {0, 0};
	v8u16 bad_in = {0}, bad_out = {0};
	size_t off, full = secret_len - secret_len % CHUNK;
	unsigned i, l;

	for (off = 0; off < full; off += CHUNK) {
		v8u16 a0 = {0}, a1 = {0}, t0, t1;
		v8u8 b0, b1;

		for (i = 0; i < k; i++) {
			const uint8_t *p = shares[i] + 2 * off;

			load_v8u16(&t0, p, xhi[i]);
			load_v8u16(&t1, p + 16, xhi[i]);
			bad_in |= t0 | (t0 + 255) | t1 | (t1 + 255);
			add_term_v(&a0, &t0, lag[i]);
			add_term_v(&a1, &t1, lag[i]);
		}
		red257_v(&a0);
		red257_v(&a1);
		bad_out |= a0 | a1;
		b0 = __builtin_convertvector(a0, v8u8);
		b1 = __builtin_convertvector(a1, v8u8);
		memcpy(secret + off, &b0, sizeof(b0));
		memcpy(secret + off + 8, &b1, sizeof(b1));
	}
	combine_scalar(secret, full, secret_len, shares, k, lag, xhi, &bad);
	for (l = 0; l < 8; l++) {
		bad.in |= bad_in[l];
		bad.out |= bad_out[l];
	}
	return (bad.in & ~0x1ffu) | (bad.out & 0x100u);
}
#else
SSS_INLINE uint32_t combine_body(uint8_t *secret, size_t secret_len, const uint8_t *const shares[],
                                 unsigned k, const uint16_t lag[], const uint16_t xhi[])
{
	struct combine_bad bad = {0, 0};

	combine_scalar(secret, 0, secret_len, shares, k, lag, xhi, &bad);
	return (bad.in & ~0x1ffu) | (bad.out & 0x100u);
}
#endif

typedef uint32_t combine_fn(uint8_t *, size_t, const uint8_t *const[], unsigned, const uint16_t[],
                            const uint16_t[]);

static uint32_t combine_generic(uint8_t *secret, size_t secret_len, const uint8_t *const shares[],
                                unsigned k, const uint16_t lag[], const uint16_t xhi[])
{
	return combine_body(secret, secret_len, shares, k, lag, xhi);
}

#ifdef SSS_X86_DISPATCH
/*
 * x86 kernels.  Shares are taken two at a time: their elements interleaved
 * (unpack) and multiplied by the pair (L_a, L_b) with one multiply-add
 * (pmaddwd: t_a * L_a + t_b * L_b per 32-bit lane); pack undoes the
 * interleave.  t <= 256 and L <= 256 when the shares are valid, so the sums
 * stay below 2^24 and one 16-bit fold leaves less than 2^16 + 2^8, which the
 * 8-bit step brings to [1, 512]; min(t, t - 257) finishes.  Invalid shares
 * give garbage here, but then the verdict is already "bad".  The largest t
 * of every lane is kept for the check.
 */

#define X86_RED257(pfx, sfx, v, c_ffff, c_ff, c_257)                                               \
	do {                                                                                       \
		v = pfx##_add_epi32(pfx##_and_##sfx(v, c_ffff), pfx##_srli_epi32(v, 16));          \
		v = pfx##_sub_epi32(pfx##_add_epi32(pfx##_and_##sfx(v, c_ff), c_257),              \
		                    pfx##_srli_epi32(v, 8));                                       \
		v = pfx##_min_epu32(v, pfx##_sub_epi32(v, c_257));                                 \
	} while (0)

SSS_INLINE uint32_t combine_fold_bad(const uint16_t *max_in, const uint16_t *or_out, size_t lanes)
{
	uint32_t in = 0, out = 0;
	size_t l;

	for (l = 0; l < lanes; l++) {
		in |= (uint32_t)max_in[l] | ((uint32_t)max_in[l] + 255);
		out |= or_out[l];
	}
	return (in & ~0x1ffu) | (out & 0x100u);
}

__attribute__((target("avx2"))) static uint32_t combine_avx2(uint8_t *secret, size_t secret_len,
                                                             const uint8_t *const shares[],
                                                             unsigned k, const uint16_t lag[],
                                                             const uint16_t xhi[])
{
	const __m256i c_ffff = _mm256_set1_epi32(0xffff), c_ff = _mm256_set1_epi32(0xff);
	const __m256i c_257 = _mm256_set1_epi32(257), zero = _mm256_setzero_si256();
	__m256i max_in = zero, or_out = zero;
	uint16_t max_l[16], or_l[16];
	struct combine_bad bad = {0, 0};
	size_t off, full = secret_len - secret_len % 16;
	uint32_t verdict;

	for (off = 0; off < full; off += 16) {
		__m256i lo = zero, hi = zero, a, b, w, r;
		__m128i bytes;
		unsigned i;

		for (i = 0; i + 1 < k; i += 2) {
			a = _mm256_xor_si256(
			        _mm256_loadu_si256((const void *)(shares[i] + 2 * off)),
			        _mm256_set1_epi16((short)xhi[i]));
			b = _mm256_xor_si256(
			        _mm256_loadu_si256((const void *)(shares[i + 1] + 2 * off)),
			        _mm256_set1_epi16((short)xhi[i + 1]));
			max_in = _mm256_max_epu16(max_in, _mm256_max_epu16(a, b));
			w = _mm256_set1_epi32((int)(lag[i] | (uint32_t)lag[i + 1] << 16));
			lo = _mm256_add_epi32(lo,
			                      _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), w));
			hi = _mm256_add_epi32(hi,
			                      _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), w));
		}
		if (i < k) {
			a = _mm256_xor_si256(
			        _mm256_loadu_si256((const void *)(shares[i] + 2 * off)),
			        _mm256_set1_epi16((short)xhi[i]));
			max_in = _mm256_max_epu16(max_in, a);
			w = _mm256_set1_epi32((int)lag[i]);
			lo = _mm256_add_epi32(lo,
			                      _mm256_madd_epi16(_mm256_unpacklo_epi16(a, zero), w));
			hi = _mm256_add_epi32(hi,
			                      _mm256_madd_epi16(_mm256_unpackhi_epi16(a, zero), w));
		}
		X86_RED257(_mm256, si256, lo, c_ffff, c_ff, c_257);
		X86_RED257(_mm256, si256, hi, c_ffff, c_ff, c_257);
		r = _mm256_packus_epi32(lo, hi);
		or_out = _mm256_or_si256(or_out, r);
		bytes = _mm_packus_epi16(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
		_mm_storeu_si128((void *)(secret + off), bytes);
	}
	_mm256_storeu_si256((void *)max_l, max_in);
	_mm256_storeu_si256((void *)or_l, or_out);
	combine_scalar(secret, full, secret_len, shares, k, lag, xhi, &bad);
	verdict = combine_fold_bad(max_l, or_l, 16) | (bad.in & ~0x1ffu) | (bad.out & 0x100u);
	sodium_memzero(max_l, sizeof(max_l));
	sodium_memzero(or_l, sizeof(or_l));
	return verdict;
}

__attribute__((target("avx512f,avx512bw"))) static uint32_t
combine_avx512(uint8_t *secret, size_t secret_len, const uint8_t *const shares[], unsigned k,
               const uint16_t lag[], const uint16_t xhi[])
{
	const __m512i c_ffff = _mm512_set1_epi32(0xffff), c_ff = _mm512_set1_epi32(0xff);
	const __m512i c_257 = _mm512_set1_epi32(257), zero = _mm512_setzero_si512();
	__m512i max_in = zero, or_out = zero;
	uint16_t max_l[32], or_l[32];
	struct combine_bad bad = {0, 0};
	size_t off, full = secret_len - secret_len % 32;
	uint32_t verdict;

	for (off = 0; off < full; off += 32) {
		__m512i lo = zero, hi = zero, a, b, w, r;
		unsigned i;

		for (i = 0; i + 1 < k; i += 2) {
			a = _mm512_xor_si512(
			        _mm512_loadu_si512((const void *)(shares[i] + 2 * off)),
			        _mm512_set1_epi16((short)xhi[i]));
			b = _mm512_xor_si512(
			        _mm512_loadu_si512((const void *)(shares[i + 1] + 2 * off)),
			        _mm512_set1_epi16((short)xhi[i + 1]));
			max_in = _mm512_max_epu16(max_in, _mm512_max_epu16(a, b));
			w = _mm512_set1_epi32((int)(lag[i] | (uint32_t)lag[i + 1] << 16));
			lo = _mm512_add_epi32(lo,
			                      _mm512_madd_epi16(_mm512_unpacklo_epi16(a, b), w));
			hi = _mm512_add_epi32(hi,
			                      _mm512_madd_epi16(_mm512_unpackhi_epi16(a, b), w));
		}
		if (i < k) {
			a = _mm512_xor_si512(
			        _mm512_loadu_si512((const void *)(shares[i] + 2 * off)),
			        _mm512_set1_epi16((short)xhi[i]));
			max_in = _mm512_max_epu16(max_in, a);
			w = _mm512_set1_epi32((int)lag[i]);
			lo = _mm512_add_epi32(lo,
			                      _mm512_madd_epi16(_mm512_unpacklo_epi16(a, zero), w));
			hi = _mm512_add_epi32(hi,
			                      _mm512_madd_epi16(_mm512_unpackhi_epi16(a, zero), w));
		}
		X86_RED257(_mm512, si512, lo, c_ffff, c_ff, c_257);
		X86_RED257(_mm512, si512, hi, c_ffff, c_ff, c_257);
		r = _mm512_packus_epi32(lo, hi);
		or_out = _mm512_or_si512(or_out, r);
		_mm256_storeu_si256((void *)(secret + off), _mm512_cvtepi16_epi8(r));
	}
	_mm512_storeu_si512((void *)max_l, max_in);
	_mm512_storeu_si512((void *)or_l, or_out);
	combine_scalar(secret, full, secret_len, shares, k, lag, xhi, &bad);
	verdict = combine_fold_bad(max_l, or_l, 32) | (bad.in & ~0x1ffu) | (bad.out & 0x100u);
	sodium_memzero(max_l, sizeof(max_l));
	sodium_memzero(or_l, sizeof(or_l));
	return verdict;
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
	if (__builtin_cpu_supports("avx512bw"))
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

/*
 * L_i = prod_{m != i} x_m / (x_m - x_i) = P / d_i with P = prod x_m and
 * d_i = x_i * prod_{m != i} (x_m - x_i): products taken lazily in 64 bits
 * (seven factors below 2^9 fit), and all d_i inverted with one a^255 by
 * prefix products.  The x are public and distinct, so no d_i is 0.
 */
static void lagrange_at_zero(uint16_t lag[], const uint32_t x[], unsigned k)
{
	uint32_t d[SSS_MAX_SHARES], pre[SSS_MAX_SHARES + 1], all = 1, inv;
	uint64_t prod;
	unsigned i, m, n;

	for (i = 0; i < k; i++)
		all = mul257(all, x[i]);
	pre[0] = 1;
	for (i = 0; i < k; i++) {
		prod = x[i];
		n = 1;
		for (m = 0; m < k; m++) {
			if (m == i)
				continue;
			prod *= x[m] + 257 - x[i];
			if (++n == 7) {
				prod = red257_u64(prod);
				n = 1;
			}
		}
		d[i] = red257_u64(prod);
		pre[i + 1] = mul257(pre[i], d[i]);
	}
	inv = inv257(pre[k]);
	for (i = k; i-- > 0;) {
		lag[i] = (uint16_t)mul257(all, mul257(inv, pre[i]));
		inv = mul257(inv, d[i]);
	}
}

int sss_combine(uint8_t *secret, size_t secret_len, const uint8_t *const shares[], unsigned k)
{
	uint16_t lag[SSS_MAX_SHARES], xhi[SSS_MAX_SHARES];
	uint32_t x[SSS_MAX_SHARES];
	bool seen[SSS_MAX_SHARES + 1] = {false};
	uint32_t bad;
	unsigned i;
	int ret;

	if (!secret || !shares) {
		ret = SSS_ENULL;
		goto out;
	}
	if (secret_len == 0 || secret_len > SSS_MAX_SECRET_LEN) {
		ret = SSS_ELEN;
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
