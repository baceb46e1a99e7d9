#include "ceremony/filekind.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ceremony/keys.h"
#include "ceremony/sd.h"

static bool is_private_key(const char *path)
{
	struct cer_privkey *key = NULL;
	enum cer_key_load why = CER_KEY_NOT_A_KEY;
	int ret = cer_privkey_load(path, NULL, &key, &why);

	cer_privkey_free(key);
	return ret == CER_OK || why == CER_KEY_NEEDS_PASSWORD || why == CER_KEY_BAD_PASSWORD ||
	       why == CER_KEY_UNSUPPORTED;
}

static bool is_certificate(const char *path)
{
	struct cer_cert *cert = NULL;
	bool yes = cer_cert_load(path, &cert) == CER_OK;

	cer_cert_free(cert);
	return yes;
}

static bool is_security_domain(const char *path)
{
	struct cer_sd *sd = NULL;
	bool yes = cer_sd_load(path, &sd) == CER_OK;

	cer_sd_free(sd);
	return yes;
}

enum cer_file_kind cer_file_kind(const char *path)
{
	enum cer_file_kind kind = CER_FILE_UNKNOWN;
	char saved[1024];
	struct stat st;

	snprintf(saved, sizeof saved, "%s", cer_errmsg());
	if (stat(path, &st) != 0)
		kind = CER_FILE_MISSING;
	else if (S_ISDIR(st.st_mode))
		kind = CER_FILE_DIRECTORY;
	else if (!S_ISREG(st.st_mode))
		kind = CER_FILE_UNKNOWN;
	else if (is_certificate(path))
		kind = CER_FILE_CERTIFICATE;
	else if (is_private_key(path))
		kind = CER_FILE_PRIVATE_KEY;
	else if (is_security_domain(path))
		kind = CER_FILE_SECURITY_DOMAIN;
	if (saved[0] != '\0')
		cer_fail(CER_OK, "%s", saved);
	else
		cer_clear_error();
	return kind;
}

const char *cer_file_kind_text(enum cer_file_kind kind)
{
	switch (kind) {
	case CER_FILE_MISSING: return "missing";
	case CER_FILE_DIRECTORY: return "a directory";
	case CER_FILE_CERTIFICATE: return "a certificate";
	case CER_FILE_PRIVATE_KEY: return "a private key";
	case CER_FILE_SECURITY_DOMAIN: return "a security-domain file";
	case CER_FILE_UNKNOWN: break;
	}
	return "not a file this tool reads";
}
