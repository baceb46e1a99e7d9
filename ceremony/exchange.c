#include "ceremony/exchange.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"

#define EXCHANGE_FILE_MAX ((size_t)1 << 20)

struct cer_exchange {
	struct cer_cert *cert;
	char *name;
	char sha256_hex[2 * CER_SHA256_LEN + 1];
	struct cer_attestation att;
	struct cer_report *report;
};

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

int cer_exchange_policy_hsm_name(struct cer_exchange_policy *p, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n && host_char(name[i]); i++)
		;
	if (i < n || n > 253 || (n > 0 && (name[0] == '.' || name[n - 1] == '.')))
		return cer_fail(CER_EUSAGE,
		                "'%s': not an HSM name (letters, digits and "
		                "'-') nor a host name",
		                name);
	snprintf(p->hsm_name, sizeof p->hsm_name, "%s", name);
	return CER_OK;
}

int cer_exchange_policy_mrsigner(struct cer_exchange_policy *p, const char *hex)
{
	size_t n = 0;

	p->pin_mrsigner = false;
	if (hex[0] == '\0')
		return CER_OK;
	if (strlen(hex) != 2 * CER_SGX_MEASUREMENT_LEN)
		return cer_fail(CER_EUSAGE,
		                "expected MRSIGNER: %zu characters, not the 64 hex "
		                "digits of a MRSIGNER",
		                strlen(hex));
	if (OPENSSL_hexstr2buf_ex(p->mrsigner, sizeof p->mrsigner, &n, hex, '\0') != 1 ||
	    n != sizeof p->mrsigner) {
		ERR_clear_error();
		return cer_fail(CER_EUSAGE, "expected MRSIGNER: '%s' is not hex", hex);
	}
	p->pin_mrsigner = true;
	return CER_OK;
}

static int bind_name(const struct cer_exchange *x, const char *hsm)
{
	const char *cn = cer_cert_common_name(x->cert);
	char want[256 + sizeof CER_HSM_DOMAIN];

	if (strchr(hsm, '.') != NULL)
		snprintf(want, sizeof want, "%s", hsm);
	else
		snprintf(want, sizeof want, "%s%s", hsm, CER_HSM_DOMAIN);
	if (strchr(cn, '.') == NULL)
		return cer_fail(CER_EAUTH,
		                "exchange key %s: its subject CN '%s' names no HSM, so "
		                "the HSM name %s cannot be checked (older HSMs hand out such keys: "
		                "leave the name out and compare the SHA-256 instead)",
		                x->name, cn, hsm);
	if (strcasecmp(cn, want) != 0)
		return cer_fail(CER_EAUTH,
		                "exchange key %s: its subject CN is '%s', not '%s': it is "
		                "not HSM %s's key",
		                x->name, cn, want, hsm);
	return CER_OK;
}

static int apply_policy(const struct cer_exchange *x, const struct cer_exchange_policy *p)
{
	char hex[2 * CER_SGX_MEASUREMENT_LEN + 1];

	if (x->att.state != CER_ATTEST_VERIFIED && p->require_attestation)
		return cer_fail(CER_EAUTH,
		                "exchange key %s: not attested (no SGX quote in the "
		                "certificate), and an attestation is required",
		                x->name);
	if (p->pin_mrsigner) {
		if (x->att.state != CER_ATTEST_VERIFIED)
			return cer_fail(CER_EAUTH,
			                "exchange key %s: not attested, so its MRSIGNER "
			                "cannot be compared with the expected one",
			                x->name);
		if (memcmp(x->att.mrsigner, p->mrsigner, sizeof p->mrsigner) != 0) {
			cer_hex_encode(x->att.mrsigner, sizeof x->att.mrsigner, hex);
			return cer_fail(CER_EAUTH,
			                "exchange key %s: attested by an enclave with "
			                "MRSIGNER %s, not the expected one",
			                x->name, hex);
		}
	}
	if (p->hsm_name[0] != '\0')
		return bind_name(x, p->hsm_name);
	return CER_OK;
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char hex[2 * 64 + 1];

	cer_hex_encode(b, n, hex);
	return json_string(hex);
}

static json_t *attestation_json(const struct cer_attestation *a,
                                const struct cer_exchange_policy *p)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	json_object_set_new(j, "status",
	                    json_string(a->state == CER_ATTEST_VERIFIED ? "verified" : "absent"));
	if (a->state != CER_ATTEST_VERIFIED)
		return j;
	json_object_set_new(j, "mrsigner", hex_json(a->mrsigner, sizeof a->mrsigner));
	json_object_set_new(j, "mrenclave", hex_json(a->mrenclave, sizeof a->mrenclave));
	json_object_set_new(j, "isvprodid", json_integer(a->isv_prod_id));
	json_object_set_new(j, "isvsvn", json_integer(a->isv_svn));
	json_object_set_new(j, "qe_svn", json_integer(a->qe_svn));
	json_object_set_new(j, "pce_svn", json_integer(a->pce_svn));
	json_object_set_new(j, "pck_not_after", json_string(a->pck_not_after));
	json_object_set_new(j, "pck_valid_now", json_boolean(a->pck_valid_at));
	json_object_set_new(j, "mrsigner_pinned", json_boolean(p->pin_mrsigner));
	return j;
}

static int build_report(struct cer_exchange *x, size_t size, bool from_file,
                        const struct cer_exchange_policy *p)
{
	json_t *j = json_object();

	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	json_object_set_new(j, "report", json_string("exchange_key"));
	json_object_set_new(j, "exchange_key", json_string(x->name));
	json_object_set_new(j, "sha256", json_string(x->sha256_hex));
	json_object_set_new(j, "size", json_integer((json_int_t)size));
	json_object_set_new(j, "from_file", json_boolean(from_file));
	json_object_set_new(j, "subject_cn", json_string(cer_cert_common_name(x->cert)));
	json_object_set_new(j, "x5t_256", json_string(cer_cert_thumb_b64(x->cert)));
	json_object_set_new(j, "rsa_bits", json_integer(cer_cert_rsa_bits(x->cert)));
	json_object_set_new(j, "not_after", json_string(cer_cert_not_after(x->cert)));
	json_object_set_new(j, "hsm_name", p->hsm_name[0] ? json_string(p->hsm_name) : json_null());
	json_object_set_new(j, "attestation", attestation_json(&x->att, p));
	return cer_report_build(j, CER_OK, &x->report);
}

static int open_bytes(const uint8_t *buf, size_t len, const char *name, bool from_file,
                      const struct cer_exchange_policy *p, struct cer_exchange **out)
{
	struct cer_exchange *x = calloc(1, sizeof *x);
	uint8_t md[CER_SHA256_LEN];
	int ret;

	*out = NULL;
	if (x == NULL || (x->name = strdup(name)) == NULL) {
		free(x);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	ret = cer_sha256(buf, len, md);
	if (ret == CER_OK) {
		cer_hex_encode(md, sizeof md, x->sha256_hex);
		ret = cer_exchange_key_parse(buf, len, name, &x->cert);
	}
	if (ret == CER_OK)
		ret = cer_attest_cert(x->cert, p->now, &x->att);
	if (ret == CER_OK)
		ret = apply_policy(x, p);
	if (ret == CER_OK)
		ret = build_report(x, len, from_file, p);
	if (ret != CER_OK) {
		cer_exchange_free(x);
		return ret;
	}
	*out = x;
	return CER_OK;
}

int cer_exchange_open(const char *path, const struct cer_exchange_policy *p,
                      struct cer_exchange **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	ret = cer_file_read(path, EXCHANGE_FILE_MAX, &buf, &len);
	if (ret != CER_OK)
		return cer_fail_context(ret, "exchange key");
	ret = open_bytes(buf, len, path, true, p, out);
	free(buf);
	return ret;
}

int cer_exchange_open_mem(const uint8_t *buf, size_t len, const char *name,
                          const struct cer_exchange_policy *p, struct cer_exchange **out)
{
	return open_bytes(buf, len, name, false, p, out);
}

void cer_exchange_free(struct cer_exchange *x)
{
	if (x == NULL)
		return;
	cer_cert_free(x->cert);
	cer_report_free(x->report);
	free(x->name);
	free(x);
}

const struct cer_cert *cer_exchange_cert(const struct cer_exchange *x)
{
	return x->cert;
}

const char *cer_exchange_name(const struct cer_exchange *x)
{
	return x->name;
}

const char *cer_exchange_sha256_hex(const struct cer_exchange *x)
{
	return x->sha256_hex;
}

const struct cer_attestation *cer_exchange_attestation(const struct cer_exchange *x)
{
	return &x->att;
}

const struct cer_report *cer_exchange_report(const struct cer_exchange *x)
{
	return x->report;
}

int cer_exchange_check_sd(const struct cer_exchange *x, const struct cer_sd *sd)
{
	size_t i;

	for (i = 0; i < cer_sd_share_count(sd); i++) {
		const struct cer_sd_share *sh = cer_sd_share(sd, i);

		if (sh->thumb_ok && memcmp(sh->thumb, cer_cert_thumb(x->cert), CER_THUMB_LEN) == 0)
			return cer_fail(
			        CER_EINPUT,
			        "exchange key %s is a custodian's certificate: its "
			        "thumbprint is the x5t_256 of share #%zu in %s (its key alone "
			        "would open the restore blob)",
			        x->name, i + 1, cer_sd_name(sd));
	}
	return CER_OK;
}

int cer_exchange_check_key(const struct cer_exchange *x, const uint8_t spki[static CER_THUMB_LEN],
                           const char *cert_path)
{
	if (memcmp(spki, cer_cert_spki_sha256(x->cert), CER_THUMB_LEN) != 0)
		return CER_OK;
	return cer_fail(CER_EINPUT,
	                "exchange key %s has the public key of the custodian's "
	                "certificate %s (that custodian's key alone would open the restore "
	                "blob)",
	                x->name, cert_path);
}

int cer_exchange_check_dir(const struct cer_exchange *x, const char *certs_dir)
{
	char *found = NULL;
	int ret = cer_certs_dir_find_pubkey(certs_dir, x->cert, &found);

	if (ret == CER_OK && found != NULL)
		ret = cer_exchange_check_key(x, cer_cert_spki_sha256(x->cert), found);
	free(found);
	return ret;
}
