#include "ceremony/keygen_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef SDC_VERSION
#define SDC_VERSION "0.0.0"
#endif

const char cer_kg_request_name[] = "download-request.json";
const char cer_kg_manifest_name[] = "ceremony.json";

static char *now_text(char out[static 21])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static bool shell_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./"
		           ":=@+,",
		           *s) == NULL)
			return false;
	return true;
}

/* Appends s to the string *buf (realloc'ed), quoted for a POSIX shell if needed. */
static int append_word(char **buf, size_t *len, const char *s, bool quote)
{
	size_t need = strlen(s) * 4 + 4;
	char *nb = realloc(*buf, *len + need);
	char *o;

	if (nb == NULL)
		return -1;
	*buf = nb;
	o = nb + *len;
	if (*len > 0)
		*o++ = ' ';
	if (!quote || (shell_safe(s) && s[0] != '\0')) {
		strcpy(o, s);
		o += strlen(s);
	} else {
		*o++ = '\'';
		for (; *s != '\0'; s++) {
			if (*s == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else {
				*o++ = *s;
			}
		}
		*o++ = '\'';
	}
	*o = '\0';
	*len = (size_t)(o - nb);
	return 0;
}

char *cer_kg_az_command(const struct cer_keygen_result *r)
{
	char q[16];
	char *buf = NULL;
	size_t len = 0;
	unsigned i;
	int bad = 0;

	bad |= append_word(&buf, &len,
	                   "az keyvault security-domain download --hsm-name <HSM> "
	                   "--sd-wrapping-keys",
	                   false);
	for (i = 0; i < r->count; i++)
		bad |= append_word(&buf, &len, r->keys[i].cert_path, true);
	snprintf(q, sizeof q, "%u", r->quorum);
	bad |= append_word(&buf, &len, "--sd-quorum", false);
	bad |= append_word(&buf, &len, q, false);
	bad |= append_word(&buf, &len, "--security-domain-file <HSM>-SD.json", false);
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *dump(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *withnl;

	if (text == NULL)
		return NULL;
	withnl = realloc(text, strlen(text) + 2);
	if (withnl == NULL) {
		free(text);
		return NULL;
	}
	strcat(withnl, "\n");
	return withnl;
}

/* Request and manifest texts.  File names in the manifest are as in `files`. */
int cer_kg_build_json(struct cer_keygen_result *r, struct cer_kg_cert_info *info,
                      const char *const *cert_files, const char *const *key_files,
                      json_t *const *tokens, unsigned bits, unsigned days, char **request,
                      char **manifest)
{
	json_t *certs = json_array(), *req = NULL, *man = NULL, *cust = json_array();
	char created[21];
	unsigned i;
	int ret = CER_EINTERNAL;

	*request = *manifest = NULL;
	if (certs == NULL || cust == NULL)
		goto out;
	for (i = 0; i < r->count; i++) {
		json_t *c;

		if (json_array_append(certs, info[i].jwk) != 0)
			goto out;
		c = json_pack("{s:i, s:s, s:s, s:s?, s:b, s:s, s:s, s:s, s:i, s:s, s:s}", "index",
		              (json_int_t)i, "name", info[i].name, "certificate", cert_files[i],
		              "key", key_files[i], "key_encrypted", r->keys[i].encrypted,
		              "x5t#S256", info[i].thumb_b64url, "sha256_hex", info[i].thumb_hex,
		              "serial_hex", info[i].serial_hex, "bits", (json_int_t)info[i].bits,
		              "not_before", info[i].not_before, "not_after", info[i].not_after);
		if (c == NULL || json_array_append_new(cust, c) != 0)
			goto out;
		if (key_files[i] == NULL) {
			json_object_del(c, "key");
			json_object_del(c, "key_encrypted");
		}
		if (tokens != NULL && tokens[i] != NULL &&
		    json_object_set(c, "token", tokens[i]) != 0)
			goto out;
	}
	req = json_pack("{s:O, s:i}", "certificates", certs, "required", (json_int_t)r->quorum);
	man = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:O}", "tool", "sdceremony",
	                "version", SDC_VERSION, "created", now_text(created), "count",
	                (json_int_t)r->count, "required", (json_int_t)r->quorum, "bits",
	                (json_int_t)bits, "days", (json_int_t)days, "download_request",
	                cer_kg_request_name, "custodians", cust);
	if (req == NULL || man == NULL)
		goto out;
	if (days == 0)
		json_object_del(man, "days");
	if (bits == 0)
		json_object_del(man, "bits");
	*request = dump(req);
	*manifest = dump(man);
	if (*request == NULL || *manifest == NULL)
		goto out;
	ret = CER_OK;
out:
	json_decref(certs);
	json_decref(cust);
	json_decref(req);
	json_decref(man);
	if (ret != CER_OK) {
		free(*request);
		free(*manifest);
		*request = *manifest = NULL;
		return cer_fail(ret, "out of memory building the JSON files");
	}
	return CER_OK;
}

int cer_kg_summary_json(struct cer_keygen_result *r, const char *manifest)
{
	json_error_t jerr;
	json_t *j = json_loads(manifest, 0, &jerr);
	int bad = j == NULL;

	bad = bad || json_object_set_new(j, "out_dir", json_string(r->out_dir)) != 0;
	bad = bad || json_object_set_new(j, "download_request", json_string(r->request_path)) != 0;
	bad = bad || json_object_set_new(j, "manifest", json_string(r->manifest_path)) != 0;
	bad = bad || json_object_set_new(j, "az_command", json_string(r->az_command)) != 0;
	if (!bad && r->old_dir[0] != '\0')
		bad = json_object_set_new(j, "old_dir", json_string(r->old_dir)) != 0;
	if (!bad) {
		size_t i;
		json_t *c;

		json_array_foreach(json_object_get(j, "custodians"), i, c)
		{
			json_object_set_new(c, "certificate", json_string(r->keys[i].cert_path));
			if (r->keys[i].key_path[0] != '\0')
				json_object_set_new(c, "key", json_string(r->keys[i].key_path));
		}
		r->json = dump(j);
		bad = r->json == NULL;
	}
	json_decref(j);
	return bad ? cer_fail(CER_EINTERNAL, "out of memory") : CER_OK;
}
