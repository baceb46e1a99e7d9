#ifndef SDTOOL_H
#define SDTOOL_H

/*
 * Shared helpers of the test-only tools sdforge and blobopen: the HSM's side
 * of the security-domain formats (../shared/FORMAT.md), written directly on
 * OpenSSL EVP and jansson.  Deliberately independent of ceremony/'s crypto
 * and JWE code, so that the tools referee it rather than repeat its bugs.
 *
 * Test tools only: errors print "PROG: message" on stderr and exit(1)
 * (st_die); key material here is test material, but buffers holding keys are
 * still wiped with OPENSSL_cleanse before they are freed.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define ST_CEK_LEN 64
#define ST_IV_LEN 16
#define ST_TAG_LEN 32
#define ST_MASTER_LEN 32
#define ST_MAX_FILE ((size_t)16 << 20)

static const char *st_prog = "sdtool";

__attribute__((format(printf, 1, 2), noreturn)) static inline void st_die(const char *fmt, ...)
{
	va_list ap;
	unsigned long e;

	fprintf(stderr, "%s: ", st_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	e = ERR_peek_last_error();
	if (e)
		fprintf(stderr, " (%s)", ERR_reason_error_string(e));
	fputc('\n', stderr);
	exit(1);
}

static inline void *st_xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		st_die("out of memory");
	return p;
}

static inline char *st_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		st_die("out of memory");
	return p;
}

static inline void st_free_secret(void *p, size_t n)
{
	if (p)
		OPENSSL_cleanse(p, n);
	free(p);
}

/* Whole file plus a NUL byte; refuses files above ST_MAX_FILE. */
static inline uint8_t *st_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	struct stat sb;
	size_t n;

	if (!f)
		st_die("cannot open %s", path);
	if (fstat(fileno(f), &sb) || sb.st_size < 0 || (size_t)sb.st_size > ST_MAX_FILE)
		st_die("%s: not a regular file of at most 16 MiB", path);
	buf = st_xmalloc((size_t)sb.st_size + 1);
	n = fread(buf, 1, (size_t)sb.st_size, f);
	if (n != (size_t)sb.st_size || ferror(f))
		st_die("cannot read %s", path);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Writes through PATH.tmp and a rename, so a failed run leaves no file. */
static inline void st_write_file(const char *path, const void *data, size_t len)
{
	size_t tl = strlen(path) + 5;
	char *tmp = st_xmalloc(tl);
	FILE *f;

	snprintf(tmp, tl, "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		st_die("cannot create %s", tmp);
	if (fwrite(data, 1, len, f) != len || fclose(f)) {
		unlink(tmp);
		st_die("cannot write %s", tmp);
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		st_die("cannot rename %s to %s", tmp, path);
	}
	free(tmp);
}

static inline void st_write_json(const char *path, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(1));

	if (!text)
		st_die("cannot format %s", path);
	st_write_file(path, text, strlen(text));
	free(text);
}

/* --- encodings ---------------------------------------------------------- */

static inline char *st_b64(const uint8_t *data, size_t len)
{
	char *out = st_xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static inline char *st_b64url(const uint8_t *data, size_t len)
{
	char *out = st_b64(data, len);
	char *p;

	for (p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = 0;
	}
	return out;
}

static inline int st_b64_value(int c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Decodes base64 (url = 0) or base64url (url = 1), padding optional.
 * Returns NULL on any character outside the alphabet or a bad length.
 */
static inline uint8_t *st_unb64(const char *text, size_t n, int url, size_t *out_len)
{
	uint8_t *out;
	uint32_t acc = 0;
	size_t i, bits = 0, o = 0;

	while (n > 0 && text[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return NULL;
	out = st_xmalloc(n * 3 / 4 + 1);
	for (i = 0; i < n; i++) {
		int v = st_b64_value((unsigned char)text[i], url);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*out_len = o;
	return out;
}

static inline void st_hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = 0;
}

/* --- SP 800-108 counter-mode KDF with HMAC-SHA-512 (FORMAT.md section 5) -- */

static inline void st_kdf(const uint8_t *key, size_t key_len, const char *label,
                          const char *context, uint8_t *out, size_t out_len)
{
	size_t ll = strlen(label), cl = strlen(context), ml = 4 + ll + 1 + cl + 4;
	uint8_t *msg = st_xmalloc(ml), blk[64];
	uint32_t bits = (uint32_t)out_len * 8, i;
	size_t done = 0;
	unsigned int bl;

	memcpy(msg + 4, label, ll);
	msg[4 + ll] = 0;
	memcpy(msg + 5 + ll, context, cl);
	msg[ml - 4] = (uint8_t)(bits >> 24);
	msg[ml - 3] = (uint8_t)(bits >> 16);
	msg[ml - 2] = (uint8_t)(bits >> 8);
	msg[ml - 1] = (uint8_t)bits;
	for (i = 1; done < out_len; i++) {
		size_t take;

		msg[0] = (uint8_t)(i >> 24);
		msg[1] = (uint8_t)(i >> 16);
		msg[2] = (uint8_t)(i >> 8);
		msg[3] = (uint8_t)i;
		if (!HMAC(EVP_sha512(), key, (int)key_len, msg, ml, blk, &bl) || bl != 64)
			st_die("HMAC-SHA-512 failed");
		take = out_len - done < 64 ? out_len - done : 64;
		memcpy(out + done, blk, take);
		done += take;
	}
	OPENSSL_cleanse(blk, sizeof(blk));
	free(msg);
}

/* The known answer of FORMAT.md section 5; dies if the KDF disagrees. */
static inline void st_kdf_selftest(void)
{
	static const char want[] =
	        "f0ca51f6308791404bf68b56024ee7c64d6c737716f81d47e1e68b5c4e399575";
	uint8_t key[32], out[32];
	char hex[65];

	memset(key, 0x41, sizeof(key));
	st_kdf(key, sizeof(key), "label", "context", out, sizeof(out));
	st_hex(out, sizeof(out), hex);
	if (strcmp(hex, want))
		st_die("SP 800-108 KDF self-test failed: %s", hex);
}

/* --- A256CBC-HS512 (RFC 7518 section 5.2.2) ------------------------------ */

static inline void st_cbc_hmac_tag(const uint8_t cek[ST_CEK_LEN], const char *aad,
                                   const uint8_t *iv, size_t iv_len, const uint8_t *ct,
                                   size_t ct_len, uint8_t tag[ST_TAG_LEN])
{
	size_t al = strlen(aad);
	size_t ml = al + iv_len + ct_len + 8;
	uint8_t *m = st_xmalloc(ml), mac[64];
	uint64_t bits = (uint64_t)al * 8;
	unsigned int n;
	int i;

	memcpy(m, aad, al);
	memcpy(m + al, iv, iv_len);
	memcpy(m + al + iv_len, ct, ct_len);
	for (i = 0; i < 8; i++)
		m[al + iv_len + ct_len + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	if (!HMAC(EVP_sha512(), cek, 32, m, ml, mac, &n))
		st_die("HMAC-SHA-512 failed");
	memcpy(tag, mac, ST_TAG_LEN);
	OPENSSL_cleanse(mac, sizeof(mac));
	free(m);
}

/*
 * RFC 7518 appendix B.3 (AES_256_CBC_HMAC_SHA_512): the tag covers the
 * ciphertext, so checking it checks both halves.  Dies on a mismatch.
 */
static inline void st_aead_selftest(void)
{
	static const char pt[] =
	        "A cipher system must not be required to be secret, and it must "
	        "be able to fall into the hands of the enemy without inconvenience";
	static const uint8_t iv[16] = {0x1a, 0xf3, 0x8c, 0x2d, 0xc2, 0xb9, 0x6f, 0xfd,
	                               0xd8, 0x66, 0x94, 0x09, 0x23, 0x41, 0xbc, 0x04};
	static const char want[] =
	        "4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5";
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t key[64], ct[sizeof(pt) + 16], tag[ST_TAG_LEN];
	char hex[2 * ST_TAG_LEN + 1];
	int l1 = 0, l2 = 0;

	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)i;
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key + 32, iv) ||
	    !EVP_EncryptUpdate(c, ct, &l1, (const uint8_t *)pt, (int)strlen(pt)) ||
	    !EVP_EncryptFinal_ex(c, ct + l1, &l2))
		st_die("AES-256-CBC self-test failed");
	EVP_CIPHER_CTX_free(c);
	st_cbc_hmac_tag(key, "The second principle of Auguste Kerckhoffs", iv, sizeof(iv), ct,
	                (size_t)(l1 + l2), tag);
	st_hex(tag, sizeof(tag), hex);
	if (strcmp(hex, want))
		st_die("A256CBC-HS512 self-test (RFC 7518 B.3) failed: %s", hex);
}

/*
 * Builds a compact JWE: header JSON text (encoded here), an encrypted key
 * (may be empty), the plaintext encrypted under cek with the given IV.
 */
static inline char *st_jwe_encrypt(const char *header_json, const uint8_t *ek, size_t ek_len,
                                   const uint8_t cek[ST_CEK_LEN], const uint8_t iv[ST_IV_LEN],
                                   const uint8_t *pt, size_t pt_len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *ct = st_xmalloc(pt_len + 16), tag[ST_TAG_LEN];
	char *h, *k, *i, *t, *g, *out;
	int l1 = 0, l2 = 0;
	size_t ol;

	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, cek + 32, iv) ||
	    !EVP_EncryptUpdate(c, ct, &l1, pt, (int)pt_len) ||
	    !EVP_EncryptFinal_ex(c, ct + l1, &l2))
		st_die("AES-256-CBC encryption failed");
	EVP_CIPHER_CTX_free(c);
	h = st_b64url((const uint8_t *)header_json, strlen(header_json));
	st_cbc_hmac_tag(cek, h, iv, ST_IV_LEN, ct, (size_t)(l1 + l2), tag);
	k = st_b64url(ek, ek_len);
	i = st_b64url(iv, ST_IV_LEN);
	t = st_b64url(ct, (size_t)(l1 + l2));
	g = st_b64url(tag, ST_TAG_LEN);
	ol = strlen(h) + strlen(k) + strlen(i) + strlen(t) + strlen(g) + 5;
	out = st_xmalloc(ol);
	snprintf(out, ol, "%s.%s.%s.%s.%s", h, k, i, t, g);
	free(h), free(k), free(i), free(t), free(g), free(ct);
	return out;
}

/* A compact JWE split into its parts; header is the decoded header JSON. */
struct st_jwe {
	char *protected_b64; /* the header part as it appears (the AAD) */
	json_t *header;
	uint8_t *ek, *iv, *ct, *tag;
	size_t ek_len, iv_len, ct_len, tag_len;
};

/* Returns NULL and sets *why when the text is not a well-formed JWE. */
static inline struct st_jwe *st_jwe_parse(const char *text, const char **why)
{
	struct st_jwe *j = st_xmalloc(sizeof(*j));
	const char *p[6];
	uint8_t *hdr = NULL, **dst[4] = {&j->ek, &j->iv, &j->ct, &j->tag};
	size_t *lens[4] = {&j->ek_len, &j->iv_len, &j->ct_len, &j->tag_len};
	size_t hl;
	int n = 0, k;

	p[n++] = text;
	for (const char *s = text; *s; s++) {
		if (*s == '.') {
			if (n == 5) {
				*why = "more than five parts";
				goto bad;
			}
			p[n++] = s + 1;
		}
	}
	if (n != 5) {
		*why = "fewer than five parts";
		goto bad;
	}
	p[5] = text + strlen(text) + 1;
	j->protected_b64 = strndup(p[0], (size_t)(p[1] - p[0] - 1));
	hdr = st_unb64(p[0], (size_t)(p[1] - p[0] - 1), 1, &hl);
	if (!j->protected_b64 || !hdr) {
		*why = "header is not base64url";
		goto bad;
	}
	j->header = json_loadb((const char *)hdr, hl, 0, NULL);
	free(hdr);
	if (!json_is_object(j->header)) {
		*why = "header is not a JSON object";
		goto bad;
	}
	for (k = 0; k < 4; k++) {
		*dst[k] = st_unb64(p[k + 1], (size_t)(p[k + 2] - p[k + 1] - 1), 1, lens[k]);
		if (!*dst[k]) {
			*why = "a part is not base64url";
			goto bad;
		}
	}
	return j;
bad:
	json_decref(j->header);
	free(j->protected_b64), free(j->ek), free(j->iv), free(j->ct), free(j->tag), free(j);
	return NULL;
}

static inline void st_jwe_free(struct st_jwe *j)
{
	if (!j)
		return;
	json_decref(j->header);
	free(j->protected_b64), free(j->ek), free(j->iv), free(j->ct), free(j->tag), free(j);
}

static inline const char *st_jwe_field(const struct st_jwe *j, const char *name)
{
	const char *s = json_string_value(json_object_get(j->header, name));

	return s ? s : "";
}

/*
 * Authenticates and decrypts; returns the plaintext (caller wipes and frees)
 * or NULL with *why set.
 */
static inline uint8_t *st_jwe_decrypt(const struct st_jwe *j, const uint8_t cek[ST_CEK_LEN],
                                      size_t *pt_len, const char **why)
{
	EVP_CIPHER_CTX *c;
	uint8_t tag[ST_TAG_LEN], *pt;
	int l1 = 0, l2 = 0;

	if (strcmp(st_jwe_field(j, "enc"), "A256CBC-HS512")) {
		*why = "enc is not A256CBC-HS512";
		return NULL;
	}
	if (j->iv_len != ST_IV_LEN || j->tag_len != ST_TAG_LEN || j->ct_len == 0 ||
	    j->ct_len % 16) {
		*why = "IV, tag or ciphertext has the wrong length";
		return NULL;
	}
	st_cbc_hmac_tag(cek, j->protected_b64, j->iv, j->iv_len, j->ct, j->ct_len, tag);
	if (CRYPTO_memcmp(tag, j->tag, ST_TAG_LEN)) {
		*why = "authentication tag does not match";
		return NULL;
	}
	pt = st_xmalloc(j->ct_len);
	c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, cek + 32, j->iv) ||
	    !EVP_DecryptUpdate(c, pt, &l1, j->ct, (int)j->ct_len) ||
	    !EVP_DecryptFinal_ex(c, pt + l1, &l2)) {
		EVP_CIPHER_CTX_free(c);
		st_free_secret(pt, j->ct_len);
		*why = "bad padding";
		return NULL;
	}
	EVP_CIPHER_CTX_free(c);
	*pt_len = (size_t)(l1 + l2);
	return pt;
}

/* --- RSA ----------------------------------------------------------------- */

/* Sets padding for a JWE alg name; 0 if the name is not an RSA alg we know. */
static inline int st_rsa_setup(EVP_PKEY_CTX *c, const char *alg)
{
	if (!strcmp(alg, "RSA-OAEP-256"))
		return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) > 0;
	if (!strcmp(alg, "RSA-OAEP"))
		return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha1()) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha1()) > 0;
	if (!strcmp(alg, "RSA1_5"))
		return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0;
	return 0;
}

static inline uint8_t *st_rsa_wrap(EVP_PKEY *pub, const char *alg, const uint8_t *in, size_t in_len,
                                   size_t *out_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pub, NULL);
	uint8_t *out;
	size_t n = 0;

	if (!c || EVP_PKEY_encrypt_init(c) <= 0 || !st_rsa_setup(c, alg) ||
	    EVP_PKEY_encrypt(c, NULL, &n, in, in_len) <= 0)
		st_die("RSA %s setup failed", alg);
	out = st_xmalloc(n);
	if (EVP_PKEY_encrypt(c, out, &n, in, in_len) <= 0)
		st_die("RSA %s encryption failed", alg);
	EVP_PKEY_CTX_free(c);
	*out_len = n;
	return out;
}

/* NULL when the private key cannot unwrap it (wrong key, bad padding). */
static inline uint8_t *st_rsa_unwrap(EVP_PKEY *priv, const char *alg, const uint8_t *in,
                                     size_t in_len, size_t *out_len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
	uint8_t *out = NULL;
	size_t n = 0;

	if (!c || EVP_PKEY_decrypt_init(c) <= 0 || !st_rsa_setup(c, alg) ||
	    EVP_PKEY_decrypt(c, NULL, &n, in, in_len) <= 0)
		goto out;
	out = st_xmalloc(n);
	if (EVP_PKEY_decrypt(c, out, &n, in, in_len) <= 0) {
		st_free_secret(out, n);
		out = NULL;
		goto out;
	}
	*out_len = n;
out:
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return out;
}

/* A certificate, PEM or DER. */
static inline X509 *st_load_cert(const char *path)
{
	size_t len;
	uint8_t *buf = st_read_file(path, &len);
	const unsigned char *p = buf;
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!x)
		x = d2i_X509(NULL, &p, (long)len);
	free(buf);
	if (!x)
		st_die("%s: not a PEM or DER certificate", path);
	ERR_clear_error();
	return x;
}

/* base64url SHA-256 of the certificate's DER encoding (x5t#S256). */
static inline char *st_cert_x5t256(X509 *x)
{
	unsigned char *der = NULL, md[32];
	int n = i2d_X509(x, &der);

	if (n <= 0 || !EVP_Digest(der, (size_t)n, md, NULL, EVP_sha256(), NULL))
		st_die("cannot hash a certificate");
	OPENSSL_free(der);
	return st_b64url(md, sizeof(md));
}

/* Any PEM private key OpenSSL reads (PKCS#8, traditional, encrypted or not). */
static inline EVP_PKEY *st_load_private_key(const char *path, const char *pass)
{
	size_t len;
	uint8_t *buf = st_read_file(path, &len);
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)(pass ? pass : "")) : NULL;

	BIO_free(b);
	st_free_secret(buf, len);
	if (!k)
		st_die("%s: cannot load the private key", path);
	return k;
}

#endif
