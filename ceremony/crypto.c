#include "ceremony/crypto.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/codec.h"

int cer_sha1(const void *data, size_t len, uint8_t out[static CER_SHA1_LEN])
{
	if (EVP_Digest(data, len, out, NULL, EVP_sha1(), NULL) != 1)
		return cer_fail(CER_EINTERNAL, "SHA-1 failed");
	return CER_OK;
}

int cer_sha256(const void *data, size_t len, uint8_t out[static CER_SHA256_LEN])
{
	if (EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) != 1)
		return cer_fail(CER_EINTERNAL, "SHA-256 failed");
	return CER_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

struct mac_part {
	const void *p;
	size_t len;
};

static int hmac512_parts(const uint8_t *key, size_t key_len, const struct mac_part *parts, size_t n,
                         uint8_t out[static 64])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t i, olen = 0;
	int ret = CER_OK;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA512", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, params) != 1) {
		ret = cer_fail(CER_EINTERNAL, "HMAC-SHA-512 setup failed");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (parts[i].len > 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1) {
			ret = cer_fail(CER_EINTERNAL, "HMAC-SHA-512 failed");
			goto out;
		}
	}
	if (EVP_MAC_final(ctx, out, &olen, 64) != 1 || olen != 64)
		ret = cer_fail(CER_EINTERNAL, "HMAC-SHA-512 failed");
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ret;
}

int cer_hmac_sha512(const uint8_t *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[static 64])
{
	struct mac_part part = {data, len};

	return hmac512_parts(key, key_len, &part, 1, out);
}

int cer_kdf_sp108(const uint8_t *ki, size_t ki_len, const void *label, size_t label_len,
                  const void *context, size_t context_len, uint8_t *out, size_t out_len)
{
	uint8_t block[64], ctr[4], bits[4], zero = 0;
	struct mac_part parts[5] = {
	        {ctr, 4}, {label, label_len}, {&zero, 1}, {context, context_len}, {bits, 4},
	};
	uint32_t i;
	size_t done = 0, n;
	int ret = CER_OK;

	if (out_len > 64 * 255)
		return cer_fail(CER_EINTERNAL, "KDF output too long");
	put_be32(bits, (uint32_t)(out_len * 8));
	for (i = 1; done < out_len; i++) {
		put_be32(ctr, i);
		ret = hmac512_parts(ki, ki_len, parts, 5, block);
		if (ret != CER_OK)
			break;
		n = out_len - done < 64 ? out_len - done : 64;
		memcpy(out + done, block, n);
		done += n;
	}
	sodium_memzero(block, sizeof block);
	if (ret != CER_OK)
		sodium_memzero(out, out_len);
	return ret;
}

int cer_item_cek(const uint8_t master[static CER_MASTER_LEN], const char *tag,
                 uint8_t cek[static CER_CEK_LEN])
{
	return cer_kdf_sp108(master, CER_MASTER_LEN, tag, strlen(tag), "", 0, cek, CER_CEK_LEN);
}

static enum cer_jwe_alg alg_from_name(const char *alg)
{
	if (strcmp(alg, "dir") == 0)
		return CER_JWE_ALG_DIR;
	if (strcmp(alg, "RSA-OAEP-256") == 0)
		return CER_JWE_ALG_RSA_OAEP_256;
	if (strcmp(alg, "RSA-OAEP") == 0)
		return CER_JWE_ALG_RSA_OAEP;
	if (strcmp(alg, "RSA1_5") == 0)
		return CER_JWE_ALG_RSA1_5;
	return CER_JWE_ALG_UNKNOWN;
}

void cer_jwe_free(struct cer_jwe *jwe)
{
	if (jwe == NULL)
		return;
	free(jwe->header_b64);
	free(jwe->ek);
	free(jwe->ct);
	free(jwe);
}

static int copy_header_field(json_t *hdr, const char *name, char *dst, size_t dst_size,
                             bool required, const char *what)
{
	json_t *v = json_object_get(hdr, name);
	const char *s;

	dst[0] = '\0';
	if (v == NULL) {
		if (required)
			return cer_fail(CER_EINPUT, "%s: JWE header has no \"%s\"", what, name);
		return CER_OK;
	}
	if (!json_is_string(v))
		return cer_fail(CER_EINPUT, "%s: JWE header \"%s\" is not a string", what, name);
	s = json_string_value(v);
	/* kid only names things in messages: a long one is shortened, not refused. */
	if (strlen(s) >= dst_size && required)
		return cer_fail(CER_EINPUT, "%s: JWE header \"%s\" is too long", what, name);
	snprintf(dst, dst_size, "%s", s);
	return CER_OK;
}

static const char *const part_names[5] = {
        "header", "encrypted key", "initialization vector", "ciphertext", "authentication tag",
};

int cer_jwe_parse(const char *compact, size_t len, const char *what, struct cer_jwe **out)
{
	struct cer_jwe *jwe = NULL;
	const char *part[5];
	size_t plen[5], n = 0, i, start = 0, dlen = 0;
	uint8_t *dec = NULL;
	json_t *hdr = NULL;
	json_error_t jerr;
	int ret;

	*out = NULL;
	for (i = 0; i <= len; i++) {
		if (i == len || compact[i] == '.') {
			if (n < 5) {
				part[n] = compact + start;
				plen[n] = i - start;
			}
			n++;
			start = i + 1;
		}
	}
	if (n != 5)
		return cer_fail(CER_EINPUT, "%s: compact JWE has %zu parts, expected 5", what, n);
	jwe = calloc(1, sizeof *jwe);
	if (jwe == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < 5; i++) {
		if (i != 1 && plen[i] == 0) {
			ret = cer_fail(CER_EINPUT, "%s: JWE %s is empty", what, part_names[i]);
			goto out;
		}
		free(dec);
		dec = cer_b64url_decode(part[i], plen[i], &dlen);
		if (dec == NULL) {
			ret = cer_fail(CER_EINPUT, "%s: bad base64url in JWE %s (part %zu)", what,
			               part_names[i], i + 1);
			goto out;
		}
		switch (i) {
		case 0:
			hdr = json_loadb((const char *)dec, dlen, JSON_REJECT_DUPLICATES, &jerr);
			if (hdr == NULL || !json_is_object(hdr)) {
				ret = cer_fail(CER_EINPUT, "%s: JWE header is not a JSON object",
				               what);
				goto out;
			}
			jwe->header_b64 = strndup(part[0], plen[0]);
			if (jwe->header_b64 == NULL) {
				ret = cer_fail(CER_EINTERNAL, "out of memory");
				goto out;
			}
			jwe->header_b64_len = plen[0];
			break;
		case 1:
			jwe->ek = dec;
			jwe->ek_len = dlen;
			dec = NULL;
			break;
		case 2:
			if (dlen != CER_JWE_IV_LEN) {
				ret = cer_fail(CER_EINPUT,
				               "%s: JWE initialization vector is %zu bytes, "
				               "expected 16",
				               what, dlen);
				goto out;
			}
			memcpy(jwe->iv, dec, CER_JWE_IV_LEN);
			break;
		case 3:
			if (dlen == 0 || dlen % 16 != 0) {
				ret = cer_fail(CER_EINPUT,
				               "%s: JWE ciphertext is %zu bytes, not a "
				               "multiple of 16",
				               what, dlen);
				goto out;
			}
			jwe->ct = dec;
			jwe->ct_len = dlen;
			dec = NULL;
			break;
		case 4:
			if (dlen != CER_JWE_TAG_LEN) {
				ret = cer_fail(CER_EINPUT,
				               "%s: JWE authentication tag is %zu bytes, "
				               "expected 32",
				               what, dlen);
				goto out;
			}
			memcpy(jwe->tag, dec, CER_JWE_TAG_LEN);
			break;
		}
	}
	ret = copy_header_field(hdr, "alg", jwe->alg, sizeof jwe->alg, true, what);
	if (ret == CER_OK)
		ret = copy_header_field(hdr, "enc", jwe->enc, sizeof jwe->enc, true, what);
	if (ret == CER_OK)
		ret = copy_header_field(hdr, "kid", jwe->kid, sizeof jwe->kid, false, what);
	if (ret != CER_OK)
		goto out;
	jwe->alg_id = alg_from_name(jwe->alg);
	jwe->enc_ok = strcmp(jwe->enc, "A256CBC-HS512") == 0;
	*out = jwe;
	jwe = NULL;
	ret = CER_OK;
out:
	free(dec);
	json_decref(hdr);
	cer_jwe_free(jwe);
	return ret;
}

static int jwe_mac(const char *header_b64, size_t header_len, const uint8_t *iv, const uint8_t *ct,
                   size_t ct_len, const uint8_t cek[static CER_CEK_LEN], uint8_t mac[static 64])
{
	uint8_t al[8];
	struct mac_part parts[4] = {
	        {header_b64, header_len},
	        {iv, CER_JWE_IV_LEN},
	        {ct, ct_len},
	        {al, 8},
	};

	put_be64(al, (uint64_t)header_len * 8);
	return hmac512_parts(cek, 32, parts, 4, mac);
}

int cer_jwe_check_tag(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                      const char *what)
{
	uint8_t mac[64];
	int ret;

	if (!jwe->enc_ok)
		return cer_fail(CER_EINPUT,
		                "%s: unsupported JWE enc \"%s\" (expected A256CBC-HS512)", what,
		                jwe->enc);
	ret = jwe_mac(jwe->header_b64, jwe->header_b64_len, jwe->iv, jwe->ct, jwe->ct_len, cek,
	              mac);
	if (ret == CER_OK && CRYPTO_memcmp(mac, jwe->tag, CER_JWE_TAG_LEN) != 0)
		ret = cer_fail(CER_EAUTH, "%s: authentication failed (tampered, or the wrong key)",
		               what);
	sodium_memzero(mac, sizeof mac);
	return ret;
}

int cer_jwe_decrypt_into(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                         const char *what, uint8_t *buf, size_t cap, size_t *plain_len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n1 = 0, n2 = 0, ret;

	*plain_len = 0;
	if (cap < jwe->ct_len + 1)
		return cer_fail(CER_EINTERNAL, "%s: plaintext buffer too small", what);
	ret = cer_jwe_check_tag(jwe, cek, what);
	if (ret != CER_OK)
		return ret;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, cek + 32, jwe->iv) != 1 ||
	    EVP_DecryptUpdate(ctx, buf, &n1, jwe->ct, (int)jwe->ct_len) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: AES-256-CBC failed", what);
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, buf + n1, &n2) != 1) {
		ret = cer_fail(CER_EAUTH, "%s: bad padding after decryption", what);
		goto out;
	}
	buf[n1 + n2] = '\0';
	*plain_len = (size_t)(n1 + n2);
	ret = CER_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret != CER_OK)
		sodium_memzero(buf, jwe->ct_len + 1);
	return ret;
}

int cer_jwe_decrypt(const struct cer_jwe *jwe, const uint8_t cek[static CER_CEK_LEN],
                    const char *what, uint8_t **plain, size_t *plain_len)
{
	uint8_t *buf;
	int ret;

	*plain = NULL;
	*plain_len = 0;
	buf = cer_secret_alloc(jwe->ct_len + 1);
	if (buf == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	ret = cer_jwe_decrypt_into(jwe, cek, what, buf, jwe->ct_len + 1, plain_len);
	if (ret != CER_OK) {
		cer_secret_free(buf);
		return ret;
	}
	*plain = buf;
	return CER_OK;
}

int cer_jwe_encrypt(const char *header_json, const uint8_t cek[static CER_CEK_LEN],
                    const uint8_t *ek, size_t ek_len, const uint8_t *plain, size_t plain_len,
                    char **compact)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t iv[CER_JWE_IV_LEN], mac[64];
	uint8_t *ct = NULL;
	char *h = NULL, *e = NULL, *i = NULL, *c = NULL, *t = NULL, *res = NULL;
	int n1 = 0, n2 = 0, ret = CER_EINTERNAL;

	*compact = NULL;
	if (plain_len > (size_t)INT32_MAX - 32)
		return cer_fail(CER_EINPUT, "plaintext too large to encrypt");
	randombytes_buf(iv, sizeof iv);
	ct = malloc(plain_len + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (ct == NULL || ctx == NULL) {
		cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, cek + 32, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n1, plain, (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n1, &n2) != 1) {
		cer_fail(CER_EINTERNAL, "AES-256-CBC encryption failed");
		goto out;
	}
	h = cer_b64url_encode((const uint8_t *)header_json, strlen(header_json));
	if (h == NULL)
		goto oom;
	if (jwe_mac(h, strlen(h), iv, ct, (size_t)(n1 + n2), cek, mac) != CER_OK)
		goto out;
	e = cer_b64url_encode(ek, ek_len);
	i = cer_b64url_encode(iv, sizeof iv);
	c = cer_b64url_encode(ct, (size_t)(n1 + n2));
	t = cer_b64url_encode(mac, CER_JWE_TAG_LEN);
	if (e == NULL || i == NULL || c == NULL || t == NULL)
		goto oom;
	if (asprintf(&res, "%s.%s.%s.%s.%s", h, e, i, c, t) < 0) {
		res = NULL;
		goto oom;
	}
	*compact = res;
	ret = CER_OK;
	goto out;
oom:
	cer_fail(CER_EINTERNAL, "out of memory");
out:
	EVP_CIPHER_CTX_free(ctx);
	/* The ciphertext buffer held plaintext blocks in flight: wipe it too. */
	if (ct != NULL)
		sodium_memzero(ct, plain_len + 16);
	free(ct);
	free(h);
	free(e);
	free(i);
	free(c);
	free(t);
	sodium_memzero(mac, sizeof mac);
	return ret;
}

static int set_padding(EVP_PKEY_CTX *ctx, enum cer_jwe_alg alg)
{
	switch (alg) {
	case CER_JWE_ALG_RSA_OAEP_256:
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0;
	case CER_JWE_ALG_RSA_OAEP:
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) > 0;
	case CER_JWE_ALG_RSA1_5: return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	default: return 0;
	}
}

int cer_jwe_unwrap_cek(const struct cer_jwe *jwe, struct evp_pkey_st *priv, const char *what,
                       uint8_t cek[static CER_CEK_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL, *rnd = NULL;
	size_t len = 0, cap, i;
	int size, ret, rc;
	uint8_t good;

	if (jwe->alg_id != CER_JWE_ALG_RSA_OAEP_256 && jwe->alg_id != CER_JWE_ALG_RSA_OAEP &&
	    jwe->alg_id != CER_JWE_ALG_RSA1_5)
		return cer_fail(CER_EINPUT, "%s: unsupported JWE alg \"%s\"", what, jwe->alg);
	size = EVP_PKEY_get_size(priv);
	if (size < CER_CEK_LEN)
		return cer_fail(CER_EINPUT, "%s: not an RSA key that can unwrap a content key",
		                what);
	cap = (size_t)size;
	if (jwe->ek_len == 0 || jwe->ek_len > cap)
		return cer_fail(CER_EAUTH,
		                "%s: encrypted key does not fit this key "
		                "(%zu bytes for a %zu-byte key)",
		                what, jwe->ek_len, cap);
	buf = cer_secret_alloc(cap);
	rnd = cer_secret_alloc(CER_CEK_LEN);
	ctx = EVP_PKEY_CTX_new(priv, NULL);
	if (buf == NULL || rnd == NULL || ctx == NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    !set_padding(ctx, jwe->alg_id)) {
		ret = cer_fail(CER_EINTERNAL, "%s: RSA setup failed", what);
		goto out;
	}
	len = cap;
	if (jwe->alg_id != CER_JWE_ALG_RSA1_5) {
		if (EVP_PKEY_decrypt(ctx, buf, &len, jwe->ek, jwe->ek_len) <= 0 ||
		    len != CER_CEK_LEN) {
			ret = cer_fail(CER_EAUTH,
			               "%s: the key does not decrypt this share's content "
			               "key",
			               what);
			goto out;
		}
		memcpy(cek, buf, CER_CEK_LEN);
		ret = CER_OK;
		goto out;
	}
	/*
	 * PKCS#1 v1.5 (RFC 7516 section 11.5): whether the padding was good must
	 * not show, so a bad one yields a random CEK, chosen without a branch,
	 * and fails later at the tag like a wrong key.
	 */
	randombytes_buf(rnd, CER_CEK_LEN);
	rc = EVP_PKEY_decrypt(ctx, buf, &len, jwe->ek, jwe->ek_len);
	ERR_clear_error();
	good = (uint8_t)(0u - (unsigned)((rc > 0) & (len == CER_CEK_LEN)));
	for (i = 0; i < CER_CEK_LEN; i++)
		cek[i] = (uint8_t)((buf[i] & good) | (rnd[i] & (uint8_t)~good));
	ret = CER_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	cer_secret_free(buf);
	cer_secret_free(rnd);
	return ret;
}

int cer_rsa_oaep256_wrap(struct evp_pkey_st *pub, const uint8_t *in, size_t in_len, uint8_t **out,
                         size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = CER_EINTERNAL;

	*out = NULL;
	*out_len = 0;
	if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    !set_padding(ctx, CER_JWE_ALG_RSA_OAEP_256) ||
	    EVP_PKEY_encrypt(ctx, NULL, &len, in, in_len) <= 0) {
		cer_fail(CER_EINTERNAL, "RSA-OAEP-256 setup failed");
		goto out;
	}
	buf = malloc(len);
	if (buf == NULL) {
		cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (EVP_PKEY_encrypt(ctx, buf, &len, in, in_len) <= 0) {
		cer_fail(CER_EINTERNAL, "RSA-OAEP-256 encryption failed");
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
	ret = CER_OK;
out:
	free(buf);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}
