#include "ceremony/pkcs8.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <string.h>

#include "ceremony/keys.h"

int cer_pkcs8_encrypt_pem(struct evp_pkey_st *key, const char *pass, const char *what,
                          struct bio_st **out)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	unsigned char salt[16];
	int ret = CER_EINTERNAL;

	*out = NULL;
	if (bio == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	p8inf = EVP_PKEY2PKCS8(key);
	if (RAND_bytes(salt, sizeof salt) == 1)
		pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, sizeof salt, NULL,
		                            CER_PKCS8_SCRYPT_N, CER_PKCS8_SCRYPT_R,
		                            CER_PKCS8_SCRYPT_P);
	if (p8inf == NULL || pbe == NULL) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot set up key encryption", what);
		goto out;
	}
	p8 = PKCS8_set0_pbe(pass, (int)strlen(pass), p8inf, pbe);
	if (p8 == NULL) {
		ret = cer_fail(CER_EINTERNAL, "%s: key encryption failed", what);
		goto out;
	}
	pbe = NULL;
	if (PEM_write_bio_PKCS8(bio, p8) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot encode the key", what);
		goto out;
	}
	*out = bio;
	bio = NULL;
	ret = CER_OK;
out:
	X509_SIG_free(p8);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	BIO_free(bio);
	ERR_clear_error();
	return ret;
}

/* The RSA private exponent as fixed-size big-endian bytes in secret memory. */
static int private_bytes(EVP_PKEY *key, uint8_t *buf, size_t len)
{
	BIGNUM *d = NULL;
	int ok;

	ok = cer_rsa_number(key, OSSL_PKEY_PARAM_RSA_D, &d) == 0 &&
	     BN_bn2binpad(d, buf, (int)len) == (int)len;
	BN_clear_free(d);
	return ok ? 0 : -1;
}

int cer_pkcs8_check_pem(const char *pem, size_t len, const char *pass, struct evp_pkey_st *key,
                        const char *what)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *back = NULL;
	size_t n = (size_t)EVP_PKEY_get_size(key);
	uint8_t *a = cer_secret_alloc(n ? n : 1), *b = cer_secret_alloc(n ? n : 1);
	int ret;

	if (bio == NULL || a == NULL || b == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	back = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)pass);
	if (back == NULL) {
		ret = cer_fail(CER_EINTERNAL,
		               "%s: the new file does not open with the new "
		               "passphrase",
		               what);
		goto out;
	}
	if (EVP_PKEY_eq(back, key) != 1 || private_bytes(back, a, n) != 0 ||
	    private_bytes(key, b, n) != 0 || sodium_memcmp(a, b, n) != 0) {
		ret = cer_fail(CER_EINTERNAL, "%s: the new file does not hold the same key", what);
		goto out;
	}
	ret = CER_OK;
out:
	EVP_PKEY_free(back);
	BIO_free(bio);
	cer_secret_free(a);
	cer_secret_free(b);
	ERR_clear_error();
	return ret;
}
