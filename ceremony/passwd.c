#include "ceremony/passwd.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/io.h"
#include "ceremony/keygen.h"
#include "ceremony/keys.h"
#include "ceremony/pkcs8.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"

int cer_passwd_probe(const char *key_path, bool *encrypted)
{
	struct cer_privkey *key = NULL;
	enum cer_key_load why = CER_KEY_LOADED;
	int ret = cer_privkey_load(key_path, NULL, &key, &why);

	cer_privkey_free(key);
	*encrypted = why == CER_KEY_NEEDS_PASSWORD;
	if (ret == CER_OK || why == CER_KEY_NEEDS_PASSWORD) {
		cer_clear_error();
		return CER_OK;
	}
	return ret;
}

static bool is_pem(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	bool pem;

	if (cer_file_read_secret(path, CER_MAX_INPUT, &buf, &len) != CER_OK)
		return false;
	pem = strstr((const char *)buf, "-----BEGIN ") != NULL;
	cer_secret_free(buf);
	return pem;
}

int cer_passwd_report(const struct cer_passwd_params *p, const struct cer_passwd_result *r,
                      struct cer_report **out)
{
	bool in_place = p->out_path == NULL || p->out_path[0] == '\0';
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:b}", "report", "passwd", "key", p->key_path,
	                      "written", r->written, "in_place", in_place, "was_encrypted",
	                      r->was_encrypted);

	*out = NULL;
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, out);
}

int cer_passwd_failed(const struct cer_passwd_params *p, int status)
{
	char what[4200];

	snprintf(what, sizeof what, "passwd %s", p->key_path);
	return cer_transcript_failure(p->transcript, what, status) != CER_OK ? CER_EIO : status;
}

/* The record of a cer_passwd that ran: its report, or its failure. */
static int record(const struct cer_passwd_params *p, const struct cer_passwd_result *r, int ret)
{
	struct cer_report *rep = NULL;

	if (p->transcript == NULL)
		return ret;
	if (ret != CER_OK)
		return cer_passwd_failed(p, ret);
	ret = cer_passwd_report(p, r, &rep);
	if (ret == CER_OK && cer_transcript_add_report(p->transcript, rep) != CER_OK)
		ret = CER_EIO;
	cer_report_free(rep);
	return ret;
}

static int passwd(const struct cer_passwd_params *p, struct cer_passwd_result *out)
{
	bool in_place = p->out_path == NULL || p->out_path[0] == '\0';
	const char *dest = in_place ? p->key_path : p->out_path;
	struct cer_privkey *key = NULL;
	enum cer_key_load why = CER_KEY_LOADED;
	BIO *pem = NULL;
	char *text = NULL;
	long len;
	int ret;

	memset(out, 0, sizeof *out);
	ret = cer_passphrase_check(0, p->new_passphrase, NULL, 0);
	if (ret != CER_OK) {
		char msg[256];
		const char *colon = strchr(cer_errmsg(), ':');

		snprintf(msg, sizeof msg, "%s", colon != NULL ? colon + 2 : cer_errmsg());
		return cer_fail(CER_EUSAGE, "new passphrase: %s", msg);
	}
	if (p->old_passphrase != NULL && cer_passphrase_equal(p->old_passphrase, p->new_passphrase))
		return cer_fail(CER_EUSAGE, "the new passphrase is the old one");
	if (!in_place && cer_path_exists(dest))
		return cer_fail(CER_EIO,
		                "%s: already exists (passwd never replaces a file other "
		                "than the key itself)",
		                dest);
	ret = cer_passwd_probe(p->key_path, &out->was_encrypted);
	if (ret != CER_OK)
		return ret;
	if (in_place && !is_pem(p->key_path))
		return cer_fail_reason(CER_EUSAGE, CER_REASON_NEEDS_OUT,
		                       "%s: not a PEM file, so it is not rewritten in place",
		                       p->key_path);
	ret = cer_privkey_load(p->key_path, out->was_encrypted ? p->old_passphrase : NULL, &key,
	                       &why);
	if (ret != CER_OK)
		goto out;
	ret = cer_pkcs8_encrypt_pem(cer_privkey_pkey(key), p->new_passphrase, p->key_path, &pem);
	if (ret != CER_OK)
		goto out;
	len = BIO_get_mem_data(pem, &text);
	if (len <= 0) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot encode the key", p->key_path);
		goto out;
	}
	ret = cer_pkcs8_check_pem(text, (size_t)len, p->new_passphrase, cer_privkey_pkey(key),
	                          p->key_path);
	if (ret != CER_OK)
		goto out;
	ret = cer_file_write_atomic(dest, text, (size_t)len,
	                            CER_WRITE_PRIVATE | (in_place ? CER_WRITE_REPLACE : 0));
	if (ret == CER_OK)
		snprintf(out->written, sizeof out->written, "%s", dest);
out:
	BIO_free(pem);
	cer_privkey_free(key);
	return ret;
}

int cer_passwd(const struct cer_passwd_params *p, struct cer_passwd_result *out)
{
	return record(p, out, passwd(p, out));
}
