#include "ceremony/keygen_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ceremony/io.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"

static json_t *custodian_json(const struct cer_keygen_key *k)
{
	json_t *c = json_pack(
	        "{s:s, s:s, s:s, s:b, s:s, s:b, s:s, s:s, s:s, s:s, s:i}", "name", k->name,
	        "certificate", k->cert_path, "key", k->key_path, "key_encrypted", k->encrypted,
	        "token_uri", k->token_uri, "key_outside", k->key_cert_path[0] != '\0', "x5t#S256",
	        k->thumb_b64url, "sha256_hex", k->thumb_hex, "not_before", k->not_before,
	        "not_after", k->not_after, "bits", (json_int_t)k->bits);

	return c;
}

int cer_keygen_report(const struct cer_keygen_result *r, struct cer_report **out)
{
	bool made =
	        r->count > 0 && (r->keys[0].key_path[0] != '\0' || r->keys[0].token_uri[0] != '\0');
	json_t *cust = json_array(), *j;
	unsigned i;

	*out = NULL;
	for (i = 0; cust != NULL && i < r->count; i++)
		if (json_array_append_new(cust, custodian_json(&r->keys[i])) != 0) {
			json_decref(cust);
			cust = NULL;
		}
	if (cust == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	j = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "report",
	              made ? "keygen" : "package", "count", (json_int_t)r->count, "quorum",
	              (json_int_t)r->quorum, "out_dir", r->out_dir, "old_dir", r->old_dir,
	              "download_request", r->request_path, "manifest", r->manifest_path,
	              "az_command", r->az_command != NULL ? r->az_command : "", "custodians", cust);
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, out);
}

/* One record; a failure is kept in *status (the first one), the message kept. */
static void note(struct cer_transcript *t, int *status, const char *fmt, ...) CER_PRINTF(3, 4);
static void note(struct cer_transcript *t, int *status, const char *fmt, ...)
{
	char text[2048], saved[1024];
	enum cer_reason why = cer_errreason();
	va_list ap;

	if (t == NULL || *status != CER_OK)
		return;
	snprintf(saved, sizeof saved, "%s", cer_errmsg());
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (cer_transcript_add(t, "%s", text) != CER_OK) {
		*status = CER_EIO;
		snprintf(text, sizeof text, "%s", cer_errmsg());
		cer_fail(CER_EIO, "%s", text);
		return;
	}
	cer_fail_reason(CER_OK, why, "%s", saved);
}

static void note_file(struct cer_transcript *t, int *status, const char *flow, const char *what,
                      const char *path)
{
	char hex[65];

	if (path[0] == '\0')
		return;
	if (cer_file_sha256_hex(path, hex) == CER_OK)
		note(t, status, "%s %s: %s sha256 %s", flow, what, path, hex);
	else
		note(t, status, "%s %s: %s (cannot hash: %s)", flow, what, path, cer_errmsg());
}

int cer_kg_transcript_start(struct cer_transcript *t, const char *flow, unsigned count,
                            unsigned bits, unsigned quorum, unsigned days, const char *dir)
{
	int status = CER_OK;

	if (bits != 0)
		note(t, &status, "%s start: %u keys RSA-%u, quorum %u, validity %u days, into %s",
		     flow, count, bits, quorum, days, dir);
	else
		note(t, &status, "%s start: %u certificates, quorum %u, into %s", flow, count,
		     quorum, dir);
	return status;
}

int cer_kg_transcript_end(struct cer_transcript *t, const char *flow,
                          const struct cer_keygen_result *r, int ret)
{
	struct cer_report *rep = NULL;
	char msg[1024];
	int status = CER_OK;
	unsigned i;

	if (t == NULL)
		return ret;
	if (ret != CER_OK) {
		snprintf(msg, sizeof msg, "%s", cer_errmsg());
		note(t, &status, "%s result: [FAIL] %s (exit %d)", flow, msg, ret);
		cer_fail(ret, "%s", msg);
		return ret;
	}
	if (cer_keygen_report(r, &rep) != CER_OK)
		return CER_EINTERNAL;
	if (cer_transcript_add_report(t, rep) != CER_OK)
		status = CER_EIO;
	cer_report_free(rep);
	for (i = 0; i < r->count; i++) {
		note_file(t, &status, flow, "certificate", r->keys[i].cert_path);
		note_file(t, &status, flow, "certificate copy", r->keys[i].key_cert_path);
	}
	note_file(t, &status, flow, "download package", r->request_path);
	note_file(t, &status, flow, "manifest", r->manifest_path);
	note(t, &status, "%s result: [OK] (exit 0)", flow);
	return status;
}
