#include "ceremony/token_unwrap.h"

#include <sodium.h>
#include <string.h>

#include "ceremony/rsa_pad.h"
#include "ceremony/token_int.h"

static bool has_decrypt(const struct cer_token_raw *raw, CK_MECHANISM_TYPE m)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_MECHANISM_INFO info;

	return f->C_GetMechanismInfo(raw->slot, m, &info) == CKR_OK && (info.flags & CKF_DECRYPT);
}

static bool gone(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_DEVICE_ERROR || rv == CKR_USER_NOT_LOGGED_IN;
}

/* One C_DecryptInit + C_Decrypt into out (cap bytes); *init_rv gets C_DecryptInit's result. */
static CK_RV decrypt(const struct cer_token_raw *raw, CK_MECHANISM *mech, const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t cap, size_t *out_len, CK_RV *init_rv)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_ULONG len = (CK_ULONG)cap;
	CK_RV rv;

	*out_len = 0;
	*init_rv = f->C_DecryptInit(raw->session, mech, raw->key);
	if (*init_rv != CKR_OK)
		return *init_rv;
	rv = f->C_Decrypt(raw->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, out, &len);
	if (rv == CKR_OK)
		*out_len = (size_t)len;
	return rv;
}

/* CKM_RSA_X_509: the k-byte decryption, right-aligned in em. */
static int raw_rsa(const struct cer_token_raw *raw, const struct cer_jwe *jwe, const char *what,
                   uint8_t *em, size_t k)
{
	CK_MECHANISM mech = {CKM_RSA_X_509, NULL, 0};
	uint8_t *in = cer_secret_alloc(k), *out = cer_secret_alloc(k);
	size_t out_len = 0;
	CK_RV rv, init_rv;
	int ret;

	if (in == NULL || out == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(in + (k - jwe->ek_len), jwe->ek, jwe->ek_len);
	rv = decrypt(raw, &mech, in, k, out, k, &out_len, &init_rv);
	if (rv != CKR_OK || out_len > k) {
		ret = cer_fail(gone(rv) ? CER_EIO : CER_EAUTH,
		               "%s: raw RSA (CKM_RSA_X_509) on the "
		               "token failed: %s",
		               what, cer_token_rv_name(rv));
		goto out;
	}
	memset(em, 0, k);
	memcpy(em + (k - out_len), out, out_len);
	ret = CER_OK;
out:
	cer_secret_free(in);
	cer_secret_free(out);
	return ret;
}

/* CKM_RSA_PKCS_OAEP; *unsupported when the token refuses the mechanism or its hash. */
static int oaep_on_token(const struct cer_token_raw *raw, const struct cer_jwe *jwe,
                         const char *what, bool sha256, uint8_t cek[static CER_CEK_LEN],
                         bool *unsupported)
{
	CK_RSA_PKCS_OAEP_PARAMS p = {sha256 ? CKM_SHA256 : CKM_SHA_1,
	                             sha256 ? CKG_MGF1_SHA256 : CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED,
	                             NULL, 0};
	CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &p, sizeof p};
	uint8_t *out = cer_secret_alloc(raw->modulus_len);
	size_t out_len = 0;
	CK_RV rv, init_rv;
	int ret;

	*unsupported = false;
	if (out == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	rv = decrypt(raw, &mech, jwe->ek, jwe->ek_len, out, raw->modulus_len, &out_len, &init_rv);
	if (init_rv == CKR_MECHANISM_INVALID || init_rv == CKR_MECHANISM_PARAM_INVALID ||
	    init_rv == CKR_ARGUMENTS_BAD || init_rv == CKR_FUNCTION_NOT_SUPPORTED) {
		*unsupported = true;
		ret = CER_OK;
	} else if (rv == CKR_OK && out_len == CER_CEK_LEN) {
		memcpy(cek, out, CER_CEK_LEN);
		ret = CER_OK;
	} else if (gone(rv)) {
		ret = cer_fail(CER_EIO, "%s: the token failed: %s", what, cer_token_rv_name(rv));
	} else {
		ret = cer_fail(CER_EAUTH, "%s: the key does not decrypt this share's content key",
		               what);
	}
	cer_secret_free(out);
	return ret;
}

static int oaep(const struct cer_token_raw *raw, enum cer_token_unwrap mode,
                const struct cer_jwe *jwe, const char *what, uint8_t cek[static CER_CEK_LEN],
                const char **how)
{
	bool sha256 = jwe->alg_id == CER_JWE_ALG_RSA_OAEP_256, unsupported = true;
	uint8_t *em;
	int ret;

	if (mode == CER_TOKEN_UNWRAP_AUTO && has_decrypt(raw, CKM_RSA_PKCS_OAEP)) {
		ret = oaep_on_token(raw, jwe, what, sha256, cek, &unsupported);
		if (ret != CER_OK || !unsupported) {
			*how = sha256 ? "CKM_RSA_PKCS_OAEP (SHA-256) on the token"
			              : "CKM_RSA_PKCS_OAEP (SHA-1) on the token";
			return ret;
		}
	}
	if (!has_decrypt(raw, CKM_RSA_X_509))
		return cer_fail(CER_EINPUT, "%s: the token does %s nor raw RSA (CKM_RSA_X_509)",
		                what, sha256 ? "not do RSA-OAEP with SHA-256" : "not do RSA-OAEP");
	*how = sha256 ? "CKM_RSA_X_509 on the token, OAEP (SHA-256) decoded on the host"
	              : "CKM_RSA_X_509 on the token, OAEP (SHA-1) decoded on the host";
	em = cer_secret_alloc(raw->modulus_len);
	if (em == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	ret = raw_rsa(raw, jwe, what, em, raw->modulus_len);
	if (ret == CER_OK)
		ret = cer_rsa_oaep_decode(em, raw->modulus_len, sha256, what, cek);
	cer_secret_free(em);
	return ret;
}

static int pkcs1(const struct cer_token_raw *raw, const struct cer_jwe *jwe, const char *what,
                 uint8_t cek[static CER_CEK_LEN], const char **how)
{
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	uint8_t *em = cer_secret_alloc(raw->modulus_len), *rnd = cer_secret_alloc(CER_CEK_LEN);
	size_t out_len = 0;
	CK_RV rv, init_rv;
	uint8_t good;
	int ret;

	if (em == NULL || rnd == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (has_decrypt(raw, CKM_RSA_X_509)) {
		*how = "CKM_RSA_X_509 on the token, PKCS#1 v1.5 decoded on the host";
		ret = raw_rsa(raw, jwe, what, em, raw->modulus_len);
		if (ret == CER_OK)
			ret = cer_rsa_pkcs1_decode_implicit(em, raw->modulus_len, what, cek);
		goto out;
	}
	*how = "CKM_RSA_PKCS on the token";
	randombytes_buf(rnd, CER_CEK_LEN);
	rv = decrypt(raw, &mech, jwe->ek, jwe->ek_len, em, raw->modulus_len, &out_len, &init_rv);
	if (gone(rv)) {
		ret = cer_fail(CER_EIO, "%s: the token failed: %s", what, cer_token_rv_name(rv));
		goto out;
	}
	good = (uint8_t)(0u - (unsigned)((rv == CKR_OK) & (out_len == CER_CEK_LEN)));
	cer_ct_select(cek, em, rnd, CER_CEK_LEN, good);
	ret = CER_OK;
out:
	cer_secret_free(em);
	cer_secret_free(rnd);
	return ret;
}

int cer_token_unwrap_cek(struct cer_token_key *k, const struct cer_jwe *jwe, const char *what,
                         uint8_t cek[static CER_CEK_LEN], const char **how)
{
	struct cer_token_raw raw;

	*how = "";
	cer_token_key_raw(k, &raw);
	if (raw.key == 0)
		return cer_fail(CER_EUSAGE, "%s: no token key selected", what);
	if (jwe->ek_len == 0 || jwe->ek_len > raw.modulus_len)
		return cer_fail(CER_EAUTH,
		                "%s: encrypted key does not fit this key (%zu bytes for a "
		                "%zu-byte key)",
		                what, jwe->ek_len, raw.modulus_len);
	switch (jwe->alg_id) {
	case CER_JWE_ALG_RSA_OAEP_256:
	case CER_JWE_ALG_RSA_OAEP:
		return oaep(&raw, cer_token_key_unwrap_mode(k), jwe, what, cek, how);
	case CER_JWE_ALG_RSA1_5: return pkcs1(&raw, jwe, what, cek, how);
	default: return cer_fail(CER_EINPUT, "%s: unsupported JWE alg \"%s\"", what, jwe->alg);
	}
}
