#include "ceremony/keys.h"

#include <dirent.h>
#include <limits.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"

#define KEY_FILE_MAX ((size_t)1 << 20)

static const char no_pem_cert[] = "no PEM certificate block in the file";
static const char not_x509[] = "not an X.509 certificate";

struct cer_cert {
	X509 *x509;
	EVP_PKEY *pub;
	uint8_t thumb[CER_THUMB_LEN];
	char thumb_b64[CER_THUMB_B64_LEN];
	uint8_t spki_sha256[CER_THUMB_LEN];
	char subject[256];
	char common_name[256];
	char not_before[CER_TIME_TEXT_LEN];
	char not_after[CER_TIME_TEXT_LEN];
	char serial_hex[2 * 20 + 1];
	uint8_t *der;
	size_t der_len;
	char *source;
};

struct cer_privkey {
	EVP_PKEY *pkey;
	uint8_t *cert_der; /* from PKCS#12, public */
	size_t cert_der_len;
};

void cer_cert_free(struct cer_cert *cert)
{
	if (cert == NULL)
		return;
	X509_free(cert->x509);
	EVP_PKEY_free(cert->pub);
	OPENSSL_free(cert->der);
	free(cert->source);
	free(cert);
}

static void time_text(const ASN1_TIME *t, char out[static CER_TIME_TEXT_LEN])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, CER_TIME_TEXT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

static void common_name(X509 *x509, char out[static 256])
{
	X509_NAME *subj = X509_get_subject_name(x509);
	int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int len;

	out[0] = '\0';
	if (idx < 0)
		return;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
	if (len > 0)
		snprintf(out, 256, "%.*s", len, (const char *)utf8);
	OPENSSL_free(utf8);
}

static void describe(struct cer_cert *c)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(c->x509);

	X509_NAME_oneline(X509_get_subject_name(c->x509), c->subject, sizeof c->subject);
	common_name(c->x509, c->common_name);
	time_text(X509_get0_notBefore(c->x509), c->not_before);
	time_text(X509_get0_notAfter(c->x509), c->not_after);
	if (serial != NULL && serial->length > 0 && serial->length <= 20)
		cer_hex_encode(serial->data, (size_t)serial->length, c->serial_hex);
}

static int spki_hash(EVP_PKEY *pub, const char *what, uint8_t out[static CER_THUMB_LEN])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pub, &der);
	int ret;

	if (len <= 0)
		return cer_fail(CER_EINPUT, "%s: certificate has no usable public key", what);
	ret = cer_sha256(der, (size_t)len, out);
	OPENSSL_free(der);
	return ret;
}

static int cert_finish(X509 *x509, const char *what, struct cer_cert **out)
{
	struct cer_cert *c = calloc(1, sizeof *c);
	char *b64;
	int len, ret;

	if (c == NULL) {
		X509_free(x509);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	c->x509 = x509;
	c->pub = X509_get_pubkey(x509);
	c->source = strdup(what != NULL ? what : "");
	len = i2d_X509(x509, &c->der);
	if (c->pub == NULL || len <= 0 || c->source == NULL) {
		ret = cer_fail(CER_EINPUT, "%s: certificate has no usable public key", what);
		goto out;
	}
	c->der_len = (size_t)len;
	ret = cer_sha256(c->der, c->der_len, c->thumb);
	if (ret == CER_OK)
		ret = spki_hash(c->pub, what, c->spki_sha256);
	if (ret != CER_OK)
		goto out;
	b64 = cer_b64url_encode(c->thumb, CER_THUMB_LEN);
	if (b64 == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(c->thumb_b64, sizeof c->thumb_b64, "%s", b64);
	free(b64);
	describe(c);
	*out = c;
	c = NULL;
	ret = CER_OK;
out:
	cer_cert_free(c);
	return ret;
}

/* Exactly one DER certificate: trailing bytes are refused. */
static int cert_parse_der(const uint8_t *der, size_t len, const char *what, const char *bad,
                          struct cer_cert **out)
{
	const unsigned char *p = der;
	X509 *x509;

	*out = NULL;
	x509 = len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (x509 != NULL && p != der + len) {
		X509_free(x509);
		x509 = NULL;
	}
	if (x509 == NULL)
		return cer_fail(CER_EINPUT, "%s: %s", what, bad);
	return cert_finish(x509, what, out);
}

int cer_cert_from_der(const uint8_t *der, size_t len, const char *what, struct cer_cert **out)
{
	return cert_parse_der(der, len, what, not_x509, out);
}

/* The base64 body of the first PEM block labelled `label`, decoded. */
static uint8_t *pem_block(const uint8_t *text, size_t len, const char *label, size_t *der_len)
{
	char begin[64], end[64];
	const uint8_t *b, *e;
	size_t blen, elen;

	blen = (size_t)snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
	elen = (size_t)snprintf(end, sizeof end, "-----END %s-----", label);
	b = memmem(text, len, begin, blen);
	if (b == NULL)
		return NULL;
	b += blen;
	e = memmem(b, len - (size_t)(b - text), end, elen);
	if (e == NULL)
		return NULL;
	return cer_b64_decode((const char *)b, (size_t)(e - b), der_len);
}

/* PEM (the first CERTIFICATE block) or DER; no_pem and bad_der say what is wrong. */
static int cert_from_text(const uint8_t *buf, size_t len, const char *what, const char *no_pem,
                          const char *bad_der, struct cer_cert **out)
{
	uint8_t *der;
	size_t der_len;
	int ret;

	*out = NULL;
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		der = pem_block(buf, len, "CERTIFICATE", &der_len);
		if (der == NULL)
			return cer_fail(CER_EINPUT, "%s: %s", what, no_pem);
		ret = cert_parse_der(der, der_len, what, bad_der, out);
		free(der);
		return ret;
	}
	return cert_parse_der(buf, len, what, bad_der, out);
}

typedef int cert_parser(const uint8_t *buf, size_t len, const char *path,
                        struct cer_cert **out);

/* Reads path (at most KEY_FILE_MAX bytes) and hands its bytes to parse. */
static int load_with(const char *path, cert_parser *parse, struct cer_cert **out)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	*out = NULL;
	ret = cer_file_read(path, KEY_FILE_MAX, &buf, &len);
	if (ret != CER_OK)
		return ret;
	ret = parse(buf, len, path, out);
	free(buf);
	return ret;
}

static int cert_file_parse(const uint8_t *buf, size_t len, const char *path,
                           struct cer_cert **out)
{
	static const char bad[] = "not a PEM or DER X.509 certificate";

	return cert_from_text(buf, len, path, bad, bad, out);
}

int cer_cert_load(const char *path, struct cer_cert **out)
{
	return load_with(path, cert_file_parse, out);
}

const uint8_t *cer_cert_thumb(const struct cer_cert *cert)
{
	return cert->thumb;
}

const char *cer_cert_thumb_b64(const struct cer_cert *cert)
{
	return cert->thumb_b64;
}

const uint8_t *cer_cert_spki_sha256(const struct cer_cert *cert)
{
	return cert->spki_sha256;
}

bool cer_cert_extension(const struct cer_cert *cert, const char *oid, bool *critical,
                        const uint8_t **data, size_t *len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int idx = obj != NULL ? X509_get_ext_by_OBJ(cert->x509, obj, -1) : -1;
	X509_EXTENSION *ext = idx >= 0 ? X509_get_ext(cert->x509, idx) : NULL;
	const ASN1_OCTET_STRING *v = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;

	ASN1_OBJECT_free(obj);
	*data = NULL;
	*len = 0;
	*critical = false;
	if (v == NULL)
		return false;
	*critical = X509_EXTENSION_get_critical(ext) != 0;
	*data = ASN1_STRING_get0_data(v);
	*len = (size_t)ASN1_STRING_length(v);
	return true;
}

const char *cer_cert_subject(const struct cer_cert *cert)
{
	return cert->subject;
}

unsigned cer_cert_rsa_bits(const struct cer_cert *cert)
{
	if (EVP_PKEY_get_base_id(cert->pub) != EVP_PKEY_RSA)
		return 0;
	return (unsigned)EVP_PKEY_get_bits(cert->pub);
}

struct evp_pkey_st *cer_cert_pubkey(const struct cer_cert *cert)
{
	return cert->pub;
}

const char *cer_cert_source(const struct cer_cert *cert)
{
	return cert->source;
}

const uint8_t *cer_cert_der(const struct cer_cert *cert, size_t *len)
{
	*len = cert->der_len;
	return cert->der;
}

const char *cer_cert_common_name(const struct cer_cert *cert)
{
	return cert->common_name;
}

const char *cer_cert_not_before(const struct cer_cert *cert)
{
	return cert->not_before;
}

const char *cer_cert_not_after(const struct cer_cert *cert)
{
	return cert->not_after;
}

const char *cer_cert_serial_hex(const struct cer_cert *cert)
{
	return cert->serial_hex;
}

/* Wrapping and exchange keys alike: RSA of CER_MIN_RSA_BITS or more. */
static int check_rsa(const EVP_PKEY *pkey, const char *kind, const char *path)
{
	int bits;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return cer_fail(CER_EINPUT, "%s %s: not an RSA key", kind, path);
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < CER_MIN_RSA_BITS)
		return cer_fail(CER_EINPUT, "%s %s: RSA key of %d bits is too weak (at least %d "
		                "required)", kind, path, bits, CER_MIN_RSA_BITS);
	return CER_OK;
}

static bool bn_field_equals(json_t *jwk, const char *field, const EVP_PKEY *pub,
                            const char *param)
{
	json_t *v = json_object_get(jwk, field);
	BIGNUM *a = NULL, *b = NULL;
	uint8_t *raw;
	size_t len = 0;
	bool eq;

	if (v == NULL)
		return true;
	if (!json_is_string(v))
		return false;
	raw = cer_b64url_decode(json_string_value(v), json_string_length(v), &len);
	if (raw == NULL)
		return false;
	a = BN_bin2bn(raw, (int)len, NULL);
	eq = a != NULL && EVP_PKEY_get_bn_param(pub, param, &b) == 1 && BN_cmp(a, b) == 0;
	BN_free(a);
	BN_free(b);
	free(raw);
	return eq;
}

/* A JWK that carries n and e must carry those of its x5c certificate. */
static bool jwk_matches_cert(json_t *jwk, const struct cer_cert *c)
{
	if (EVP_PKEY_get_base_id(c->pub) != EVP_PKEY_RSA)
		return true;
	return bn_field_equals(jwk, "n", c->pub, OSSL_PKEY_PARAM_RSA_N) &&
	       bn_field_equals(jwk, "e", c->pub, OSSL_PKEY_PARAM_RSA_E);
}

static int cert_from_jwk(json_t *jwk, const char *path, struct cer_cert **out)
{
	json_t *x5c = json_object_get(jwk, "x5c");
	json_t *first = json_array_get(x5c, 0);
	uint8_t *der;
	size_t der_len;
	int ret;

	if (!json_is_array(x5c) || !json_is_string(first))
		return cer_fail(CER_EINPUT, "%s: JWK has no certificate (\"x5c\" missing or empty)",
		                path);
	der = cer_b64_decode(json_string_value(first), json_string_length(first), &der_len);
	if (der == NULL)
		return cer_fail(CER_EINPUT, "%s: JWK \"x5c\"[0] is not base64", path);
	ret = cer_cert_from_der(der, der_len, path, out);
	free(der);
	if (ret == CER_OK && !jwk_matches_cert(jwk, *out)) {
		cer_cert_free(*out);
		*out = NULL;
		ret = cer_fail(CER_EINPUT, "%s: the JWK's \"n\"/\"e\" are not the public key of its "
		               "certificate", path);
	}
	return ret;
}

static int exchange_from_json(const uint8_t *buf, size_t len, const char *path,
                              struct cer_cert **out)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)buf, len, 0, &jerr);
	json_t *tk, *inner = NULL;
	int ret;

	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return cer_fail(CER_EINPUT, "%s: not valid JSON (line %d: %s)", path, jerr.line,
		                jerr.text);
	}
	tk = json_object_get(root, "transfer_key");
	if (tk == NULL) {
		ret = cert_from_jwk(root, path, out);
	} else if (json_is_object(tk)) {
		ret = cert_from_jwk(tk, path, out);
	} else if (json_is_string(tk)) {
		const char *s = json_string_value(tk);

		if (strstr(s, "-----BEGIN") != NULL) {
			ret = cert_from_text((const uint8_t *)s, json_string_length(tk), path,
			                     no_pem_cert, not_x509, out);
		} else {
			inner = json_loads(s, 0, &jerr);
			ret = json_is_object(inner)
			      ? cert_from_jwk(inner, path, out)
			      : cer_fail(CER_EINPUT, "%s: \"transfer_key\" is neither a JWK nor PEM",
			                 path);
		}
	} else {
		ret = cer_fail(CER_EINPUT, "%s: \"transfer_key\" is not a string", path);
	}
	json_decref(inner);
	json_decref(root);
	return ret;
}

int cer_exchange_key_load(const char *path, struct cer_cert **out)
{
	return load_with(path, cer_exchange_key_parse, out);
}

int cer_exchange_key_parse(const uint8_t *buf, size_t len, const char *path,
                           struct cer_cert **out)
{
	struct cer_cert *c = NULL;
	size_t i;
	int ret;

	*out = NULL;
	if (len > KEY_FILE_MAX)
		return cer_fail(CER_EINPUT, "exchange key %s: too large (%zu bytes)", path, len);
	for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
	                        buf[i] == '\n'); i++)
		;
	if (i < len && buf[i] == '{')
		ret = exchange_from_json(buf, len, path, &c);
	else
		ret = cert_from_text(buf, len, path, no_pem_cert, not_x509, &c);
	if (ret != CER_OK)
		return cer_fail_context(ret, "exchange key");
	ret = check_rsa(c->pub, "exchange key", path);
	if (ret != CER_OK)
		goto out;
	*out = c;
	c = NULL;
	ret = CER_OK;
out:
	cer_cert_free(c);
	return ret;
}

void cer_privkey_free(struct cer_privkey *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	OPENSSL_free(key->cert_der);
	free(key);
}

struct evp_pkey_st *cer_privkey_pkey(const struct cer_privkey *key)
{
	return key->pkey;
}

struct pass_cb {
	const char *pass;
	bool asked;
	size_t too_long; /* the password's length when over the limit */
	int limit;
};

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_cb *cb = u;
	size_t n;

	(void)rwflag;
	cb->asked = true;
	if (cb->pass == NULL)
		return -1;
	n = strlen(cb->pass);
	if (size < 0 || n > (size_t)size) {
		cb->too_long = n;
		cb->limit = size;
		return -1;
	}
	memcpy(buf, cb->pass, n);
	return (int)n;
}

static int load_pem_key(const uint8_t *buf, size_t len, const char *path, const char *pass,
                        EVP_PKEY **pkey, enum cer_key_load *why)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	struct pass_cb cb = { pass, false, 0, 0 };

	if (bio == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	*pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, &cb);
	BIO_free(bio);
	ERR_clear_error();
	if (*pkey != NULL)
		return CER_OK;
	if (cb.asked && pass == NULL) {
		*why = CER_KEY_NEEDS_PASSWORD;
		return cer_fail(CER_EUSAGE, "key %s is encrypted and needs a password", path);
	}
	if (cb.too_long > 0) {
		*why = CER_KEY_BAD_PASSWORD;
		return cer_fail(CER_EINPUT, "key %s: the password is %zu bytes, longer than the "
		                "limit of %d bytes for PEM keys", path, cb.too_long, cb.limit);
	}
	if (cb.asked) {
		*why = CER_KEY_BAD_PASSWORD;
		return cer_fail(CER_EAUTH, "key %s: wrong passphrase", path);
	}
	*why = CER_KEY_NOT_A_KEY;
	return cer_fail(CER_EINPUT, "key %s: not a PEM private key", path);
}

static int load_p12(PKCS12 *p12, const char *path, const char *pass, struct cer_privkey *k,
                    enum cer_key_load *why)
{
	X509 *cert = NULL;
	const char *use = pass;
	int ret;

	if (PKCS12_mac_present(p12)) {
		if (pass == NULL) {
			if (PKCS12_verify_mac(p12, "", 0) == 1)
				use = "";
			else if (PKCS12_verify_mac(p12, NULL, 0) == 1)
				use = NULL;
			else {
				*why = CER_KEY_NEEDS_PASSWORD;
				return cer_fail(CER_EUSAGE, "key %s is encrypted and needs a password",
				                path);
			}
		} else if (PKCS12_verify_mac(p12, pass, -1) != 1) {
			*why = CER_KEY_BAD_PASSWORD;
			return cer_fail(CER_EAUTH, "key %s: wrong passphrase", path);
		}
	}
	if (PKCS12_parse(p12, use, &k->pkey, &cert, NULL) != 1 || k->pkey == NULL) {
		ERR_clear_error();
		*why = CER_KEY_BAD_PASSWORD;
		ret = cer_fail(CER_EAUTH, "key %s: cannot open the PKCS#12 file with this password",
		               path);
		goto out;
	}
	if (cert != NULL) {
		int len = i2d_X509(cert, &k->cert_der);

		if (len <= 0) {
			ret = cer_fail(CER_EINPUT, "key %s: bad certificate inside", path);
			goto out;
		}
		k->cert_der_len = (size_t)len;
	}
	ret = CER_OK;
out:
	X509_free(cert);
	return ret;
}

int cer_privkey_parse(const uint8_t *buf, size_t len, const char *path, const char *password,
                      struct cer_privkey **out, enum cer_key_load *why)
{
	struct cer_privkey *k = NULL;
	PKCS12 *p12 = NULL;
	const unsigned char *p;
	int ret;

	*out = NULL;
	*why = CER_KEY_NOT_A_KEY;
	if (len > KEY_FILE_MAX)
		return cer_fail(CER_EINPUT, "key %s: larger than %zu bytes, not a key", path,
		                KEY_FILE_MAX);
	k = calloc(1, sizeof *k);
	if (k == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL) {
		ret = load_pem_key(buf, len, path, password, &k->pkey, why);
	} else {
		p = buf;
		p12 = d2i_PKCS12(NULL, &p, (long)len);
		if (p12 != NULL) {
			ret = load_p12(p12, path, password, k, why);
		} else {
			p = buf;
			k->pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
			ret = k->pkey != NULL
			      ? CER_OK
			      : cer_fail(CER_EINPUT, "key %s: not a private key (PEM, PKCS#12 or DER)",
			                 path);
		}
		ERR_clear_error();
	}
	if (ret != CER_OK)
		goto out;
	*why = CER_KEY_UNSUPPORTED;
	ret = check_rsa(k->pkey, "key", path);
	if (ret != CER_OK)
		goto out;
	*why = CER_KEY_LOADED;
	*out = k;
	k = NULL;
	ret = CER_OK;
out:
	PKCS12_free(p12);
	cer_privkey_free(k);
	return ret;
}

int cer_privkey_load(const char *path, const char *password, struct cer_privkey **out,
                     enum cer_key_load *why)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	*why = CER_KEY_NOT_A_KEY;
	ret = cer_file_read_secret(path, KEY_FILE_MAX, &buf, &len);
	if (ret != CER_OK) {
		*why = ret == CER_EIO ? CER_KEY_UNREADABLE : CER_KEY_NOT_A_KEY;
		return cer_fail_context(ret, "key");
	}
	ret = cer_privkey_parse(buf, len, path, password, out, why);
	cer_secret_free(buf);
	return ret;
}

int cer_key_cert_path(const char *key_path, char *out, size_t size)
{
	const char *slash = strrchr(key_path, '/');
	const char *base = slash != NULL ? slash + 1 : key_path;
	const char *dot = strrchr(base + strspn(base, "."), '.');
	size_t stem = dot != NULL ? (size_t)(dot - key_path) : strlen(key_path);

	if (size < sizeof ".cer" || stem > size - sizeof ".cer")
		return cer_fail(CER_EUSAGE, "%s: path too long", key_path);
	memcpy(out, key_path, stem);
	memcpy(out + stem, ".cer", sizeof ".cer");
	return CER_OK;
}

static char *sibling_cer_path(const char *key_path)
{
	size_t size = strlen(key_path) + sizeof ".cer";
	char *p = malloc(size);

	if (p != NULL && cer_key_cert_path(key_path, p, size) != CER_OK) {
		free(p);
		p = NULL;
	}
	return p;
}

static bool cert_name_like(const char *name)
{
	static const char *const ext[] = { ".cer", ".crt", ".pem", ".der" };
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (n > 4 && strcmp(name + n - 4, ext[i]) == 0)
			return true;
	return false;
}

/*
 * Calls match(cert, ctx) for each certificate file in dir until it returns
 * true; the matching certificate is returned in *found.
 */
static int scan_certs_dir(const char *dir, bool (*match)(const struct cer_cert *, const void *),
                          const void *ctx, struct cer_cert **found)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct cer_cert *c;
	char *path;

	*found = NULL;
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !cert_name_like(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			break;
		c = NULL;
		if (cer_cert_load(path, &c) == CER_OK && match(c, ctx)) {
			*found = c;
			free(path);
			break;
		}
		cer_cert_free(c);
		free(path);
	}
	closedir(d);
	cer_clear_error();
	return CER_OK;
}

static bool match_pubkey(const struct cer_cert *c, const void *ctx)
{
	return EVP_PKEY_eq(c->pub, (const EVP_PKEY *)ctx) == 1;
}

static bool match_thumb(const struct cer_cert *c, const void *ctx)
{
	return memcmp(c->thumb, ctx, CER_THUMB_LEN) == 0;
}

static int find_path(const char *certs_dir, bool (*match)(const struct cer_cert *, const void *),
                     const void *ctx, char **path)
{
	struct cer_cert *c = NULL;
	int ret;

	*path = NULL;
	ret = scan_certs_dir(certs_dir, match, ctx, &c);
	if (ret == CER_OK && c != NULL) {
		*path = strdup(c->source);
		if (*path == NULL)
			ret = cer_fail(CER_EINTERNAL, "out of memory");
	}
	cer_cert_free(c);
	return ret;
}

int cer_certs_dir_find(const char *certs_dir, const uint8_t thumb[static CER_THUMB_LEN],
                       char **path)
{
	return find_path(certs_dir, match_thumb, thumb, path);
}

int cer_certs_dir_find_pubkey(const char *certs_dir, const struct cer_cert *cert, char **path)
{
	return find_path(certs_dir, match_pubkey, cert->pub, path);
}

int cer_privkey_cert(const struct cer_privkey *key, const char *key_path,
                     const char *certs_dir, struct cer_cert **out)
{
	struct cer_cert *c = NULL;
	char *sib = NULL;
	bool mismatch = false;
	int ret;

	*out = NULL;
	if (key->cert_der != NULL) {
		ret = cer_cert_from_der(key->cert_der, key->cert_der_len, key_path, &c);
		if (ret == CER_OK && EVP_PKEY_eq(c->pub, key->pkey) == 1) {
			*out = c;
			return CER_OK;
		}
		cer_cert_free(c);
		c = NULL;
	}
	sib = sibling_cer_path(key_path);
	if (sib == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (cer_path_exists(sib)) {
		ret = cer_cert_load(sib, &c);
		if (ret != CER_OK)
			goto out;
		if (EVP_PKEY_eq(c->pub, key->pkey) == 1) {
			*out = c;
			c = NULL;
			goto out;
		}
		mismatch = true;
		cer_cert_free(c);
		c = NULL;
	}
	if (certs_dir != NULL) {
		ret = scan_certs_dir(certs_dir, match_pubkey, key->pkey, &c);
		if (ret != CER_OK)
			goto out;
		if (c != NULL) {
			*out = c;
			c = NULL;
			goto out;
		}
	}
	if (mismatch)
		ret = cer_fail(CER_EINPUT, "key %s: certificate %s does not belong to this key%s%s",
		               key_path, sib, certs_dir ? " and none in " : "",
		               certs_dir ? certs_dir : "");
	else
		ret = cer_fail(CER_EINPUT, "key %s: certificate not found (looked for %s%s%s)",
		               key_path, sib, certs_dir ? " and in " : "", certs_dir ? certs_dir : "");
out:
	if (*out != NULL)
		ret = CER_OK;
	free(sib);
	cer_cert_free(c);
	return ret;
}

int cer_rsa_number(const EVP_PKEY *key, const char *name, BIGNUM **out)
{
	OSSL_PARAM *all = NULL;
	const OSSL_PARAM *p;
	int ret = -1;

	/* EVP_PKEY_todata builds the private numbers in the secure heap. */
	*out = BN_secure_new();
	if (*out != NULL && EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &all) == 1 &&
	    (p = OSSL_PARAM_locate_const(all, name)) != NULL && OSSL_PARAM_get_BN(p, out) == 1)
		ret = 0;
	OSSL_PARAM_free(all);
	if (ret != 0) {
		BN_clear_free(*out);
		*out = NULL;
	}
	return ret;
}

/*
 * n = pq, ed = 1 mod p - 1 and mod q - 1, dP = d mod p - 1, dQ = d mod q - 1,
 * q qInv = 1 mod p.  Unlike EVP_PKEY_pairwise_check this does not test p and
 * q for primality again (keygen has just drawn them from OpenSSL's prime
 * generator), which would cost more than generating a key.
 */
static int rsa_values_check(EVP_PKEY *key)
{
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	BIGNUM *v[8] = { NULL };
	BIGNUM *t, *p1, *q1;
	BN_CTX *bn = BN_CTX_secure_new();
	int ret = CER_EINTERNAL;
	int i;

	if (bn == NULL)
		goto out;
	for (i = 0; i < 8; i++)
		if (cer_rsa_number(key, names[i], &v[i]) != 0)
			goto out;
	BN_CTX_start(bn);
	t = BN_CTX_get(bn);
	p1 = BN_CTX_get(bn);
	q1 = BN_CTX_get(bn);
	if (q1 == NULL || BN_sub(p1, v[3], BN_value_one()) != 1 ||
	    BN_sub(q1, v[4], BN_value_one()) != 1)
		goto end;
	ret = CER_EINPUT;
	if (BN_mul(t, v[3], v[4], bn) != 1 || BN_cmp(t, v[0]) != 0 ||
	    BN_mod_mul(t, v[1], v[2], p1, bn) != 1 || !BN_is_one(t) ||
	    BN_mod_mul(t, v[1], v[2], q1, bn) != 1 || !BN_is_one(t) ||
	    BN_mod(t, v[2], p1, bn) != 1 || BN_cmp(t, v[5]) != 0 ||
	    BN_mod(t, v[2], q1, bn) != 1 || BN_cmp(t, v[6]) != 0 ||
	    BN_mod_mul(t, v[4], v[7], v[3], bn) != 1 || !BN_is_one(t))
		goto end;
	ret = CER_OK;
end:
	BN_CTX_end(bn);
out:
	for (i = 0; i < 8; i++)
		BN_clear_free(v[i]);
	BN_CTX_free(bn);
	return ret;
}

int cer_rsa_pairwise_check(struct evp_pkey_st *key, const char *name)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int size = EVP_PKEY_get_size(key);
	uint8_t *msg = cer_secret_alloc(CER_PAIRWISE_LEN);
	uint8_t *back = size > 0 ? cer_secret_alloc((size_t)size) : NULL;
	uint8_t *ct = NULL;
	size_t ct_len = 0, back_len = (size_t)size;
	int ret;

	if (ctx == NULL || msg == NULL || back == NULL) {
		ret = cer_fail(CER_EINTERNAL, "%s: out of memory for the pairwise check", name);
		goto out;
	}
	ret = rsa_values_check(key);
	if (ret != CER_OK) {
		ret = ret == CER_EINPUT
		      ? cer_fail(CER_EINPUT, "%s: the RSA key pair is inconsistent (its private "
		                 "values do not agree with n and e)", name)
		      : cer_fail(CER_EINTERNAL, "%s: cannot read the RSA key's values", name);
		goto out;
	}
	if (RAND_bytes(msg, CER_PAIRWISE_LEN) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: no random bytes for the pairwise check", name);
		goto out;
	}
	ret = cer_rsa_oaep256_wrap(key, msg, CER_PAIRWISE_LEN, &ct, &ct_len);
	if (ret != CER_OK) {
		ret = cer_fail_context(ret, name);
		goto out;
	}
	if (EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: RSA-OAEP-256 setup failed", name);
		goto out;
	}
	if (EVP_PKEY_decrypt(ctx, back, &back_len, ct, ct_len) != 1 ||
	    back_len != CER_PAIRWISE_LEN || CRYPTO_memcmp(back, msg, CER_PAIRWISE_LEN) != 0) {
		ret = cer_fail(CER_EINPUT, "%s: the RSA key pair is inconsistent (an RSA-OAEP-256 "
		               "value encrypted to it does not decrypt back)", name);
		goto out;
	}
	ret = CER_OK;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	free(ct);
	cer_secret_free(back);
	cer_secret_free(msg);
	return ret;
}
