#include "ceremony/token_list.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/keys.h"
#include "ceremony/token_int.h"

#define MAX_OBJECTS 256

struct cer_token_list {
	const struct cer_sd *sd;
	json_t *tokens;
};

int cer_token_list_new(const struct cer_sd *sd, struct cer_token_list **out)
{
	struct cer_token_list *l = calloc(1, sizeof *l);

	*out = NULL;
	if (l == NULL || (l->tokens = json_array()) == NULL) {
		free(l);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	l->sd = sd;
	*out = l;
	return CER_OK;
}

void cer_token_list_free(struct cer_token_list *l)
{
	if (l == NULL)
		return;
	json_decref(l->tokens);
	free(l);
}

struct entry {
	uint8_t *id;
	size_t id_len;
	CK_OBJECT_HANDLE priv, pub, cert;
};

static struct entry *entry_for(struct entry *e, size_t *n, uint8_t *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (e[i].id_len == id_len && (id_len == 0 || memcmp(e[i].id, id, id_len) == 0)) {
			free(id);
			return &e[i];
		}
	if (*n == MAX_OBJECTS) {
		free(id);
		return NULL;
	}
	memset(&e[*n], 0, sizeof e[*n]);
	e[*n].id = id;
	e[*n].id_len = id_len;
	return &e[(*n)++];
}

static void collect(const struct cer_token_raw *raw, CK_OBJECT_CLASS cls, struct entry *e,
                    size_t *n)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof cls},
	                        cls == CKO_CERTIFICATE
	                                ? (CK_ATTRIBUTE){CKA_CERTIFICATE_TYPE, &ct, sizeof ct}
	                                : (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof kt}};
	CK_OBJECT_HANDLE found[MAX_OBJECTS];
	CK_ULONG nf = 0, i;

	if (cer_token_find(f, raw->session, tmpl, 2, found, MAX_OBJECTS, &nf) != CKR_OK)
		return;
	for (i = 0; i < nf; i++) {
		uint8_t *id = NULL;
		size_t id_len = 0;
		struct entry *en;

		cer_token_attr(f, raw->session, found[i], CKA_ID, &id, &id_len);
		en = entry_for(e, n, id, id_len);
		if (en == NULL)
			continue;
		if (cls == CKO_PRIVATE_KEY && en->priv == 0)
			en->priv = found[i];
		else if (cls == CKO_PUBLIC_KEY && en->pub == 0)
			en->pub = found[i];
		else if (cls == CKO_CERTIFICATE && en->cert == 0)
			en->cert = found[i];
	}
}

static json_t *flag(const struct cer_token_raw *raw, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_FUNCTION_LIST_PTR f = raw->functions;
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = {t, &v, sizeof v};

	if (o == 0 || f->C_GetAttributeValue(raw->session, o, &a, 1) != CKR_OK)
		return json_null();
	return json_boolean(v == CK_TRUE);
}

static unsigned modulus_bits(const struct cer_token_raw *raw, CK_OBJECT_HANDLE o)
{
	uint8_t *n = NULL;
	size_t len = 0, i = 0;
	unsigned bits = 0;

	if (o == 0 ||
	    cer_token_attr(raw->functions, raw->session, o, CKA_MODULUS, &n, &len) != CKR_OK)
		return 0;
	while (i < len && n[i] == 0)
		i++;
	if (i < len) {
		unsigned top = n[i];

		bits = (unsigned)(len - i - 1) * 8;
		while (top) {
			bits++;
			top >>= 1;
		}
	}
	free(n);
	return bits;
}

static json_t *cert_json(struct cer_token_list *l, const struct cer_token_raw *raw,
                         const struct entry *en, json_t *key)
{
	struct cer_cert *c = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	json_t *j;
	long idx;
	char opens[300];

	if (en->cert == 0 ||
	    cer_token_attr(raw->functions, raw->session, en->cert, CKA_VALUE, &der, &len) !=
	            CKR_OK ||
	    cer_cert_from_der(der, len, "token certificate", &c) != CER_OK) {
		free(der);
		cer_clear_error();
		json_object_set_new(key, "share", json_null());
		json_object_set_new(key, "opens", json_string(""));
		return json_null();
	}
	free(der);
	if (json_integer_value(json_object_get(key, "bits")) == 0)
		json_object_set_new(key, "bits", json_integer(cer_cert_rsa_bits(c)));
	j = json_pack("{s:s, s:s, s:s}", "subject_cn", cer_cert_common_name(c), "x5t_256",
	              cer_cert_thumb_b64(c), "not_after", cer_cert_not_after(c));
	if (l->sd != NULL) {
		idx = cer_sd_find_share(l->sd, cer_cert_thumb(c), 0);
		if (idx >= 0)
			snprintf(opens, sizeof opens, "share #%ld of %.200s", idx + 1,
			         cer_sd_name(l->sd));
		else
			snprintf(opens, sizeof opens, "no share in %.200s", cer_sd_name(l->sd));
		json_object_set_new(key, "share", idx >= 0 ? json_integer(idx + 1) : json_null());
		json_object_set_new(key, "opens", json_string(opens));
	} else {
		json_object_set_new(key, "share", json_null());
		json_object_set_new(key, "opens", json_string(""));
	}
	cer_cert_free(c);
	return j != NULL ? j : json_null();
}

static json_t *key_json(struct cer_token_list *l, const struct cer_token_raw *raw,
                        const struct cer_token_info *info, const struct entry *en)
{
	CK_OBJECT_HANDLE any = en->priv ? en->priv : en->pub ? en->pub : en->cert;
	json_t *k = json_object();
	uint8_t *label = NULL;
	size_t ll = 0;
	char hex[2 * 64 + 1], idu[3 * 64 + 1], lab[200], tok[120], uri[600];
	unsigned bits = modulus_bits(raw, en->priv);

	if (k == NULL)
		return NULL;
	if (bits == 0)
		bits = modulus_bits(raw, en->pub);
	cer_token_attr(raw->functions, raw->session, any, CKA_LABEL, &label, &ll);
	snprintf(lab, sizeof lab, "%.*s", (int)(ll > 128 ? 128 : ll), label ? (char *)label : "");
	cer_text_sanitize(lab);
	free(label);
	cer_token_hex(en->id, en->id_len > 64 ? 64 : en->id_len, hex);
	cer_token_pct((const char *)en->id, en->id_len > 64 ? 64 : en->id_len, idu, sizeof idu);
	cer_token_pct(info->label, strlen(info->label), tok, sizeof tok);
	snprintf(uri, sizeof uri, "pkcs11:token=%s;serial=%s%s%s;type=private", tok, info->serial,
	         en->id_len ? ";id=" : "", en->id_len ? idu : "");
	json_object_set_new(k, "uri", json_string(uri));
	json_object_set_new(k, "label", json_string(lab));
	json_object_set_new(k, "id", json_string(hex));
	json_object_set_new(k, "bits", json_integer(bits));
	json_object_set_new(k, "private_key", json_boolean(en->priv != 0));
	json_object_set_new(k, "sensitive", flag(raw, en->priv, CKA_SENSITIVE));
	json_object_set_new(k, "extractable", flag(raw, en->priv, CKA_EXTRACTABLE));
	json_object_set_new(k, "decrypt", flag(raw, en->priv, CKA_DECRYPT));
	json_object_set_new(k, "certificate", cert_json(l, raw, en, k));
	return k;
}

int cer_token_list_add(struct cer_token_list *l, struct cer_token_key *k)
{
	const struct cer_token_info *in = cer_token_key_info(k);
	struct cer_token_raw raw;
	struct entry *e = calloc(MAX_OBJECTS, sizeof *e);
	size_t n = 0, i;
	json_t *t, *keys;
	int ret = CER_OK;

	if (e == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	cer_token_key_raw(k, &raw);
	collect(&raw, CKO_PRIVATE_KEY, e, &n);
	collect(&raw, CKO_PUBLIC_KEY, e, &n);
	collect(&raw, CKO_CERTIFICATE, e, &n);
	keys = json_array();
	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:b, s:b, s:b, s:b}", "label", in->label,
	              "serial", in->serial, "manufacturer", in->manufacturer, "model", in->model,
	              "module", in->module, "slot", (json_int_t)in->slot, "login_required",
	              in->login_required, "logged_in", cer_token_key_logged_in(k), "pin_count_low",
	              in->pin_count_low, "pin_final_try", in->pin_final_try, "pin_locked",
	              in->pin_locked);
	for (i = 0; i < n && keys != NULL; i++) {
		if (json_array_append_new(keys, key_json(l, &raw, in, &e[i])) != 0)
			ret = cer_fail(CER_EINTERNAL, "out of memory");
	}
	for (i = 0; i < n; i++)
		free(e[i].id);
	free(e);
	if (t == NULL || keys == NULL || json_object_set_new(t, "keys", keys) != 0 ||
	    json_array_append_new(l->tokens, t) != 0)
		ret = cer_fail(CER_EINTERNAL, "out of memory");
	return ret;
}

int cer_token_list_report(struct cer_token_list *l, struct cer_report **out)
{
	json_t *j = json_pack("{s:s, s:s, s:O, s:i}", "report", "token_list", "sd_file",
	                      l->sd != NULL ? cer_sd_name(l->sd) : "", "tokens", l->tokens,
	                      "exit_status", 0);

	*out = NULL;
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, out);
}

int cer_token_list_scan(struct cer_tokens *t, const struct cer_sd *sd, struct cer_token_list **out)
{
	struct cer_token_list *l = NULL;
	size_t i;
	int ret = cer_token_list_new(sd, &l);

	for (i = 0; ret == CER_OK && i < cer_tokens_count(t); i++) {
		struct cer_token_key *k = NULL;

		ret = cer_token_key_open_index(t, i, &k);
		if (ret == CER_OK)
			ret = cer_token_list_add(l, k);
		cer_token_key_close(k);
	}
	if (ret != CER_OK) {
		cer_token_list_free(l);
		l = NULL;
	}
	*out = l;
	return ret;
}

size_t cer_token_list_key_count(const struct cer_token_list *l)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(l->tokens); i++)
		n += json_array_size(json_object_get(json_array_get(l->tokens, i), "keys"));
	return n;
}

static const char *str_of(const json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v != NULL ? v : "";
}

void cer_token_list_key(const struct cer_token_list *l, size_t i, struct cer_token_list_key *out)
{
	size_t t, nk;
	const json_t *tok = NULL, *key = NULL, *cert;

	memset(out, 0, sizeof *out);
	for (t = 0; t < json_array_size(l->tokens); t++) {
		tok = json_array_get(l->tokens, t);
		nk = json_array_size(json_object_get(tok, "keys"));
		if (i < nk) {
			key = json_array_get(json_object_get(tok, "keys"), i);
			break;
		}
		i -= nk;
	}
	out->token_label = out->token_serial = out->uri = out->label = out->id_hex =
	        out->subject_cn = "";
	if (key == NULL)
		return;
	out->token = t;
	out->token_label = str_of(tok, "label");
	out->token_serial = str_of(tok, "serial");
	out->uri = str_of(key, "uri");
	out->label = str_of(key, "label");
	out->id_hex = str_of(key, "id");
	out->bits = (unsigned)json_integer_value(json_object_get(key, "bits"));
	cert = json_object_get(key, "certificate");
	out->subject_cn = str_of(cert, "subject_cn");
	out->share = (unsigned)json_integer_value(json_object_get(key, "share"));
}
