#include "ceremony/qr_int.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/codec.h"

void cer_qr_sha256(const void *data, size_t len, uint8_t md[static 32])
{
	crypto_hash_sha256(md, data, len);
}

void cer_qr_upper_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

void cer_qr_set_free(struct cer_qr_set *set)
{
	unsigned i;

	if (set == NULL)
		return;
	if (set->parts != NULL)
		for (i = 0; i < set->count; i++)
			free(set->parts[i]);
	free(set->parts);
	memset(set, 0, sizeof *set);
}

static char *make_part(const char *magic, unsigned n, unsigned total, const char *id,
                       const uint8_t *chunk, size_t chunk_len)
{
	char *b45 = cer_base45_encode(chunk, chunk_len);
	char *text = NULL;
	uint8_t md[32];
	char check[CER_QR_CHECK_HEX + 1];
	int body;

	if (b45 == NULL)
		return NULL;
	if (asprintf(&text, "%s%u/%u:%s:%s:%8s", magic, n, total, id, b45, "") < 0) {
		free(b45);
		return NULL;
	}
	free(b45);
	body = (int)strlen(text) - (int)CER_QR_CHECK_HEX - 1;
	cer_qr_sha256(text, (size_t)body, md);
	cer_qr_upper_hex(md, CER_QR_CHECK_HEX / 2, check);
	memcpy(text + body + 1, check, CER_QR_CHECK_HEX);
	return text;
}

/* A whole DER PKCS#12, encrypted PKCS#8, PKCS#8 or traditional private key. */
static bool der_private_key(const uint8_t *data, size_t len)
{
	const unsigned char *p;
	PKCS12 *p12;
	X509_SIG *p8;
	EVP_PKEY *key;
	bool found = false;

	if (len < 2 || data[0] != 0x30 || len > LONG_MAX)
		return false;
	p = data;
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	found = p12 != NULL;
	PKCS12_free(p12);
	if (!found) {
		p = data;
		p8 = d2i_X509_SIG(NULL, &p, (long)len);
		found = p8 != NULL;
		X509_SIG_free(p8);
	}
	if (!found) {
		p = data;
		key = d2i_AutoPrivateKey(NULL, &p, (long)len);
		found = key != NULL;
		EVP_PKEY_free(key);
	}
	ERR_clear_error();
	return found;
}

int cer_qr_split(const uint8_t *data, size_t len, size_t max_bytes, enum cer_qr_ec ec,
                 struct cer_qr_set *set)
{
	uint8_t *stream = NULL, *packed = NULL;
	const uint8_t *body = data;
	const char *magic = CER_QR_MAGIC;
	uint8_t md[32];
	size_t stream_len, count, i, body_len = len, packed_len = 0;
	int ret;

	memset(set, 0, sizeof *set);
	if (max_bytes < CER_QR_MIN_MAX_BYTES || max_bytes > CER_QR_MAX_MAX_BYTES)
		return cer_fail(CER_EUSAGE, "part size must be between %u and %u bytes, not %zu",
		                CER_QR_MIN_MAX_BYTES, CER_QR_MAX_MAX_BYTES, max_bytes);
	if (len > CER_QR_MAX_FILE)
		return cer_fail(CER_EINPUT, "file too large for QR codes (%zu bytes, limit %zu)",
		                len, CER_QR_MAX_FILE);
	if (len > 0 && memmem(data, len, "PRIVATE KEY-----", 16) != NULL)
		return cer_fail(CER_EINPUT,
		                "the file holds a PEM private key: private keys never "
		                "leave the custodian's media and are never made QR codes");
	if (der_private_key(data, len))
		return cer_fail(CER_EINPUT,
		                "the file is a DER private key or PKCS#12 file: private "
		                "keys never leave the custodian's media and are never "
		                "made QR codes");
	ret = cer_qr_deflate(data, len, &packed, &packed_len);
	if (ret != CER_OK)
		return ret;
	if (packed_len < len) {
		body = packed;
		body_len = packed_len;
		magic = CER_QR_MAGIC_ZLIB;
	}
	stream_len = CER_QR_STREAM_HEAD + body_len;
	count = (stream_len + max_bytes - 1) / max_bytes;
	if (count > CER_QR_MAX_PARTS) {
		ret = cer_fail(CER_EUSAGE, "%zu parts needed, more than %u: use a larger part size",
		               count, CER_QR_MAX_PARTS);
		goto out;
	}
	stream = malloc(stream_len);
	set->parts = calloc(count, sizeof *set->parts);
	if (stream == NULL || set->parts == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	cer_qr_sha256(data, len, md);
	stream[0] = (uint8_t)(len >> 24);
	stream[1] = (uint8_t)(len >> 16);
	stream[2] = (uint8_t)(len >> 8);
	stream[3] = (uint8_t)len;
	memcpy(stream + 4, md, 32);
	if (body_len > 0)
		memcpy(stream + CER_QR_STREAM_HEAD, body, body_len);
	cer_qr_upper_hex(md, CER_QR_ID_HEX / 2, set->id);
	cer_hex_encode(md, 32, set->sha256_hex);
	set->file_len = len;
	set->ec = ec;
	set->count = (unsigned)count;
	for (i = 0; i < count; i++) {
		size_t off = i * max_bytes;
		size_t n = stream_len - off < max_bytes ? stream_len - off : max_bytes;

		set->parts[i] = make_part(magic, (unsigned)i + 1, (unsigned)count, set->id,
		                          stream + off, n);
		if (set->parts[i] == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
	}
	ret = CER_OK;
out:
	free(stream);
	free(packed);
	if (ret != CER_OK)
		cer_qr_set_free(set);
	return ret;
}

static unsigned max_part_width(const struct cer_qr_set *set, unsigned limit, int *ret)
{
	unsigned i, widest = 0;

	*ret = CER_OK;
	for (i = 0; i < set->count; i++) {
		struct cer_qr_code code;

		*ret = cer_qr_encode(set->parts[i], set->ec, &code);
		if (*ret != CER_OK)
			return UINT_MAX;
		if (code.width > widest)
			widest = code.width;
		cer_qr_code_free(&code);
		if (widest > limit)
			break;
	}
	return widest;
}

int cer_qr_split_fit(const uint8_t *data, size_t len, enum cer_qr_ec ec, unsigned max_width,
                     struct cer_qr_set *set)
{
	size_t lo = CER_QR_MIN_MAX_BYTES, hi = cer_qr_default_max_bytes(ec), best = 0;
	int ret;

	memset(set, 0, sizeof *set);
	while (lo <= hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct cer_qr_set trial;
		unsigned w;

		ret = cer_qr_split(data, len, mid, ec, &trial);
		if (ret == CER_EUSAGE) {
			lo = mid + 1;
			continue;
		}
		if (ret != CER_OK)
			return ret;
		w = max_part_width(&trial, max_width, &ret);
		cer_qr_set_free(&trial);
		if (ret != CER_OK && ret != CER_EINPUT)
			return ret;
		if (ret == CER_OK && w <= max_width) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (best == 0)
		return cer_fail(CER_EUSAGE,
		                "the window is too small for QR codes (room for %u "
		                "modules): enlarge it or use a smaller font",
		                max_width);
	return cer_qr_split(data, len, best, ec, set);
}
