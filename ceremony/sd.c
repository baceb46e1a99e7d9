#include "ceremony/sd.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/codec.h"
#include "ceremony/io.h"

#define SD_MAX_REQUIRED 126

struct cer_sd {
	char *name;
	char sha256[65];
	size_t size;
	enum cer_sd_form form;
	unsigned version;
	unsigned required;
	char *key_algorithm;
	char *kdf;
	struct cer_sd_share *shares;
	size_t nshares;
	struct cer_sd_item *items;
	size_t nitems;
};

void cer_sd_free(struct cer_sd *sd)
{
	size_t i;

	if (sd == NULL)
		return;
	for (i = 0; i < sd->nshares; i++) {
		free(sd->shares[i].x5t_256);
		cer_jwe_free(sd->shares[i].jwe);
		free(sd->shares[i].problem);
	}
	for (i = 0; i < sd->nitems; i++) {
		free(sd->items[i].tag);
		cer_jwe_free(sd->items[i].jwe);
		free(sd->items[i].problem);
	}
	free(sd->shares);
	free(sd->items);
	free(sd->key_algorithm);
	free(sd->kdf);
	free(sd->name);
	free(sd);
}

static char *problem_from_errmsg(void)
{
	return strdup(cer_errmsg());
}

static char *problemf(const char *fmt, ...) CER_PRINTF(1, 2);
static char *problemf(const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : p;
}

/* seen: a JSON object used as a set of the tags so far (linear, not quadratic, in items). */
static int parse_item(struct cer_sd *sd, size_t i, json_t *v, json_t *seen)
{
	struct cer_sd_item *it = &sd->items[i];
	json_t *tag = json_object_get(v, "tag");
	json_t *jwe = json_object_get(v, "compact_jwe");

	if (!json_is_object(v)) {
		it->problem = strdup("entry is not a JSON object");
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (json_is_string(tag) && json_string_length(tag) > 0 &&
	    strlen(json_string_value(tag)) == json_string_length(tag)) {
		it->tag = strdup(json_string_value(tag));
		if (it->tag == NULL)
			return CER_EINTERNAL;
	}
	if (it->tag == NULL) {
		it->problem = strdup(tag == NULL ? "\"tag\" is missing"
		                                 : "\"tag\" is not a non-empty string");
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (json_object_get(seen, it->tag) != NULL) {
		it->problem = strdup("the same tag appears twice");
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (json_object_set_new(seen, it->tag, json_true()) != 0)
		return CER_EINTERNAL;
	if (!json_is_string(jwe)) {
		it->problem = strdup(jwe == NULL ? "\"compact_jwe\" is missing"
		                                 : "\"compact_jwe\" is not a string");
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	it->jwe_len = json_string_length(jwe);
	if (cer_jwe_parse(json_string_value(jwe), it->jwe_len, "compact_jwe", &it->jwe) != CER_OK) {
		it->problem = problem_from_errmsg();
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (!it->jwe->enc_ok) {
		it->problem = problemf("unsupported JWE enc \"%s\" (expected A256CBC-HS512)",
		                       it->jwe->enc);
		return it->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	return CER_OK;
}

static int parse_share(struct cer_sd *sd, struct cer_sd_share *sh, json_t *v)
{
	json_t *ek = json_object_get(v, "enc_key");
	json_t *x5t = json_object_get(v, "x5t_256");
	uint8_t *thumb;
	size_t len = 0, j;

	if (!json_is_object(v)) {
		sh->problem = strdup("entry is not a JSON object");
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (json_is_string(x5t)) {
		sh->x5t_256 = strdup(json_string_value(x5t));
		if (sh->x5t_256 == NULL)
			return CER_EINTERNAL;
		thumb = cer_b64url_decode(sh->x5t_256, strlen(sh->x5t_256), &len);
		if (thumb != NULL && len == CER_THUMB_LEN) {
			memcpy(sh->thumb, thumb, CER_THUMB_LEN);
			sh->thumb_ok = true;
		}
		free(thumb);
		if (!sh->thumb_ok) {
			sh->problem = strdup("\"x5t_256\" is not a base64url SHA-256 thumbprint");
			return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
		}
	} else {
		sh->problem = strdup(x5t == NULL ? "\"x5t_256\" is missing"
		                                 : "\"x5t_256\" is not a string");
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	for (j = 0; sd->version == 2 && sd->shares + j < sh; j++) {
		if (sd->shares[j].thumb_ok &&
		    memcmp(sd->shares[j].thumb, sh->thumb, CER_THUMB_LEN) == 0) {
			sh->problem = strdup("the same certificate thumbprint appears twice");
			return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
		}
	}
	if (!json_is_string(ek)) {
		sh->problem = strdup(ek == NULL ? "\"enc_key\" is missing"
		                                : "\"enc_key\" is not a string");
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (cer_jwe_parse(json_string_value(ek), json_string_length(ek), "enc_key", &sh->jwe) !=
	    CER_OK) {
		sh->problem = problem_from_errmsg();
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (sh->jwe->alg_id != CER_JWE_ALG_RSA_OAEP_256 &&
	    sh->jwe->alg_id != CER_JWE_ALG_RSA_OAEP && sh->jwe->alg_id != CER_JWE_ALG_RSA1_5) {
		sh->problem = problemf("unsupported JWE alg \"%s\" (expected RSA-OAEP-256, "
		                       "RSA-OAEP or RSA1_5)",
		                       sh->jwe->alg);
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	if (!sh->jwe->enc_ok) {
		sh->problem = problemf("unsupported JWE enc \"%s\" (expected A256CBC-HS512)",
		                       sh->jwe->enc);
		return sh->problem != NULL ? CER_OK : CER_EINTERNAL;
	}
	return CER_OK;
}

static int dup_string_field(json_t *obj, const char *key, const char *where, const char *name,
                            bool required, char **out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL && !required) {
		*out = strdup("");
		return *out != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
	}
	if (v == NULL)
		return cer_fail(CER_EINPUT, "%s: %s.%s is missing", name, where, key);
	if (!json_is_string(v))
		return cer_fail(CER_EINPUT, "%s: %s.%s is not a string", name, where, key);
	*out = strdup(json_string_value(v));
	return *out != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
}

static int parse_v2_shares(struct cer_sd *sd, json_t *sk, const char *name)
{
	json_t *req = json_object_get(sk, "required");
	json_t *arr = json_object_get(sk, "enc_shares");
	json_int_t q;
	size_t i;
	int ret;

	ret = dup_string_field(sk, "key_algorithm", "SharedKeys", name, true, &sd->key_algorithm);
	if (ret != CER_OK)
		return ret;
	if (req == NULL)
		return cer_fail(CER_EINPUT, "%s: SharedKeys.required is missing", name);
	if (!json_is_integer(req))
		return cer_fail(CER_EINPUT, "%s: SharedKeys.required is not an integer", name);
	q = json_integer_value(req);
	if (q < 2 || q > SD_MAX_REQUIRED)
		return cer_fail(CER_EINPUT, "%s: SharedKeys.required is %lld, outside 2..%d", name,
		                (long long)q, SD_MAX_REQUIRED);
	sd->required = (unsigned)q;
	if (arr == NULL)
		return cer_fail(CER_EINPUT, "%s: SharedKeys.enc_shares is missing", name);
	if (!json_is_array(arr))
		return cer_fail(CER_EINPUT, "%s: SharedKeys.enc_shares is not an array", name);
	if (json_array_size(arr) < sd->required)
		return cer_fail(CER_EINPUT,
		                "%s: SharedKeys.required is %u but there are only %zu "
		                "shares",
		                name, sd->required, json_array_size(arr));
	if (json_array_size(arr) > SD_MAX_REQUIRED)
		return cer_fail(CER_EINPUT, "%s: %zu shares, more than the %d the format allows",
		                name, json_array_size(arr), SD_MAX_REQUIRED);
	sd->shares = calloc(json_array_size(arr), sizeof *sd->shares);
	if (sd->shares == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < json_array_size(arr); i++) {
		sd->nshares = i + 1;
		if (parse_share(sd, &sd->shares[i], json_array_get(arr, i)) != CER_OK)
			return cer_fail(CER_EINTERNAL, "out of memory");
	}
	return CER_OK;
}

static int parse_v1_shares(struct cer_sd *sd, json_t *sk, const char *name)
{
	json_t *arr = json_object_get(sk, "keys");
	size_t i, n;
	unsigned h;
	int ret;

	ret = dup_string_field(sk, "key_algorithm", "SplitKeys", name, true, &sd->key_algorithm);
	if (ret != CER_OK)
		return ret;
	sd->required = 2;
	if (arr == NULL)
		return cer_fail(CER_EINPUT, "%s: SplitKeys.keys is missing", name);
	if (!json_is_array(arr))
		return cer_fail(CER_EINPUT, "%s: SplitKeys.keys is not an array", name);
	n = json_array_size(arr);
	if (n == 0 || n > SD_MAX_REQUIRED)
		return cer_fail(CER_EINPUT, "%s: SplitKeys.keys has %zu entries", name, n);
	sd->shares = calloc(2 * n, sizeof *sd->shares);
	if (sd->shares == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *pair = json_array_get(arr, i);

		for (h = 1; h <= 2; h++) {
			struct cer_sd_share *sh = &sd->shares[sd->nshares++];
			json_t *v = json_object_get(pair, h == 1 ? "key1" : "key2");

			sh->pair = (unsigned)i;
			sh->half = h;
			if (v == NULL) {
				sh->problem =
				        problemf("\"%s\" is missing", h == 1 ? "key1" : "key2");
				if (sh->problem == NULL)
					return cer_fail(CER_EINTERNAL, "out of memory");
				continue;
			}
			if (parse_share(sd, sh, v) != CER_OK)
				return cer_fail(CER_EINTERNAL, "out of memory");
		}
	}
	return CER_OK;
}

static int parse_root(struct cer_sd *sd, json_t *root, const char *name)
{
	json_t *ver = json_object_get(root, "version");
	json_t *enc = json_object_get(root, "EncData");
	json_t *shared = json_object_get(root, "SharedKeys");
	json_t *split = json_object_get(root, "SplitKeys");
	json_t *data, *seen;
	json_int_t v;
	size_t i;
	int ret;

	if (ver != NULL && !json_is_integer(ver))
		return cer_fail(CER_EINPUT, "%s: \"version\" is not an integer", name);
	v = ver != NULL ? json_integer_value(ver) : (shared != NULL ? 2 : split != NULL ? 1 : 0);
	if (ver == NULL && v == 0)
		return cer_fail(CER_EINPUT,
		                "%s: no \"version\", SharedKeys or SplitKeys: not a "
		                "security-domain file",
		                name);
	if (v != 1 && v != 2)
		return cer_fail(CER_EINPUT, "%s: unsupported version %lld (1 and 2 are known)",
		                name, (long long)v);
	sd->version = (unsigned)v;
	if (enc == NULL)
		return cer_fail(CER_EINPUT, "%s: EncData is missing", name);
	if (!json_is_object(enc))
		return cer_fail(CER_EINPUT, "%s: EncData is not an object", name);
	data = json_object_get(enc, "data");
	if (data == NULL)
		return cer_fail(CER_EINPUT, "%s: EncData.data is missing", name);
	if (!json_is_array(data))
		return cer_fail(CER_EINPUT, "%s: EncData.data is not an array", name);
	if (json_array_size(data) == 0)
		return cer_fail(CER_EINPUT, "%s: EncData.data is empty", name);
	ret = dup_string_field(enc, "kdf", "EncData", name, false, &sd->kdf);
	if (ret != CER_OK)
		return ret;
	if (v == 2) {
		if (shared == NULL)
			return cer_fail(CER_EINPUT, "%s: SharedKeys is missing", name);
		if (!json_is_object(shared))
			return cer_fail(CER_EINPUT, "%s: SharedKeys is not an object", name);
		ret = parse_v2_shares(sd, shared, name);
	} else {
		if (split == NULL)
			return cer_fail(CER_EINPUT, "%s: SplitKeys is missing", name);
		if (!json_is_object(split))
			return cer_fail(CER_EINPUT, "%s: SplitKeys is not an object", name);
		ret = parse_v1_shares(sd, split, name);
	}
	if (ret != CER_OK)
		return ret;
	sd->items = calloc(json_array_size(data), sizeof *sd->items);
	seen = json_object();
	if (sd->items == NULL || seen == NULL) {
		json_decref(seen);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	for (i = 0; i < json_array_size(data); i++) {
		sd->nitems = i + 1;
		if (parse_item(sd, i, json_array_get(data, i), seen) != CER_OK) {
			json_decref(seen);
			return cer_fail(CER_EINTERNAL, "out of memory");
		}
	}
	json_decref(seen);
	return CER_OK;
}

static json_t *load_json(const char *text, size_t len, const char *name, int *ret)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

	if (root == NULL) {
		*ret = cer_fail(CER_EINPUT, "%s: not valid JSON (line %d, column %d: %s)", name,
		                jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*ret = cer_fail(CER_EINPUT, "%s: the JSON is not an object", name);
		return NULL;
	}
	*ret = CER_OK;
	return root;
}

int cer_sd_parse(const uint8_t *data, size_t len, const char *name, struct cer_sd **out)
{
	struct cer_sd *sd = NULL;
	json_t *root = NULL, *inner = NULL, *value;
	uint8_t *dec = NULL, md[32];
	size_t i, dlen;
	int ret;

	*out = NULL;
	if (len > CER_MAX_INPUT)
		return cer_fail(CER_EINPUT, "%s: file too large (%zu bytes, limit %zu)", name, len,
		                CER_MAX_INPUT);
	sd = calloc(1, sizeof *sd);
	if (sd == NULL || (sd->name = strdup(name)) == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	sd->size = len;
	ret = cer_sha256(data, len, md);
	if (ret != CER_OK)
		goto out;
	cer_hex_encode(md, sizeof md, sd->sha256);
	for (i = 0; i < len && strchr(" \t\r\n", data[i]) != NULL && data[i] != '\0'; i++)
		;
	if (i == len) {
		ret = cer_fail(CER_EINPUT, "%s: the file is empty", name);
		goto out;
	}
	sd->form = CER_SD_FORM_JSON;
	if (isalnum(data[i]) || data[i] == '+' || data[i] == '/')
		dec = cer_b64_decode((const char *)data, len, &dlen);
	if (dec != NULL) {
		sd->form = CER_SD_FORM_B64;
		root = load_json((const char *)dec, dlen, name, &ret);
	} else {
		root = load_json((const char *)data, len, name, &ret);
	}
	if (root == NULL)
		goto out;
	value = json_object_get(root, "value");
	if (value != NULL && json_object_get(root, "EncData") == NULL) {
		if (!json_is_string(value)) {
			ret = cer_fail(CER_EINPUT, "%s: \"value\" is not a string", name);
			goto out;
		}
		char where[512];

		snprintf(where, sizeof where, "%.400s (inside \"value\")", name);
		inner = load_json(json_string_value(value), json_string_length(value), where, &ret);
		if (inner == NULL)
			goto out;
		if (sd->form == CER_SD_FORM_JSON)
			sd->form = CER_SD_FORM_VALUE;
	}
	ret = parse_root(sd, inner != NULL ? inner : root, name);
	if (ret != CER_OK)
		goto out;
	*out = sd;
	sd = NULL;
out:
	json_decref(inner);
	json_decref(root);
	free(dec);
	cer_sd_free(sd);
	return ret;
}

int cer_sd_load(const char *path, struct cer_sd **out)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	*out = NULL;
	ret = cer_file_read(path, CER_MAX_INPUT, &buf, &len);
	if (ret != CER_OK)
		return ret;
	ret = cer_sd_parse(buf, len, path, out);
	free(buf);
	return ret;
}

const char *cer_sd_name(const struct cer_sd *sd)
{
	return sd->name;
}

const char *cer_sd_sha256_hex(const struct cer_sd *sd)
{
	return sd->sha256;
}

size_t cer_sd_size(const struct cer_sd *sd)
{
	return sd->size;
}

enum cer_sd_form cer_sd_form(const struct cer_sd *sd)
{
	return sd->form;
}

unsigned cer_sd_version(const struct cer_sd *sd)
{
	return sd->version;
}

unsigned cer_sd_required(const struct cer_sd *sd)
{
	return sd->required;
}

const char *cer_sd_key_algorithm(const struct cer_sd *sd)
{
	return sd->key_algorithm;
}

const char *cer_sd_kdf(const struct cer_sd *sd)
{
	return sd->kdf;
}

size_t cer_sd_share_count(const struct cer_sd *sd)
{
	return sd->nshares;
}

const struct cer_sd_share *cer_sd_share(const struct cer_sd *sd, size_t i)
{
	return i < sd->nshares ? &sd->shares[i] : NULL;
}

size_t cer_sd_item_count(const struct cer_sd *sd)
{
	return sd->nitems;
}

const struct cer_sd_item *cer_sd_item(const struct cer_sd *sd, size_t i)
{
	return i < sd->nitems ? &sd->items[i] : NULL;
}

long cer_sd_find_share(const struct cer_sd *sd, const uint8_t thumb[static CER_THUMB_LEN],
                       size_t from)
{
	size_t i;

	for (i = from; i < sd->nshares; i++)
		if (sd->shares[i].thumb_ok &&
		    memcmp(sd->shares[i].thumb, thumb, CER_THUMB_LEN) == 0)
			return (long)i;
	return -1;
}

int cer_sd_check_items(const struct cer_sd *sd)
{
	const char *want = sd->version == 2 ? "shamir_share" : "xor_split";
	size_t i;

	if (strcmp(sd->key_algorithm, want) != 0)
		return cer_fail(CER_EINPUT, "%s: unsupported key_algorithm \"%s\" (expected %s)",
		                sd->name, sd->key_algorithm, want);
	if (strcmp(sd->kdf, "sp108_kdf") != 0)
		return cer_fail(CER_EINPUT,
		                "%s: unsupported EncData.kdf \"%s\" (expected sp108_kdf)", sd->name,
		                sd->kdf);
	for (i = 0; i < sd->nitems; i++) {
		const struct cer_sd_item *it = &sd->items[i];

		if (it->problem == NULL)
			continue;
		if (it->tag != NULL)
			return cer_fail(CER_EINPUT, "%s: item '%s': %s", sd->name, it->tag,
			                it->problem);
		return cer_fail(CER_EINPUT, "%s: EncData.data[%zu]: %s", sd->name, i, it->problem);
	}
	return CER_OK;
}
