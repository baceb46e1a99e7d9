#include "ceremony/attest.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"

/* Layout of FORMAT.md section 9; offsets within the quote (after the 16-byte header). */
#define OE_HEADER_LEN 16
#define QUOTE_HEADER_LEN 48
#define REPORT_BODY_LEN 384
#define QUOTE_SIGNED_LEN (QUOTE_HEADER_LEN + REPORT_BODY_LEN)
#define QUOTE_FIXED_LEN (QUOTE_SIGNED_LEN + 4)
#define SIG_LEN 64
#define POINT_LEN 64
#define SIG_FIXED_LEN (SIG_LEN + POINT_LEN + REPORT_BODY_LEN + SIG_LEN + 2)
#define CERT_DATA_HEAD 6
#define PCK_CHAIN_TYPE 5
#define MAX_CHAIN_CERTS 4

/* Within a report body. */
#define BODY_ATTRIBUTES 48
#define BODY_MRENCLAVE 64
#define BODY_MRSIGNER 128
#define BODY_ISVPRODID 256
#define BODY_ISVSVN 258
#define BODY_REPORTDATA 320
#define SGX_FLAG_DEBUG 0x02

static const uint8_t intel_qe_vendor[16] = {
        0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
        0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

/* Intel's quoting enclave: its signer (Intel's QE identity) and product id 1. */
static const uint8_t intel_qe_mrsigner[CER_SGX_MEASUREMENT_LEN] = {
        0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f,
        0x77, 0xc6, 0x8a, 0x82, 0x9a, 0x00, 0x56, 0xac, 0x8d, 0xed, 0x70,
        0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff,
};
#define INTEL_QE_PRODID 1

/* Intel SGX Root CA: P-256, valid 2018-05-21 to 2049-12-31. */
static const char sgx_root_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
        "aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
        "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
        "BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
        "A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
        "aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
        "AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
        "1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
        "uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
        "MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
        "ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
        "Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
        "KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
        "AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
        "-----END CERTIFICATE-----\n";

const char cer_sgx_root_sha256_hex[] =
        "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int malformed(const char *why)
{
	return cer_fail(CER_EAUTH, "attestation evidence malformed: %s", why);
}

int cer_sgx_evidence_parse(const uint8_t *buf, size_t len, struct cer_sgx_evidence *out)
{
	const uint8_t *q = buf + OE_HEADER_LEN, *s;
	size_t qlen, slen, rest;
	uint32_t cert_len;

	memset(out, 0, sizeof *out);
	if (len > CER_SGX_EVIDENCE_MAX)
		return malformed("larger than 64 KiB");
	if (len < OE_HEADER_LEN + QUOTE_FIXED_LEN)
		return malformed("shorter than an evidence header and a quote");
	if (le32(buf) != 1)
		return malformed("evidence header version is not 1");
	if (le32(buf + 4) != 2)
		return malformed("report type is not SGX remote (2)");
	qlen = len - OE_HEADER_LEN;
	if (le64(buf + 8) != qlen)
		return malformed("report size does not match the extension's length");
	if (le16(q) != 3)
		return malformed("quote version is not 3");
	if (le16(q + 2) != 2)
		return malformed("attestation key type is not ECDSA P-256 (2)");
	if (le32(q + 4) != 0)
		return malformed("TEE type is not SGX (0)");
	if (memcmp(q + 12, intel_qe_vendor, sizeof intel_qe_vendor) != 0)
		return malformed("QE vendor is not Intel");
	slen = le32(q + QUOTE_SIGNED_LEN);
	if (slen != qlen - QUOTE_FIXED_LEN)
		return malformed("signature data length does not match the quote's size");
	if (slen < SIG_FIXED_LEN)
		return malformed("signature data too short");
	s = q + QUOTE_FIXED_LEN;
	out->quote = q;
	out->body = q + QUOTE_HEADER_LEN;
	out->sig = s;
	out->att_key = s + SIG_LEN;
	out->qe_body = s + SIG_LEN + POINT_LEN;
	out->qe_sig = out->qe_body + REPORT_BODY_LEN;
	out->qe_auth_len = le16(out->qe_sig + SIG_LEN);
	out->qe_auth = out->qe_sig + SIG_LEN + 2;
	rest = slen - SIG_FIXED_LEN;
	if (out->qe_auth_len > rest || rest - out->qe_auth_len < CERT_DATA_HEAD)
		return malformed("QE authentication data runs past the end");
	rest -= out->qe_auth_len + CERT_DATA_HEAD;
	s = out->qe_auth + out->qe_auth_len;
	if (le16(s) != PCK_CHAIN_TYPE)
		return malformed("certification data is not a PCK certificate chain (type 5)");
	cert_len = le32(s + 2);
	if (cert_len != rest)
		return malformed("certification data size does not match what follows");
	out->pck_chain = (const char *)(s + CERT_DATA_HEAD);
	out->pck_chain_len = rest;
	if (rest > 0 && out->pck_chain[rest - 1] == '\0')
		out->pck_chain_len--;
	if (out->pck_chain_len == 0)
		return malformed("PCK certificate chain is empty");
	return CER_OK;
}

/* The pinned root (checked against its SHA-256), or a test anchor. */
static X509 *root_cert(const char *anchor_pem)
{
	const char *pem = anchor_pem != NULL ? anchor_pem : sgx_root_pem;
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	uint8_t md[CER_SHA256_LEN];
	char hex[2 * CER_SHA256_LEN + 1] = "";
	int len = x != NULL ? i2d_X509(x, &der) : -1;

	BIO_free(bio);
	ERR_clear_error();
	if (len > 0 && cer_sha256(der, (size_t)len, md) == CER_OK)
		cer_hex_encode(md, sizeof md, hex);
	OPENSSL_free(der);
	if (anchor_pem == NULL && strcmp(hex, cer_sgx_root_sha256_hex) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool only_space(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\n' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* The PEM chain, strictly: certificate blocks separated by white space only. */
static int parse_chain(const char *pem, size_t len, X509 *certs[MAX_CHAIN_CERTS], int *n)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	size_t pos = 0;

	*n = 0;
	if (memchr(pem, '\0', len) != NULL)
		return malformed("NUL byte inside the PCK certificate chain");
	while (!only_space(pem + pos, len - pos)) {
		const char *b = memmem(pem + pos, len - pos, begin, sizeof begin - 1), *e;
		size_t blen;
		BIO *bio;

		if (b == NULL || !only_space(pem + pos, (size_t)(b - (pem + pos))))
			return malformed(
			        "PCK certificate chain is not a sequence of PEM certificates");
		e = memmem(b, len - (size_t)(b - pem), end, sizeof end - 1);
		if (e == NULL)
			return malformed("PCK certificate chain has an unterminated PEM block");
		if (*n == MAX_CHAIN_CERTS)
			return malformed("PCK certificate chain has more than 4 certificates");
		blen = (size_t)(e - b) + sizeof end - 1;
		bio = BIO_new_mem_buf(b, (int)blen);
		certs[*n] = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		ERR_clear_error();
		if (certs[*n] == NULL)
			return malformed("a PCK chain certificate does not parse");
		(*n)++;
		pos = (size_t)(b - pem) + blen;
	}
	if (*n < 3)
		return malformed("PCK certificate chain has fewer than 3 certificates");
	return CER_OK;
}

static bool same_cert(X509 *a, X509 *b)
{
	return X509_cmp(a, b) == 0;
}

/* The leaf chains to the pinned root; dates are not checked (see attest.h). */
static int verify_chain(X509 *certs[], int n, const char *anchor_pem, const char *what)
{
	X509 *root = root_cert(anchor_pem);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	int i, ret;

	if (root == NULL || store == NULL || ctx == NULL || mid == NULL) {
		ret = cer_fail(CER_EINTERNAL, "the Intel SGX Root CA does not load");
		goto out;
	}
	if (!same_cert(certs[n - 1], root)) {
		ret = cer_fail(CER_EAUTH,
		               "%s: PCK certificate chain does not end in the Intel SGX "
		               "Root CA (SHA-256 %s)",
		               what, cer_sgx_root_sha256_hex);
		goto out;
	}
	for (i = 1; i < n - 1; i++)
		if (!sk_X509_push(mid, certs[i])) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
	if (X509_STORE_add_cert(store, root) != 1 ||
	    X509_STORE_CTX_init(ctx, store, certs[0], mid) != 1) {
		ret = cer_fail(CER_EINTERNAL, "OpenSSL could not set up the chain check");
		goto out;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_X509_STRICT);
	if (X509_verify_cert(ctx) != 1) {
		ret = cer_fail(CER_EAUTH,
		               "%s: PCK certificate chain does not verify up to the "
		               "Intel SGX Root CA: %s",
		               what, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	ret = CER_OK;
out:
	ERR_clear_error();
	sk_X509_free(mid);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(root);
	return ret;
}

/* ECDSA P-256 / SHA-256 over msg, signature as raw r || s. */
static bool ecdsa_ok(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t rs[SIG_LEN])
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, SIG_LEN / 2, NULL),
	       *s = BN_bin2bn(rs + SIG_LEN / 2, SIG_LEN / 2, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int der_len = -1;
	bool ok = false;

	if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL;
		der_len = i2d_ECDSA_SIG(sig, &der);
	}
	if (der_len > 0 && md != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1)
		ok = EVP_DigestVerify(md, der, (size_t)der_len, msg, len) == 1;
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ok;
}

static EVP_PKEY *p256_point(const uint8_t xy[POINT_LEN])
{
	uint8_t point[1 + POINT_LEN];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *key = NULL;

	point[0] = 0x04;
	memcpy(point + 1, xy, POINT_LEN);
	if (ctx != NULL && bld != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	/* fromdata takes any bytes; only a point on the curve may verify anything. */
	if (key != NULL) {
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

		if (check == NULL || EVP_PKEY_public_check(check) != 1) {
			EVP_PKEY_free(key);
			key = NULL;
		}
		EVP_PKEY_CTX_free(check);
	}
	ERR_clear_error();
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static bool is_p256(EVP_PKEY *key)
{
	char group[32] = "";

	return key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	       EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
	                                      NULL) == 1 &&
	       strcmp(group, "prime256v1") == 0;
}

/* REPORTDATA = SHA-256(data) || 32 zero bytes. */
static int binds(const uint8_t *body, const uint8_t digest[CER_SHA256_LEN])
{
	static const uint8_t zero[32];

	return memcmp(body + BODY_REPORTDATA, digest, CER_SHA256_LEN) == 0 &&
	       memcmp(body + BODY_REPORTDATA + CER_SHA256_LEN, zero, sizeof zero) == 0;
}

static void time_text(const ASN1_TIME *t, char out[static CER_TIME_TEXT_LEN])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, CER_TIME_TEXT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static int check_qe(const struct cer_sgx_evidence *ev, X509 *pck, const char *what)
{
	EVP_PKEY *pck_key = X509_get0_pubkey(pck);
	uint8_t *bound = NULL, md[CER_SHA256_LEN];
	int ret;

	if (!is_p256(pck_key))
		return cer_fail(CER_EAUTH, "%s: the PCK certificate's key is not ECDSA P-256",
		                what);
	if (!ecdsa_ok(pck_key, ev->qe_body, REPORT_BODY_LEN, ev->qe_sig))
		return cer_fail(CER_EAUTH,
		                "%s: the quoting enclave's report is not signed by the "
		                "PCK certificate's key",
		                what);
	bound = malloc(POINT_LEN + ev->qe_auth_len);
	if (bound == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	memcpy(bound, ev->att_key, POINT_LEN);
	memcpy(bound + POINT_LEN, ev->qe_auth, ev->qe_auth_len);
	ret = cer_sha256(bound, POINT_LEN + ev->qe_auth_len, md);
	free(bound);
	if (ret != CER_OK)
		return ret;
	if (!binds(ev->qe_body, md))
		return cer_fail(CER_EAUTH,
		                "%s: the quoting enclave's report data does not bind the "
		                "attestation key",
		                what);
	if (memcmp(ev->qe_body + BODY_MRSIGNER, intel_qe_mrsigner, sizeof intel_qe_mrsigner) != 0 ||
	    le16(ev->qe_body + BODY_ISVPRODID) != INTEL_QE_PRODID)
		return cer_fail(CER_EAUTH, "%s: the quoting enclave is not Intel's", what);
	if (ev->qe_body[BODY_ATTRIBUTES] & SGX_FLAG_DEBUG)
		return cer_fail(CER_EAUTH, "%s: the quoting enclave is a debug enclave", what);
	return CER_OK;
}

int cer_sgx_verify(const uint8_t *buf, size_t len, const uint8_t spki_sha256[static 32], time_t at,
                   const char *what, struct cer_attestation *out)
{
	return cer_sgx_verify_anchor(buf, len, spki_sha256, at, NULL, what, out);
}

int cer_sgx_verify_anchor(const uint8_t *buf, size_t len, const uint8_t spki_sha256[static 32],
                          time_t at, const char *anchor_pem, const char *what,
                          struct cer_attestation *out)
{
	struct cer_sgx_evidence ev;
	X509 *certs[MAX_CHAIN_CERTS] = {0};
	EVP_PKEY *ak = NULL;
	int i, n = 0, ret;

	memset(out, 0, sizeof *out);
	ret = cer_sgx_evidence_parse(buf, len, &ev);
	if (ret != CER_OK)
		return cer_fail_context(ret, what);
	ret = parse_chain(ev.pck_chain, ev.pck_chain_len, certs, &n);
	if (ret != CER_OK) {
		cer_fail_context(ret, what);
		goto out;
	}
	ret = verify_chain(certs, n, anchor_pem, what);
	if (ret == CER_OK)
		ret = check_qe(&ev, certs[0], what);
	if (ret != CER_OK)
		goto out;
	ak = p256_point(ev.att_key);
	if (ak == NULL || !ecdsa_ok(ak, ev.quote, QUOTE_SIGNED_LEN, ev.sig)) {
		ret = cer_fail(CER_EAUTH, "%s: the quote is not signed by its attestation key",
		               what);
		goto out;
	}
	if (ev.body[BODY_ATTRIBUTES] & SGX_FLAG_DEBUG) {
		ret = cer_fail(CER_EAUTH,
		               "%s: the quote comes from a debug enclave, whose memory "
		               "its host can read",
		               what);
		goto out;
	}
	if (!binds(ev.body, spki_sha256)) {
		ret = cer_fail(CER_EAUTH,
		               "%s: the quote's report data does not bind this "
		               "certificate's public key (a copied attestation?)",
		               what);
		goto out;
	}
	out->state = CER_ATTEST_VERIFIED;
	memcpy(out->mrenclave, ev.body + BODY_MRENCLAVE, sizeof out->mrenclave);
	memcpy(out->mrsigner, ev.body + BODY_MRSIGNER, sizeof out->mrsigner);
	out->isv_prod_id = le16(ev.body + BODY_ISVPRODID);
	out->isv_svn = le16(ev.body + BODY_ISVSVN);
	out->qe_svn = le16(ev.quote + 8);
	out->pce_svn = le16(ev.quote + 10);
	time_text(X509_get0_notBefore(certs[0]), out->pck_not_before);
	time_text(X509_get0_notAfter(certs[0]), out->pck_not_after);
	out->pck_valid_at = X509_cmp_time(X509_get0_notBefore(certs[0]), &at) < 0 &&
	                    X509_cmp_time(X509_get0_notAfter(certs[0]), &at) > 0;
	ret = CER_OK;
out:
	if (ret != CER_OK)
		memset(out, 0, sizeof *out);
	EVP_PKEY_free(ak);
	for (i = 0; i < n; i++)
		X509_free(certs[i]);
	return ret;
}

int cer_attest_cert(const struct cer_cert *cert, time_t at, struct cer_attestation *out)
{
	const uint8_t *data;
	size_t len;
	bool critical;
	char what[300];

	memset(out, 0, sizeof *out);
	if (!cer_cert_extension(cert, CER_ATTEST_OID, &critical, &data, &len))
		return CER_OK;
	snprintf(what, sizeof what, "exchange key %s: attestation", cer_cert_source(cert));
	if (critical)
		return cer_fail(CER_EAUTH,
		                "%s: the extension is marked critical, unlike the "
		                "service's",
		                what);
	return cer_sgx_verify(data, len, cer_cert_spki_sha256(cert), at, what, out);
}
