#include "ceremony/token_keygen.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/crypto.h"
#include "ceremony/token_int.h"
#include "ceremony/token_unwrap.h"

static bool label_taken(const struct cer_token_raw *raw, const char *label)
{
	CK_ATTRIBUTE tmpl[1] = {{CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0;

	return cer_token_find(raw->functions, raw->session, tmpl, 1, &h, 1, &n) == CKR_OK && n > 0;
}

static int check_bits(const struct cer_token_raw *raw, const char *name, unsigned bits)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_MECHANISM_INFO mi;
	CK_RV rv = f->C_GetMechanismInfo(raw->slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &mi);

	if (rv != CKR_OK || !(mi.flags & CKF_GENERATE_KEY_PAIR))
		return cer_fail(CER_EINPUT, "%s cannot generate RSA key pairs on the token", name);
	if (bits < mi.ulMinKeySize || bits > mi.ulMaxKeySize)
		return cer_fail(CER_EINPUT, "%s generates RSA keys of %lu to %lu bits, not %u",
		                name, (unsigned long)mi.ulMinKeySize,
		                (unsigned long)mi.ulMaxKeySize, bits);
	return CER_OK;
}

int cer_token_keygen_ready(struct cer_token_key *k, unsigned bits, const char *label)
{
	struct cer_token_raw raw;
	char name[CER_TOKEN_NAME_LEN];

	cer_token_key_raw(k, &raw);
	cer_token_name(cer_token_key_info(k), name);
	if (strlen(label) >= sizeof((struct cer_token_generated *)NULL)->label)
		return cer_fail(CER_EUSAGE, "%s: label '%s' is too long", name, label);
	if (label_taken(&raw, label))
		return cer_fail(CER_EUSAGE,
		                "%s already holds an object labelled '%s': name another "
		                "with object= in the URI, or remove it",
		                name, label);
	return check_bits(&raw, name, bits);
}

int cer_token_keygen_check(struct cer_tokens *t, const char *uri, const char *pin, unsigned bits,
                           struct cer_token_info *info)
{
	struct cer_token_key *k = NULL;
	char label[128];
	int ret;

	if (info != NULL)
		memset(info, 0, sizeof *info);
	ret = cer_token_key_open_rw(t, uri, &k);
	if (ret != CER_OK)
		return ret;
	ret = cer_token_key_login(k, pin);
	if (info != NULL)
		*info = *cer_token_key_info(k);
	if (ret == CER_OK) {
		cer_token_key_uri_label(k, label, sizeof label);
		ret = cer_token_keygen_ready(k, bits, label[0] ? label : CER_TOKEN_KEYGEN_LABEL);
	}
	cer_token_key_close(k);
	return ret;
}

/* CKA_ID = SHA-1 of the modulus, written to both objects. */
static int set_id(const struct cer_token_raw *raw, const struct cer_token_generated *g,
                  uint8_t id[static CER_SHA1_LEN])
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_ATTRIBUTE a = {CKA_ID, id, CER_SHA1_LEN};
	uint8_t *n = NULL;
	size_t len = 0;
	int ret;

	if (cer_token_attr(f, raw->session, g->pub, CKA_MODULUS, &n, &len) != CKR_OK || len == 0)
		return cer_fail(CER_EINPUT, "the token does not show the new key's modulus");
	ret = cer_sha1(n, len, id);
	free(n);
	if (ret != CER_OK)
		return ret;
	if (f->C_SetAttributeValue(raw->session, g->pub, &a, 1) != CKR_OK ||
	    f->C_SetAttributeValue(raw->session, g->priv, &a, 1) != CKR_OK)
		return cer_fail(CER_EINPUT, "the token does not let the new key's CKA_ID be set");
	return CER_OK;
}

static bool attr_is(const struct cer_token_raw *raw, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                    CK_BBOOL want)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_BBOOL v = !want;
	CK_ATTRIBUTE a = {t, &v, sizeof v};

	return f->C_GetAttributeValue(raw->session, o, &a, 1) == CKR_OK && v == want;
}

int cer_token_generate(struct cer_token_key *k, unsigned bits, const char *label,
                       struct cer_token_generated *out)
{
	static CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG mbits = bits, ll = (CK_ULONG)strlen(label);
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pub[] = {
	        {CKA_TOKEN, &yes, sizeof yes},
	        {CKA_PRIVATE, &no, sizeof no},
	        {CKA_ENCRYPT, &yes, sizeof yes},
	        {CKA_VERIFY, &yes, sizeof yes},
	        {CKA_WRAP, &no, sizeof no},
	        {CKA_MODULUS_BITS, &mbits, sizeof mbits},
	        {CKA_PUBLIC_EXPONENT, e65537, sizeof e65537},
	        {CKA_LABEL, (void *)label, ll},
	};
	CK_ATTRIBUTE priv[] = {
	        {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
	        {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
	        {CKA_DECRYPT, &yes, sizeof yes},   {CKA_SIGN, &yes, sizeof yes},
	        {CKA_UNWRAP, &no, sizeof no},      {CKA_LABEL, (void *)label, ll},
	};
	struct cer_token_raw raw;
	CK_FUNCTION_LIST_PTR f;
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
	const struct cer_token_info *in = cer_token_key_info(k);
	uint8_t id[CER_SHA1_LEN];
	char name[CER_TOKEN_NAME_LEN], tok[120], obj[200], idu[3 * CER_SHA1_LEN + 1];
	CK_RV rv;
	int ret;

	memset(out, 0, sizeof *out);
	cer_token_key_raw(k, &raw);
	f = raw.functions;
	cer_token_name(in, name);
	ret = cer_token_keygen_ready(k, bits, label);
	if (ret != CER_OK)
		return ret;
	rv = f->C_GenerateKeyPair(raw.session, &mech, pub, sizeof pub / sizeof pub[0], priv,
	                          sizeof priv / sizeof priv[0], &hpub, &hpriv);
	if (rv != CKR_OK)
		return cer_fail(
		        rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ? CER_EIO
		                                                                : CER_EINPUT,
		        "%s: RSA-%u key generation failed: %s", name, bits, cer_token_rv_name(rv));
	out->pub = hpub;
	out->priv = hpriv;
	snprintf(out->label, sizeof out->label, "%s", label);
	ret = set_id(&raw, out, id);
	if (ret == CER_OK && (!attr_is(&raw, hpriv, CKA_SENSITIVE, CK_TRUE) ||
	                      !attr_is(&raw, hpriv, CKA_EXTRACTABLE, CK_FALSE) ||
	                      !attr_is(&raw, hpriv, CKA_DECRYPT, CK_TRUE)))
		ret = cer_fail(CER_EINPUT,
		               "%s made the key, but not sensitive, non-extractable "
		               "and able to decrypt: refused",
		               name);
	if (ret == CER_OK)
		ret = cer_token_key_adopt(k, hpriv);
	if (ret != CER_OK) {
		cer_fail_context(ret, name);
		cer_token_generated_destroy(k, out);
		return ret;
	}
	cer_token_hex(id, sizeof id, out->id_hex);
	cer_token_pct(in->label, strlen(in->label), tok, sizeof tok);
	cer_token_pct(label, strlen(label), obj, sizeof obj);
	cer_token_pct((const char *)id, sizeof id, idu, sizeof idu);
	snprintf(out->uri, sizeof out->uri,
	         "pkcs11:token=%s;serial=%s;object=%s;id=%s;type=private", tok, in->serial, obj,
	         idu);
	return CER_OK;
}

int cer_token_sign_cert(struct cer_token_key *k, struct x509_st *x)
{
	struct cer_token_raw raw;
	CK_FUNCTION_LIST_PTR f;
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	const X509_ALGOR *tbs_alg, *outer_alg;
	const ASN1_BIT_STRING *sig_c;
	ASN1_BIT_STRING *sig;
	unsigned char *tbs = NULL;
	uint8_t *s = NULL;
	CK_ULONG slen;
	int tbs_len, ret = CER_EINTERNAL;
	CK_RV rv;

	cer_token_key_raw(k, &raw);
	f = raw.functions;
	slen = (CK_ULONG)raw.modulus_len;
	/* The algorithm goes in both places before the to-be-signed part is encoded. */
	tbs_alg = X509_get0_tbs_sigalg(x);
	X509_get0_signature(&sig_c, &outer_alg, x);
	if (X509_ALGOR_set0((X509_ALGOR *)tbs_alg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
	                    V_ASN1_NULL, NULL) != 1 ||
	    X509_ALGOR_set0((X509_ALGOR *)outer_alg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
	                    V_ASN1_NULL, NULL) != 1 ||
	    (tbs_len = i2d_re_X509_tbs(x, &tbs)) <= 0 || (s = malloc(slen)) == NULL) {
		ret = cer_fail(CER_EINTERNAL, "cannot encode the certificate to sign");
		goto out;
	}
	rv = f->C_SignInit(raw.session, &mech, raw.key);
	if (rv == CKR_OK)
		rv = f->C_Sign(raw.session, tbs, (CK_ULONG)tbs_len, s, &slen);
	if (rv != CKR_OK) {
		ret = cer_fail(CER_EINPUT, "%s: signing the certificate on the token failed: %s",
		               cer_token_key_name(k), cer_token_rv_name(rv));
		goto out;
	}
	sig = (ASN1_BIT_STRING *)sig_c;
	if (ASN1_BIT_STRING_set(sig, s, (int)slen) != 1) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	sig->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	sig->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	if (X509_verify(x, cer_token_key_pubkey(k)) != 1) {
		ret = cer_fail(CER_EINPUT,
		               "%s: the certificate's signature from the token does not "
		               "verify with its public key",
		               cer_token_key_name(k));
		goto out;
	}
	ret = CER_OK;
out:
	OPENSSL_free(tbs);
	free(s);
	return ret;
}

int cer_token_store_cert(struct cer_token_key *k, const uint8_t *der, size_t len,
                         struct cer_token_generated *g)
{
	struct cer_token_raw raw;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	const struct cer_token_key_attrs *a = cer_token_key_attrs(k);
	uint8_t id[64];
	size_t id_len = strlen(a->id_hex) / 2, i;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned char *subj = NULL, *iss = NULL, *ser = NULL;
	int sl, il, nl, ret = CER_OK;
	CK_OBJECT_HANDLE h = 0;
	CK_RV rv;

	cer_token_key_raw(k, &raw);
	for (i = 0; i < id_len && i < sizeof id; i++) {
		unsigned v;

		sscanf(a->id_hex + 2 * i, "%2x", &v);
		id[i] = (uint8_t)v;
	}
	sl = x != NULL ? i2d_X509_NAME(X509_get_subject_name(x), &subj) : -1;
	il = x != NULL ? i2d_X509_NAME(X509_get_issuer_name(x), &iss) : -1;
	nl = x != NULL ? i2d_ASN1_INTEGER(X509_get_serialNumber(x), &ser) : -1;
	if (sl <= 0 || il <= 0 || nl <= 0) {
		ret = cer_fail(CER_EINTERNAL, "cannot encode the certificate's names");
	} else {
		CK_ATTRIBUTE t[] = {
		        {CKA_CLASS, &cls, sizeof cls},
		        {CKA_CERTIFICATE_TYPE, &ct, sizeof ct},
		        {CKA_TOKEN, &yes, sizeof yes},
		        {CKA_PRIVATE, &no, sizeof no},
		        {CKA_ID, id, (CK_ULONG)id_len},
		        {CKA_LABEL, (void *)a->label, (CK_ULONG)strlen(a->label)},
		        {CKA_SUBJECT, subj, (CK_ULONG)sl},
		        {CKA_ISSUER, iss, (CK_ULONG)il},
		        {CKA_SERIAL_NUMBER, ser, (CK_ULONG)nl},
		        {CKA_VALUE, (void *)der, (CK_ULONG)len},
		};
		CK_FUNCTION_LIST_PTR f = raw.functions;

		rv = f->C_CreateObject(raw.session, t, sizeof t / sizeof t[0], &h);
		if (rv != CKR_OK)
			ret = cer_fail(CER_EINPUT,
			               "%s: cannot store the certificate on the token: %s",
			               cer_token_key_name(k), cer_token_rv_name(rv));
		else
			g->cert = h;
	}
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	X509_free(x);
	return ret;
}

int cer_token_roundtrip(struct cer_token_key *k, const char *what)
{
	struct cer_jwe jwe;
	uint8_t *value = cer_secret_alloc(CER_CEK_LEN), *back = cer_secret_alloc(CER_CEK_LEN);
	uint8_t *ek = NULL;
	size_t ek_len = 0;
	const char *how = "";
	int ret;

	memset(&jwe, 0, sizeof jwe);
	if (value == NULL || back == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	randombytes_buf(value, CER_CEK_LEN);
	ret = cer_rsa_oaep256_wrap(cer_token_key_pubkey(k), value, CER_CEK_LEN, &ek, &ek_len);
	if (ret != CER_OK)
		goto out;
	snprintf(jwe.alg, sizeof jwe.alg, "RSA-OAEP-256");
	jwe.alg_id = CER_JWE_ALG_RSA_OAEP_256;
	jwe.ek = ek;
	jwe.ek_len = ek_len;
	ret = cer_token_unwrap_cek(k, &jwe, what, back, &how);
	if (ret == CER_OK && sodium_memcmp(value, back, CER_CEK_LEN) != 0)
		ret = cer_fail(CER_EINPUT,
		               "%s: a value encrypted to the new key does not come back "
		               "through the token",
		               what);
	else if (ret != CER_OK)
		ret = cer_fail_context(CER_EINPUT, "the new key's round trip through the token");
out:
	free(ek);
	cer_secret_free(value);
	cer_secret_free(back);
	return ret;
}

void cer_token_generated_destroy(struct cer_token_key *k, struct cer_token_generated *g)
{
	struct cer_token_raw raw;
	CK_FUNCTION_LIST_PTR f;

	cer_token_key_raw(k, &raw);
	f = raw.functions;
	if (g->cert != 0)
		f->C_DestroyObject(raw.session, g->cert);
	if (g->priv != 0)
		f->C_DestroyObject(raw.session, g->priv);
	if (g->pub != 0)
		f->C_DestroyObject(raw.session, g->pub);
	memset(g, 0, sizeof *g);
}
