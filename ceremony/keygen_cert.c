#include "ceremony/keygen_int.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"

static char *bn_b64url(const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
	char *s = NULL;

	if (buf == NULL)
		return NULL;
	if (BN_bn2bin(bn, buf) == len)
		s = cer_b64url_encode(buf, (size_t)len);
	free(buf);
	return s;
}

/*
 * Fills info from a certificate after checking it is RSA of 2048 bits or
 * more (public data only).  label names it in messages.
 */
int cer_kg_cert_describe(const struct cer_cert *c, const char *label, struct cer_kg_cert_info *info)
{
	uint8_t sha1[CER_SHA1_LEN];
	char *b64 = NULL, *x5t = NULL, *n64 = NULL, *e64 = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pub = cer_cert_pubkey(c);
	const uint8_t *der;
	size_t derlen;
	int ret;

	memset(info, 0, sizeof *info);
	if (cer_cert_rsa_bits(c) == 0)
		return cer_fail(CER_EINPUT, "%s: not an RSA key (the service takes RSA only)",
		                label);
	info->bits = cer_cert_rsa_bits(c);
	if (info->bits < CER_MIN_RSA_BITS)
		return cer_fail(CER_EINPUT, "%s: RSA key of %u bits is too short (2048 at least)",
		                label, info->bits);
	der = cer_cert_der(c, &derlen);
	if (cer_sha1(der, derlen, sha1) != CER_OK)
		return cer_fail_context(CER_EINTERNAL, label);
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ret = cer_fail(CER_EINPUT, "%s: cannot read the RSA public key", label);
		goto out;
	}
	b64 = cer_b64_encode(der, derlen);
	x5t = cer_b64url_encode(sha1, sizeof sha1);
	n64 = bn_b64url(n);
	e64 = bn_b64url(e);
	if (b64 == NULL || x5t == NULL || n64 == NULL || e64 == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(info->thumb_b64url, sizeof info->thumb_b64url, "%s", cer_cert_thumb_b64(c));
	cer_hex_encode(cer_cert_thumb(c), CER_THUMB_LEN, info->thumb_hex);
	if (cer_cert_not_before(c)[0] == '\0' || cer_cert_not_after(c)[0] == '\0') {
		ret = cer_fail(CER_EINPUT, "%s: unreadable validity dates", label);
		goto out;
	}
	snprintf(info->not_before, sizeof info->not_before, "%s", cer_cert_not_before(c));
	snprintf(info->not_after, sizeof info->not_after, "%s", cer_cert_not_after(c));
	snprintf(info->serial_hex, sizeof info->serial_hex, "%s", cer_cert_serial_hex(c));
	snprintf(info->name, sizeof info->name, "%s", cer_cert_common_name(c));
	info->jwk =
	        json_pack("{s:s, s:[s,s,s], s:s, s:s, s:s, s:[s], s:s, s:s}", "kty", "RSA",
	                  "key_ops", "verify", "encrypt", "wrapKey", "alg", "RSA-OAEP-256", "n",
	                  n64, "e", e64, "x5c", b64, "x5t", x5t, "x5t#S256", cer_cert_thumb_b64(c));
	if (info->jwk == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = CER_OK;
out:
	BN_free(n);
	BN_free(e);
	free(b64);
	free(x5t);
	free(n64);
	free(e64);
	return ret;
}

/* What the result tells of a key's certificate (keygen and package alike). */
void cer_kg_key_describe(struct cer_keygen_key *k, const struct cer_kg_cert_info *info)
{
	snprintf(k->thumb_b64url, sizeof k->thumb_b64url, "%s", info->thumb_b64url);
	snprintf(k->thumb_hex, sizeof k->thumb_hex, "%s", info->thumb_hex);
	snprintf(k->not_before, sizeof k->not_before, "%s", info->not_before);
	snprintf(k->not_after, sizeof k->not_after, "%s", info->not_after);
	k->bits = info->bits;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Every field and extension of a custodian's certificate; not yet signed. */
int cer_kg_cert_fields(EVP_PKEY *pub, const char *name, unsigned days, X509 **out)
{
	unsigned char serial[16];
	BIGNUM *sbn = NULL;
	ASN1_INTEGER *sint = NULL;
	X509 *x = X509_new();
	X509_NAME *subj = NULL;
	int ret;

	*out = NULL;
	if (x == NULL || RAND_bytes(serial, sizeof serial) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot start a certificate", name);
		goto out;
	}
	serial[0] &= 0x7f;
	serial[0] |= 0x40; /* positive, and always 16 bytes long */
	sbn = BN_bin2bn(serial, sizeof serial, NULL);
	sint = sbn != NULL ? BN_to_ASN1_INTEGER(sbn, NULL) : NULL;
	subj = X509_get_subject_name(x);
	if (sint == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, sint) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
	                               -1, 0) != 1 ||
	    X509_set_issuer_name(x, subj) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL ||
	    X509_set_pubkey(x, pub) != 1 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,keyEncipherment") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, NID_authority_key_identifier, "keyid:always") != 0) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot build the certificate", name);
		goto out;
	}
	*out = x;
	x = NULL;
	ret = CER_OK;
out:
	X509_free(x);
	ASN1_INTEGER_free(sint);
	BN_free(sbn);
	return ret;
}

int cer_kg_make_cert(EVP_PKEY *key, const char *name, unsigned days, X509 **out)
{
	X509 *x = NULL;
	int ret = cer_kg_cert_fields(key, name, days, &x);

	if (ret != CER_OK)
		return ret;
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return cer_fail(CER_EINTERNAL, "%s: cannot build the certificate", name);
	}
	if (X509_verify(x, key) != 1) {
		X509_free(x);
		return cer_fail(CER_EINTERNAL, "%s: the new key failed its self-test", name);
	}
	*out = x;
	return CER_OK;
}

int cer_kg_pem_cert(X509 *x, char **pem, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ret = CER_EINTERNAL;

	*pem = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (*pem = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*pem, data, (size_t)n);
	*len = (size_t)n;
	ret = CER_OK;
out:
	BIO_free(bio);
	return ret == CER_OK ? CER_OK : cer_fail(ret, "cannot encode a certificate");
}

/* The new certificate as the rest of the project reads certificates. */
int cer_kg_cert_of(X509 *x, const char *name, struct cer_cert **out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	int ret;

	*out = NULL;
	if (len <= 0)
		return cer_fail(CER_EINTERNAL, "%s: cannot encode the certificate", name);
	ret = cer_cert_from_der(der, (size_t)len, name, out);
	OPENSSL_free(der);
	return ret;
}
