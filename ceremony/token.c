#include "ceremony/token_int.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MATCH 16

struct slot {
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID id;
	CK_INFO module_info;
	CK_SLOT_INFO slot_info;
	CK_TOKEN_INFO token_info;
	struct cer_token_info info;
};

struct cer_tokens {
	CK_FUNCTION_LIST_PTR *modules; /* NULL-terminated */
	bool single;                   /* one module file, loaded by path */
	struct slot *slots;
	size_t nslots;
	enum cer_token_unwrap unwrap;
};

struct cer_token_key {
	struct cer_tokens *t;
	struct slot *slot;
	P11KitUri *uri;
	char *uri_text;
	CK_SESSION_HANDLE session;
	bool open, logged_in;
	CK_OBJECT_HANDLE key;
	uint8_t *id;
	size_t id_len;
	struct evp_pkey_st *pub;
	size_t modulus_len;
	struct cer_token_key_attrs attrs;
	struct cer_token_info info;
	char name[CER_TOKEN_NAME_LEN + 300];
};

bool cer_token_is_uri(const char *s)
{
	return s != NULL && strncmp(s, CER_TOKEN_URI_PREFIX, strlen(CER_TOKEN_URI_PREFIX)) == 0;
}

const char *cer_token_rv_name(unsigned long rv)
{
	static _Thread_local char other[32];

	switch (rv) {
	case CKR_OK: return "CKR_OK";
	case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
	case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
	case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
	case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
	case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
	case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
	case CKR_ENCRYPTED_DATA_INVALID: return "CKR_ENCRYPTED_DATA_INVALID";
	case CKR_ENCRYPTED_DATA_LEN_RANGE: return "CKR_ENCRYPTED_DATA_LEN_RANGE";
	case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
	case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
	case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
	case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
	case CKR_TEMPLATE_INCOMPLETE: return "CKR_TEMPLATE_INCOMPLETE";
	case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
	case CKR_BUFFER_TOO_SMALL: return "CKR_BUFFER_TOO_SMALL";
	}
	snprintf(other, sizeof other, "CKR 0x%lx", rv);
	return other;
}

/* A blank-padded PKCS#11 text field as a C string, trailing blanks removed. */
static void field(char *out, size_t cap, const CK_UTF8CHAR *in, size_t in_len)
{
	size_t n = in_len < cap - 1 ? in_len : cap - 1;

	memcpy(out, in, n);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
	cer_text_sanitize(out);
}

static void describe_token(struct slot *s)
{
	char *file = p11_kit_module_get_filename(s->f);
	const char *base;
	CK_FLAGS fl = s->token_info.flags;

	field(s->info.label, sizeof s->info.label, s->token_info.label, sizeof s->token_info.label);
	field(s->info.serial, sizeof s->info.serial, s->token_info.serialNumber,
	      sizeof s->token_info.serialNumber);
	field(s->info.manufacturer, sizeof s->info.manufacturer, s->token_info.manufacturerID,
	      sizeof s->token_info.manufacturerID);
	field(s->info.model, sizeof s->info.model, s->token_info.model, sizeof s->token_info.model);
	base = file != NULL ? strrchr(file, '/') : NULL;
	snprintf(s->info.module, sizeof s->info.module, "%s",
	         base != NULL   ? base + 1
	         : file != NULL ? file
	                        : "?");
	free(file);
	s->info.slot = s->id;
	s->info.login_required = (fl & CKF_LOGIN_REQUIRED) != 0;
	s->info.pin_pad = (fl & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	s->info.pin_count_low = (fl & CKF_USER_PIN_COUNT_LOW) != 0;
	s->info.pin_final_try = (fl & CKF_USER_PIN_FINAL_TRY) != 0;
	s->info.pin_locked = (fl & CKF_USER_PIN_LOCKED) != 0;
}

void cer_token_name(const struct cer_token_info *info, char out[static CER_TOKEN_NAME_LEN])
{
	snprintf(out, CER_TOKEN_NAME_LEN, "token '%s' (serial %s)", info->label,
	         info->serial[0] ? info->serial : "none");
}

/* p11-kit-trust holds the system's CA certificates, never a custodian's key. */
static bool skipped_module(CK_FUNCTION_LIST_PTR f)
{
	char *name = p11_kit_module_get_name(f);
	bool skip = name != NULL && strcmp(name, "p11-kit-trust") == 0;

	free(name);
	return skip;
}

static int enumerate(struct cer_tokens *t)
{
	size_t m;

	for (m = 0; t->modules[m] != NULL; m++) {
		CK_FUNCTION_LIST_PTR f = t->modules[m];
		CK_SLOT_ID ids[64];
		CK_ULONG n = 64, i;
		CK_INFO minfo;

		if ((!t->single && skipped_module(f)) || f->C_GetInfo(&minfo) != CKR_OK ||
		    f->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
			continue;
		for (i = 0; i < n; i++) {
			struct slot s, *grown;

			memset(&s, 0, sizeof s);
			s.f = f;
			s.id = ids[i];
			s.module_info = minfo;
			if (f->C_GetSlotInfo(ids[i], &s.slot_info) != CKR_OK ||
			    f->C_GetTokenInfo(ids[i], &s.token_info) != CKR_OK ||
			    !(s.token_info.flags & CKF_TOKEN_INITIALIZED))
				continue;
			describe_token(&s);
			grown = realloc(t->slots, sizeof *grown * (t->nslots + 1));
			if (grown == NULL)
				return cer_fail(CER_EINTERNAL, "out of memory");
			t->slots = grown;
			t->slots[t->nslots++] = s;
		}
	}
	return CER_OK;
}

int cer_tokens_open(const char *module_path, struct cer_tokens **out)
{
	struct cer_tokens *t = calloc(1, sizeof *t);
	CK_FUNCTION_LIST_PTR one;
	CK_RV rv;
	int ret;

	*out = NULL;
	if (t == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (module_path != NULL) {
		t->single = true;
		t->modules = calloc(2, sizeof *t->modules);
		if (t->modules == NULL) {
			free(t);
			return cer_fail(CER_EINTERNAL, "out of memory");
		}
		one = p11_kit_module_load(module_path, 0);
		if (one == NULL) {
			ret = cer_fail(CER_EIO, "PKCS#11 module %s: cannot load it: %s",
			               module_path,
			               p11_kit_message() ? p11_kit_message() : "unknown reason");
			free(t->modules);
			free(t);
			return ret;
		}
		rv = p11_kit_module_initialize(one);
		if (rv != CKR_OK) {
			ret = cer_fail(CER_EIO, "PKCS#11 module %s: cannot initialise it: %s",
			               module_path, cer_token_rv_name(rv));
			p11_kit_module_release(one);
			free(t->modules);
			free(t);
			return ret;
		}
		t->modules[0] = one;
	} else {
		t->modules = p11_kit_modules_load_and_initialize(0);
		if (t->modules == NULL) {
			ret = cer_fail(CER_EIO,
			               "cannot load the PKCS#11 modules registered with "
			               "p11-kit: %s",
			               p11_kit_message() ? p11_kit_message() : "unknown");
			free(t);
			return ret;
		}
	}
	ret = enumerate(t);
	if (ret != CER_OK) {
		cer_tokens_close(t);
		return ret;
	}
	*out = t;
	return CER_OK;
}

void cer_tokens_close(struct cer_tokens *t)
{
	if (t == NULL)
		return;
	if (t->single) {
		if (t->modules[0] != NULL) {
			p11_kit_module_finalize(t->modules[0]);
			p11_kit_module_release(t->modules[0]);
		}
		free(t->modules);
	} else if (t->modules != NULL) {
		p11_kit_modules_finalize_and_release(t->modules);
	}
	free(t->slots);
	free(t);
}

void cer_tokens_set_unwrap(struct cer_tokens *t, enum cer_token_unwrap mode)
{
	t->unwrap = mode;
}

enum cer_token_unwrap cer_tokens_unwrap(const struct cer_tokens *t)
{
	return t->unwrap;
}

enum cer_token_unwrap cer_token_key_unwrap_mode(const struct cer_token_key *k)
{
	return k->t->unwrap;
}

size_t cer_tokens_count(const struct cer_tokens *t)
{
	return t->nslots;
}

const struct cer_token_info *cer_tokens_info(const struct cer_tokens *t, size_t i)
{
	return &t->slots[i].info;
}

static bool slot_matches(P11KitUri *uri, const struct slot *s)
{
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);

	if (want != (CK_SLOT_ID)-1 && want != s->id)
		return false;
	return p11_kit_uri_match_module_info(uri, &s->module_info) &&
	       p11_kit_uri_match_slot_info(uri, &s->slot_info) &&
	       p11_kit_uri_match_token_info(uri, &s->token_info);
}

/* "'alice' (serial 1), 'bob' (serial 2)" or "none" */
static void list_names(const struct cer_tokens *t, const size_t *idx, size_t n, char *out,
                       size_t cap)
{
	char one[CER_TOKEN_NAME_LEN];
	size_t i, used = 0;

	snprintf(out, cap, "none");
	for (i = 0; i < n && used < cap; i++) {
		const struct cer_token_info *in = &t->slots[idx != NULL ? idx[i] : i].info;

		snprintf(one, sizeof one, "'%s' (serial %s)", in->label, in->serial);
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", one);
	}
}

static int open_slot(struct cer_tokens *t, struct slot *s, P11KitUri *uri, const char *text,
                     bool rw, struct cer_token_key **out)
{
	struct cer_token_key *k = calloc(1, sizeof *k);
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	if (k == NULL || (k->uri_text = strdup(text)) == NULL) {
		free(k);
		p11_kit_uri_free(uri);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	k->t = t;
	k->slot = s;
	k->uri = uri;
	k->info = s->info;
	cer_token_name(&k->info, k->name);
	rv = s->f->C_OpenSession(s->id, flags, NULL, NULL, &k->session);
	if (rv != CKR_OK) {
		int ret = cer_fail(rv == CKR_TOKEN_WRITE_PROTECTED ? CER_EUSAGE : CER_EIO,
		                   "%s: cannot open a session: %s", k->name, cer_token_rv_name(rv));

		cer_token_key_close(k);
		return ret;
	}
	k->open = true;
	if (cer_token_key_refresh(k) != CER_OK) {
		int ret = cer_fail_context(CER_EIO, k->name);

		cer_token_key_close(k);
		return ret;
	}
	*out = k;
	return CER_OK;
}

static int open_uri(struct cer_tokens *t, const char *text, bool rw, struct cer_token_key **out)
{
	P11KitUri *uri = p11_kit_uri_new();
	size_t match[MAX_MATCH], n = 0, i, *all;
	char names[600];
	int rc, ret;

	*out = NULL;
	if (uri == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (!cer_token_is_uri(text)) {
		p11_kit_uri_free(uri);
		return cer_fail(CER_EUSAGE, "%s: not a PKCS#11 URI (pkcs11:...)", text);
	}
	rc = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, uri);
	if (rc != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return cer_fail(CER_EUSAGE, "%s: not a valid PKCS#11 URI: %s", text,
		                p11_kit_uri_message(rc));
	}
	if (p11_kit_uri_get_pin_value(uri) != NULL || p11_kit_uri_get_pin_source(uri) != NULL) {
		p11_kit_uri_free(uri);
		return cer_fail_reason(CER_EUSAGE, CER_REASON_PIN_IN_URI,
		                       "PKCS#11 URI with a PIN (pin-value or pin-source) "
		                       "refused: a command line is visible to other processes");
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		p11_kit_uri_free(uri);
		return cer_fail(CER_EUSAGE, "%s: the URI has an attribute this tool does not know",
		                text);
	}
	for (i = 0; i < t->nslots; i++)
		if (slot_matches(uri, &t->slots[i]) && n < MAX_MATCH)
			match[n++] = i;
	if (n == 1)
		return open_slot(t, &t->slots[match[0]], uri, text, rw, out);
	p11_kit_uri_free(uri);
	if (n == 0) {
		all = NULL;
		list_names(t, all, t->nslots, names, sizeof names);
		ret = cer_fail(CER_EIO,
		               "%s: no token present matches (token absent?); tokens "
		               "present: %s",
		               text, names);
	} else {
		list_names(t, match, n, names, sizeof names);
		ret = cer_fail(CER_EUSAGE,
		               "%s: %zu tokens match (%s): add token= or serial= to "
		               "the URI",
		               text, n, names);
	}
	return ret;
}

int cer_token_key_open(struct cer_tokens *t, const char *uri, struct cer_token_key **out)
{
	return open_uri(t, uri, false, out);
}

int cer_token_key_open_rw(struct cer_tokens *t, const char *uri, struct cer_token_key **out)
{
	return open_uri(t, uri, true, out);
}

int cer_token_key_open_index(struct cer_tokens *t, size_t i, struct cer_token_key **out)
{
	P11KitUri *uri = p11_kit_uri_new();

	*out = NULL;
	if (uri == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	*p11_kit_uri_get_token_info(uri) = t->slots[i].token_info;
	return open_slot(t, &t->slots[i], uri, "pkcs11:", false, out);
}

void cer_token_key_close(struct cer_token_key *k)
{
	if (k == NULL)
		return;
	if (k->logged_in)
		k->slot->f->C_Logout(k->session);
	if (k->open)
		k->slot->f->C_CloseSession(k->session);
	EVP_PKEY_free(k->pub);
	free(k->id);
	p11_kit_uri_free(k->uri);
	free(k->uri_text);
	free(k);
}

const char *cer_token_key_uri(const struct cer_token_key *k)
{
	return k->uri_text;
}

void cer_token_key_uri_label(const struct cer_token_key *k, char *out, size_t cap)
{
	CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(k->uri, CKA_LABEL);
	size_t n = a != NULL ? (size_t)a->ulValueLen : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(out, a->pValue, n);
	out[n] = '\0';
}

const struct cer_token_info *cer_token_key_info(const struct cer_token_key *k)
{
	return &k->info;
}

int cer_token_key_refresh(struct cer_token_key *k)
{
	CK_RV rv = k->slot->f->C_GetTokenInfo(k->slot->id, &k->slot->token_info);

	if (rv != CKR_OK)
		return cer_fail(CER_EIO, "the token is gone: %s", cer_token_rv_name(rv));
	describe_token(k->slot);
	k->info = k->slot->info;
	return CER_OK;
}

int cer_token_key_login(struct cer_token_key *k, const char *pin)
{
	CK_RV rv;

	if (!k->info.login_required)
		return CER_OK;
	if (k->info.pin_locked)
		return cer_fail(CER_EAUTH,
		                "%s: the user PIN is locked (too many wrong PINs); the "
		                "token's security officer must unlock it",
		                k->name);
	if (pin == NULL && !k->info.pin_pad)
		return cer_fail(CER_EUSAGE, "%s: needs its user PIN", k->name);
	rv = k->slot->f->C_Login(k->session, CKU_USER, (CK_UTF8CHAR_PTR)pin,
	                         pin != NULL ? (CK_ULONG)strlen(pin) : 0);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		k->logged_in = rv == CKR_OK;
		if (cer_token_key_refresh(k) != CER_OK)
			cer_clear_error();
		return CER_OK;
	}
	if (cer_token_key_refresh(k) != CER_OK)
		return cer_fail(CER_EIO, "%s: the token is gone (login: %s)", k->name,
		                cer_token_rv_name(rv));
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return cer_fail(CER_EAUTH, "%s: wrong PIN%s", k->name,
		                k->info.pin_locked      ? "; the user PIN is now locked"
		                : k->info.pin_final_try ? "; one more wrong PIN locks the token"
		                                        : "");
	case CKR_PIN_LOCKED:
		return cer_fail(CER_EAUTH,
		                "%s: the user PIN is locked (too many wrong PINs); the "
		                "token's security officer must unlock it",
		                k->name);
	case CKR_PIN_EXPIRED:
		return cer_fail(CER_EAUTH, "%s: the user PIN has expired; change it first",
		                k->name);
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_HANDLE_INVALID:
		return cer_fail(CER_EIO, "%s: the token is gone (%s)", k->name,
		                cer_token_rv_name(rv));
	default: return cer_fail(CER_EAUTH, "%s: login failed: %s", k->name, cer_token_rv_name(rv));
	}
}

bool cer_token_key_logged_in(const struct cer_token_key *k)
{
	return k->logged_in;
}

CK_RV cer_token_attr(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                     CK_ATTRIBUTE_TYPE type, uint8_t **value, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;

	*value = NULL;
	*len = 0;
	rv = f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == (CK_ULONG)-1)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1);
	if (a.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = f->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*value = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

CK_RV cer_token_find(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
                     CK_ULONG ntmpl, CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *n)
{
	CK_RV rv = f->C_FindObjectsInit(s, tmpl, ntmpl);

	*n = 0;
	if (rv != CKR_OK)
		return rv;
	rv = f->C_FindObjects(s, found, max, n);
	f->C_FindObjectsFinal(s);
	return rv;
}

int cer_token_rsa_pub(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
                      struct evp_pkey_st **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	int ret = CER_EINTERNAL;

	*out = NULL;
	if (bld != NULL && bn != NULL && be != NULL && ctx != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1 &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		ret = CER_OK;
	else
		cer_fail(CER_EINTERNAL, "cannot build an RSA public key from the token's values");
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

void cer_token_pct(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "%%%02x", c);
	}
	out[o] = '\0';
}

const char *cer_token_pin_warning(const struct cer_token_info *info)
{
	if (info->pin_locked)
		return "the user PIN is locked";
	if (info->pin_final_try)
		return "final try: one more wrong PIN locks the token";
	if (info->pin_count_low)
		return "a wrong PIN was entered since the last good one; few tries are left";
	return NULL;
}

void cer_token_uri_for(const struct cer_token_info *info, const char *object, char *out, size_t cap)
{
	char tok[3 * sizeof info->label], ser[3 * sizeof info->serial], obj[400];

	cer_token_pct(info->label, strlen(info->label), tok, sizeof tok);
	cer_token_pct(info->serial, strlen(info->serial), ser, sizeof ser);
	if (object != NULL)
		cer_token_pct(object, strlen(object), obj, sizeof obj);
	snprintf(out, cap, "pkcs11:token=%s;serial=%s%s%s", tok, ser, object ? ";object=" : "",
	         object ? obj : "");
}

void cer_token_hex(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static void id_texts(const uint8_t *id, size_t len, char hex[static 130], char uri[static 200])
{
	size_t i, n = len > 64 ? 64 : len;

	cer_token_hex(id, n, hex);
	uri[0] = '\0';
	for (i = 0; i < n && i * 3 + 4 < 200; i++)
		snprintf(uri + i * 3, 4, "%%%02x", id[i]);
}

static bool attr_bool(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                      CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = {type, &v, sizeof v};

	return f->C_GetAttributeValue(s, o, &a, 1) == CKR_OK && v == CK_TRUE;
}

/* The modulus and exponent: from the private key object, else from the public key with its id. */
static int read_public(struct cer_token_key *k)
{
	CK_FUNCTION_LIST_PTR f = k->slot->f;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, k->id, k->id_len}};
	CK_OBJECT_HANDLE pubh;
	CK_ULONG found = 0;
	uint8_t *n = NULL, *e = NULL;
	size_t n_len = 0, e_len = 0;
	int ret;

	if (cer_token_attr(f, k->session, k->key, CKA_MODULUS, &n, &n_len) != CKR_OK ||
	    cer_token_attr(f, k->session, k->key, CKA_PUBLIC_EXPONENT, &e, &e_len) != CKR_OK ||
	    n_len == 0 || e_len == 0) {
		free(n);
		free(e);
		n = e = NULL;
		if (k->id_len == 0 ||
		    cer_token_find(f, k->session, tmpl, 2, &pubh, 1, &found) != CKR_OK ||
		    found != 1 ||
		    cer_token_attr(f, k->session, pubh, CKA_MODULUS, &n, &n_len) != CKR_OK ||
		    cer_token_attr(f, k->session, pubh, CKA_PUBLIC_EXPONENT, &e, &e_len) !=
		            CKR_OK) {
			ret = cer_fail(CER_EINPUT,
			               "%s: its public key (modulus, exponent) cannot be "
			               "read from the token",
			               k->name);
			goto out;
		}
	}
	while (n_len > 0 && n[0] == 0) {
		memmove(n, n + 1, --n_len);
	}
	ret = cer_token_rsa_pub(n, n_len, e, e_len, &k->pub);
	if (ret == CER_OK) {
		k->modulus_len = n_len;
		k->attrs.bits = (unsigned)EVP_PKEY_get_bits(k->pub);
		if (k->attrs.bits < CER_MIN_RSA_BITS)
			ret = cer_fail(CER_EINPUT, "%s: RSA-%u is shorter than %d bits", k->name,
			               k->attrs.bits, CER_MIN_RSA_BITS);
	}
out:
	free(n);
	free(e);
	return ret;
}

static void name_key(struct cer_token_key *k)
{
	char tok[CER_TOKEN_NAME_LEN];

	cer_token_name(&k->info, tok);
	snprintf(k->name, sizeof k->name, "%s key '%s' (id %s)", tok, k->attrs.label,
	         k->attrs.id_hex[0] ? k->attrs.id_hex : "none");
	cer_text_sanitize(k->name);
}

/* Label and id of object o, for naming candidates. */
static void object_label_id(struct cer_token_key *k, CK_OBJECT_HANDLE o, char *out, size_t cap)
{
	uint8_t *label = NULL, *id = NULL;
	size_t ll = 0, il = 0;
	char hex[130], uri[200];

	cer_token_attr(k->slot->f, k->session, o, CKA_LABEL, &label, &ll);
	cer_token_attr(k->slot->f, k->session, o, CKA_ID, &id, &il);
	id_texts(id, il, hex, uri);
	snprintf(out, cap, "'%.*s' (id %s)", (int)(ll > 64 ? 64 : ll), label ? (char *)label : "",
	         hex[0] ? hex : "none");
	cer_text_sanitize(out);
	free(label);
	free(id);
}

int cer_token_key_select(struct cer_token_key *k)
{
	CK_FUNCTION_LIST_PTR f = k->slot->f;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_ATTRIBUTE tmpl[4] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_KEY_TYPE, &kt, sizeof kt}};
	CK_ATTRIBUTE *a, *want_class = p11_kit_uri_get_attribute(k->uri, CKA_CLASS);
	CK_OBJECT_HANDLE found[MAX_MATCH];
	CK_ULONG nt = 2, n = 0, i;
	char names[700], one[160];
	size_t used = 0;
	CK_RV rv;

	if (want_class != NULL && (want_class->ulValueLen != sizeof cls ||
	                           *(CK_OBJECT_CLASS *)want_class->pValue != CKO_PRIVATE_KEY))
		return cer_fail(CER_EUSAGE,
		                "%s: the URI's type is not 'private': name the private "
		                "key",
		                k->uri_text);
	if ((a = p11_kit_uri_get_attribute(k->uri, CKA_LABEL)) != NULL)
		tmpl[nt++] = *a;
	if ((a = p11_kit_uri_get_attribute(k->uri, CKA_ID)) != NULL)
		tmpl[nt++] = *a;
	rv = cer_token_find(f, k->session, tmpl, nt, found, MAX_MATCH, &n);
	if (rv != CKR_OK)
		return cer_fail(CER_EIO, "%s: cannot search the token: %s", k->name,
		                cer_token_rv_name(rv));
	if (n == 0)
		return cer_fail(CER_EINPUT, "%s: no RSA private key on the token matches %s%s",
		                k->name, k->uri_text,
		                k->logged_in || !k->info.login_required ? "" : " (not logged in)");
	if (n > 1) {
		names[0] = '\0';
		for (i = 0; i < n && used < sizeof names; i++) {
			object_label_id(k, found[i], one, sizeof one);
			used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
			                         i ? ", " : "", one);
		}
		return cer_fail(CER_EUSAGE,
		                "%s: %s matches %lu RSA private keys (%s): add object= "
		                "or id= to the URI",
		                k->name, k->uri_text, (unsigned long)n, names);
	}
	return cer_token_key_adopt(k, found[0]);
}

int cer_token_key_adopt(struct cer_token_key *k, CK_OBJECT_HANDLE o)
{
	CK_FUNCTION_LIST_PTR f = k->slot->f;
	uint8_t *label = NULL;
	size_t ll = 0;

	k->key = o;
	EVP_PKEY_free(k->pub);
	k->pub = NULL;
	free(k->id);
	k->id = NULL;
	cer_token_attr(f, k->session, k->key, CKA_ID, &k->id, &k->id_len);
	cer_token_attr(f, k->session, k->key, CKA_LABEL, &label, &ll);
	snprintf(k->attrs.label, sizeof k->attrs.label, "%.*s", (int)ll,
	         label ? (char *)label : "");
	cer_text_sanitize(k->attrs.label);
	free(label);
	id_texts(k->id, k->id_len, k->attrs.id_hex, k->attrs.id_uri);
	k->attrs.sensitive = attr_bool(f, k->session, k->key, CKA_SENSITIVE);
	k->attrs.extractable = attr_bool(f, k->session, k->key, CKA_EXTRACTABLE);
	k->attrs.can_decrypt = attr_bool(f, k->session, k->key, CKA_DECRYPT);
	name_key(k);
	return read_public(k);
}

const struct cer_token_key_attrs *cer_token_key_attrs(const struct cer_token_key *k)
{
	return &k->attrs;
}

struct evp_pkey_st *cer_token_key_pubkey(const struct cer_token_key *k)
{
	return k->pub;
}

const char *cer_token_key_name(const struct cer_token_key *k)
{
	return k->name;
}

/* "pkcs11:token=...;serial=...;id=...;type=cert" for the certificate's source. */
static char *cert_uri(const struct cer_token_key *k)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE a[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, k->id, k->id_len}};
	char *text = NULL;

	if (u == NULL)
		return NULL;
	*p11_kit_uri_get_token_info(u) = k->slot->token_info;
	p11_kit_uri_get_token_info(u)->flags = 0;
	if (p11_kit_uri_set_attributes(u, a, k->id_len ? 2 : 1) != P11_KIT_URI_OK ||
	    p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &text) != P11_KIT_URI_OK)
		text = NULL;
	p11_kit_uri_free(u);
	return text;
}

static int cert_on_token(struct cer_token_key *k, struct cer_cert **out, bool *mismatch)
{
	CK_FUNCTION_LIST_PTR f = k->slot->f;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof cls},
	                        {CKA_CERTIFICATE_TYPE, &ct, sizeof ct},
	                        {CKA_ID, k->id, k->id_len}};
	CK_OBJECT_HANDLE found[MAX_MATCH];
	CK_ULONG n = 0, i;
	struct cer_cert *c;
	uint8_t *der;
	size_t len;
	char *src;
	int ret = CER_OK;

	*out = NULL;
	if (k->id_len == 0 ||
	    cer_token_find(f, k->session, tmpl, 3, found, MAX_MATCH, &n) != CKR_OK)
		return CER_OK;
	src = cert_uri(k);
	for (i = 0; i < n && *out == NULL; i++) {
		if (cer_token_attr(f, k->session, found[i], CKA_VALUE, &der, &len) != CKR_OK)
			continue;
		c = NULL;
		if (cer_cert_from_der(der, len, src != NULL ? src : k->uri_text, &c) == CER_OK) {
			if (EVP_PKEY_eq(cer_cert_pubkey(c), k->pub) == 1) {
				*out = c;
				c = NULL;
			} else {
				*mismatch = true;
			}
		}
		cer_cert_free(c);
		free(der);
	}
	free(src);
	cer_clear_error();
	return ret;
}

int cer_token_key_cert(struct cer_token_key *k, const char *certs_dir, struct cer_cert **out)
{
	bool mismatch = false;
	int ret;

	*out = NULL;
	if (k->pub == NULL)
		return cer_fail(CER_EUSAGE, "%s: no key selected", k->name);
	ret = cert_on_token(k, out, &mismatch);
	if (ret != CER_OK || *out != NULL)
		return ret;
	if (certs_dir != NULL) {
		ret = cer_certs_dir_load_pubkey(certs_dir, k->pub, out);
		if (ret != CER_OK || *out != NULL)
			return ret;
	}
	return cer_fail_reason(CER_EINPUT, CER_REASON_NO_CERT,
	                       "%s: certificate not found (%s on the token with its id%s%s)",
	                       k->name, mismatch ? "the one" : "none",
	                       mismatch ? " has another public key" : "",
	                       certs_dir != NULL ? "; none with its public key in the "
	                                           "certificates directory either"
	                                         : "");
}

void cer_token_key_raw(const struct cer_token_key *k, struct cer_token_raw *out)
{
	out->functions = k->slot->f;
	out->session = k->session;
	out->slot = k->slot->id;
	out->key = k->key;
	out->modulus_len = k->modulus_len;
}
