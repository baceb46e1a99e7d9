#include "ceremony/rsa_pad.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

/* 0xff when a == b, else 0; no branch. */
static uint8_t ct_eq(uint8_t a, uint8_t b)
{
	uint32_t x = (uint32_t)(a ^ b);

	return (uint8_t)((x - 1u) >> 8);
}

void cer_ct_select(uint8_t *out, const uint8_t *a, const uint8_t *b, size_t len, uint8_t mask)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)((a[i] & mask) | (b[i] & (uint8_t)~mask));
}

/* dst ^= MGF1(seed), dst_len bytes (RFC 8017 appendix B.2.1). */
static int mgf1_xor(uint8_t *dst, size_t dst_len, const uint8_t *seed, size_t seed_len,
                    const EVP_MD *md)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t block[EVP_MAX_MD_SIZE], counter[4];
	size_t done = 0, hlen = (size_t)EVP_MD_get_size(md), take, i;
	uint32_t c;
	int ret = CER_OK;

	if (ctx == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (c = 0; done < dst_len; c++) {
		counter[0] = (uint8_t)(c >> 24);
		counter[1] = (uint8_t)(c >> 16);
		counter[2] = (uint8_t)(c >> 8);
		counter[3] = (uint8_t)c;
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, seed, seed_len) != 1 ||
		    EVP_DigestUpdate(ctx, counter, sizeof counter) != 1 ||
		    EVP_DigestFinal_ex(ctx, block, NULL) != 1) {
			ret = cer_fail(CER_EINTERNAL, "MGF1 failed");
			break;
		}
		take = dst_len - done < hlen ? dst_len - done : hlen;
		for (i = 0; i < take; i++)
			dst[done + i] ^= block[i];
		done += take;
	}
	sodium_memzero(block, sizeof block);
	EVP_MD_CTX_free(ctx);
	return ret;
}

int cer_rsa_oaep_decode(const uint8_t *em, size_t k, bool sha256, const char *what,
                        uint8_t out[static CER_CEK_LEN])
{
	const EVP_MD *md = sha256 ? EVP_sha256() : EVP_sha1();
	size_t hlen = sha256 ? CER_SHA256_LEN : CER_SHA1_LEN, db_len, sep, i;
	uint8_t lhash[CER_SHA256_LEN], zero[CER_CEK_LEN] = {0};
	uint8_t *buf = NULL, *seed, *db;
	uint8_t good;
	int ret;

	sodium_memzero(out, CER_CEK_LEN);
	if (k < 2 * hlen + 2 + CER_CEK_LEN)
		return cer_fail(CER_EINPUT, "%s: the key is too small for a %d-byte content key",
		                what, CER_CEK_LEN);
	buf = cer_secret_alloc(k);
	if (buf == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	memcpy(buf, em, k);
	seed = buf + 1;
	db = buf + 1 + hlen;
	db_len = k - hlen - 1;
	ret = mgf1_xor(seed, hlen, db, db_len, md);
	if (ret == CER_OK)
		ret = mgf1_xor(db, db_len, seed, hlen, md);
	if (ret == CER_OK && EVP_Digest("", 0, lhash, NULL, md, NULL) != 1)
		ret = cer_fail(CER_EINTERNAL, "hash failed");
	if (ret != CER_OK)
		goto out;
	/* DB = lHash || PS (zeros) || 0x01 || M, M at a fixed place: the last 64 bytes. */
	sep = db_len - CER_CEK_LEN - 1;
	good = ct_eq(buf[0], 0);
	for (i = 0; i < hlen; i++)
		good &= ct_eq(db[i], lhash[i]);
	for (i = hlen; i < sep; i++)
		good &= ct_eq(db[i], 0);
	good &= ct_eq(db[sep], 1);
	cer_ct_select(out, db + sep + 1, zero, CER_CEK_LEN, good);
	ret = good == 0xff ? CER_OK
	                   : cer_fail(CER_EAUTH,
	                              "%s: the key does not decrypt this share's "
	                              "content key",
	                              what);
out:
	cer_secret_free(buf);
	return ret;
}

int cer_rsa_pkcs1_decode_implicit(const uint8_t *em, size_t k, const char *what,
                                  uint8_t out[static CER_CEK_LEN])
{
	uint8_t *rnd;
	size_t sep, i;
	uint8_t good;

	if (k < 11 + CER_CEK_LEN)
		return cer_fail(CER_EINPUT, "%s: the key is too small for a %d-byte content key",
		                what, CER_CEK_LEN);
	rnd = cer_secret_alloc(CER_CEK_LEN);
	if (rnd == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	randombytes_buf(rnd, CER_CEK_LEN);
	/* EM = 0x00 || 0x02 || PS (k - 67 non-zero bytes) || 0x00 || M (64 bytes). */
	sep = k - CER_CEK_LEN - 1;
	good = ct_eq(em[0], 0) & ct_eq(em[1], 2) & ct_eq(em[sep], 0);
	for (i = 2; i < sep; i++)
		good &= (uint8_t)~ct_eq(em[i], 0);
	cer_ct_select(out, em + sep + 1, rnd, CER_CEK_LEN, good);
	cer_secret_free(rnd);
	return CER_OK;
}
