#include "ceremony/recovery.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/exchange.h"
#include "ceremony/filekind.h"
#include "ceremony/io.h"
#include "ceremony/token_unwrap.h"
#include "ceremony/transcript.h"
#include "sss/sss.h"

#define SHARE_LEN (2 * CER_MASTER_LEN) /* version 2 share plaintext */
#define SUBSET_LIMIT 5000u             /* beyond this, check share by share */
#define PATH_TEXT_MAX 4096

struct rkey {
	char *key_path;
	char *cert_path;
	char x5t[CER_THUMB_B64_LEN];
	uint8_t spki[CER_THUMB_LEN]; /* of the loaded key's certificate, when key_loaded */
	bool key_loaded;             /* a private key whose certificate was found */
	enum cer_share_outcome outcome;
	int status; /* CER_OK for a good share, else what the failure stands for */
	char *message;
	enum cer_reason reason; /* the failure's, for the face to word (cer.h) */
	bool disagrees;
};

struct cer_recovery {
	const struct cer_sd *sd;
	const struct cer_exchange *exchange; /* restore blob only; the caller's */
	struct rkey *keys;
	size_t nkeys;
	uint8_t *plain;    /* secret: one decrypted share per SD share entry, SHARE_LEN each */
	bool *have;        /* per SD share entry */
	size_t *owner;     /* per SD share entry: index in keys */
	size_t *good;      /* SD share indices, in the order they came in (version 2) */
	unsigned ngood;    /* good keys */
	char **share_name; /* per SD share entry: its certificate's CN once known */
	uint8_t *master;   /* secret, CER_MASTER_LEN, valid when have_master */
	bool have_master;
	unsigned long subsets_checked;
	struct cer_transcript *transcript; /* the caller's, or NULL */
	char flow[16];
	int transcript_status; /* CER_OK until a record could not be written */
	char transcript_err[512];
};

/* What the session says in place of a key path that names nothing. */
static const char missing_path[] = CER_RECOVERY_MISSING_PATH;

const char *cer_share_outcome_name(enum cer_share_outcome o)
{
	switch (o) {
	case CER_SHARE_GOOD: return "good";
	case CER_SHARE_NEEDS_PASSWORD: return "needs_password";
	case CER_SHARE_WRONG_PASSWORD: return "wrong_password";
	case CER_SHARE_NOT_A_KEY: return "not_a_key";
	case CER_SHARE_NO_CERT: return "no_certificate";
	case CER_SHARE_NO_MATCH: return "no_share";
	case CER_SHARE_DUPLICATE: return "duplicate";
	case CER_SHARE_AUTH_FAILED: return "auth_failed";
	case CER_SHARE_MALFORMED: return "malformed";
	case CER_SHARE_EXCHANGE_KEY: return "exchange_key";
	}
	return "unknown";
}

const char *cer_share_outcome_text(enum cer_share_outcome o)
{
	switch (o) {
	case CER_SHARE_GOOD: return "share good";
	case CER_SHARE_NEEDS_PASSWORD: return "needs its passphrase";
	case CER_SHARE_WRONG_PASSWORD: return "wrong passphrase";
	case CER_SHARE_NOT_A_KEY: return "not a private key";
	case CER_SHARE_NO_CERT: return "its certificate was not found";
	case CER_SHARE_NO_MATCH: return "no share in this file";
	case CER_SHARE_DUPLICATE: return "its share is already in";
	case CER_SHARE_AUTH_FAILED: return "its share does not decrypt";
	case CER_SHARE_MALFORMED: return "its share in the file is malformed";
	case CER_SHARE_EXCHANGE_KEY: return "it is the exchange key";
	}
	return "unknown";
}

int cer_recovery_new(const struct cer_sd *sd, struct cer_recovery **out)
{
	struct cer_recovery *r;
	size_t n = cer_sd_share_count(sd);
	int ret;

	*out = NULL;
	ret = cer_sd_check_items(sd);
	if (ret != CER_OK)
		return ret;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	r->sd = sd;
	r->plain = cer_secret_alloc(n * SHARE_LEN);
	r->master = cer_secret_alloc(CER_MASTER_LEN);
	r->have = calloc(n, sizeof *r->have);
	r->owner = calloc(n, sizeof *r->owner);
	r->good = calloc(n, sizeof *r->good);
	r->share_name = calloc(n, sizeof *r->share_name);
	if (r->plain == NULL || r->master == NULL || r->have == NULL || r->owner == NULL ||
	    r->good == NULL || r->share_name == NULL) {
		cer_recovery_free(r);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	*out = r;
	return CER_OK;
}

void cer_recovery_free(struct cer_recovery *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nkeys; i++) {
		free(r->keys[i].key_path);
		free(r->keys[i].cert_path);
		free(r->keys[i].message);
	}
	free(r->keys);
	cer_secret_free(r->plain);
	cer_secret_free(r->master);
	free(r->have);
	free(r->owner);
	free(r->good);
	if (r->share_name != NULL)
		for (i = 0; i < cer_sd_share_count(r->sd); i++)
			free(r->share_name[i]);
	free(r->share_name);
	free(r);
}

unsigned cer_recovery_good(const struct cer_recovery *r)
{
	return r->ngood;
}

unsigned cer_recovery_required(const struct cer_recovery *r)
{
	return cer_sd_required(r->sd);
}

static bool v1_pair_complete(const struct cer_recovery *r)
{
	size_t i;

	for (i = 0; i + 1 < cer_sd_share_count(r->sd); i += 2)
		if (r->have[i] && r->have[i + 1])
			return true;
	return false;
}

bool cer_recovery_ready(const struct cer_recovery *r)
{
	if (cer_sd_version(r->sd) == 1)
		return v1_pair_complete(r);
	return r->ngood >= cer_sd_required(r->sd);
}

size_t cer_recovery_key_count(const struct cer_recovery *r)
{
	return r->nkeys;
}

/*
 * A failed attempt is a retry when a good share in the session came from the
 * same key file or the same certificate (a certificate given in place of its
 * key is known by its thumbprint), or, for an attempt that was no key at all,
 * from a key file inside it (a directory given, then the key in it): the
 * custodian got it right another time.
 * Returns the index of that good share, or r->nkeys when there is none.  A
 * key that turned out to be the exchange key is never excused.
 */
/* True when path is dir/... (dir given with or without a trailing slash). */
static bool inside_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

static size_t covered_by(const struct cer_recovery *r, size_t i)
{
	const struct rkey *k = &r->keys[i];
	size_t j;

	if (k->outcome == CER_SHARE_GOOD || k->outcome == CER_SHARE_EXCHANGE_KEY)
		return r->nkeys;
	for (j = 0; j < r->nkeys; j++) {
		const struct rkey *g = &r->keys[j];

		if (g->outcome != CER_SHARE_GOOD)
			continue;
		if (strcmp(g->key_path, k->key_path) == 0 ||
		    (k->x5t[0] != '\0' && strcmp(g->x5t, k->x5t) == 0) ||
		    (k->x5t[0] == '\0' && inside_dir(g->key_path, k->key_path)))
			return j;
	}
	return r->nkeys;
}

/* The first attempt no good share covers, or r->nkeys. */
static size_t first_uncovered(const struct cer_recovery *r)
{
	size_t i;

	for (i = 0; i < r->nkeys; i++)
		if (r->keys[i].outcome != CER_SHARE_GOOD && covered_by(r, i) == r->nkeys)
			return i;
	return r->nkeys;
}

int cer_recovery_check_keys(const struct cer_recovery *r)
{
	size_t i = first_uncovered(r);

	if (i == r->nkeys)
		return CER_OK;
	return cer_fail_reason(r->keys[i].status, r->keys[i].reason, "%s", r->keys[i].message);
}

void cer_recovery_key(const struct cer_recovery *r, size_t i, struct cer_recovery_key *out)
{
	const struct rkey *k = &r->keys[i];
	size_t by = covered_by(r, i);

	out->key_path = k->key_path;
	out->cert_path = k->cert_path != NULL ? k->cert_path : "";
	out->x5t_256 = k->x5t;
	out->outcome = k->outcome;
	out->message = k->message != NULL ? k->message : "";
	out->disagrees = k->disagrees;
	out->superseded = by < r->nkeys;
	out->superseded_by = out->superseded ? by : 0;
	out->status = k->status;
}

/*
 * One transcript record, if the session has a transcript.  The caller's
 * message and reason are kept; a failed write is remembered for verify and
 * restore_blob to report.
 */
static void note(struct cer_recovery *r, const char *fmt, ...) CER_PRINTF(2, 3);
static void note(struct cer_recovery *r, const char *fmt, ...)
{
	char saved[1024], text[2048];
	enum cer_reason why = cer_errreason();
	va_list ap;

	if (r->transcript == NULL || r->transcript_status != CER_OK)
		return;
	snprintf(saved, sizeof saved, "%s", cer_errmsg());
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	r->transcript_status = cer_transcript_add(r->transcript, "%s", text);
	if (r->transcript_status != CER_OK) {
		r->transcript_status = CER_EIO;
		snprintf(r->transcript_err, sizeof r->transcript_err, "%s", cer_errmsg());
	}
	cer_fail_reason(CER_OK, why, "%s", saved);
}

/* CER_EIO naming the transcript when a record was lost, else status. */
static int transcript_checked(const struct cer_recovery *r, int status)
{
	if (r->transcript_status == CER_OK || (status != CER_OK && status != CER_EQUORUM))
		return status;
	return cer_fail(CER_EIO, "%s; the session's record is incomplete", r->transcript_err);
}

int cer_recovery_failed(struct cer_transcript *t, const char *flow, const char *sd_path, int status)
{
	return cer_transcript_note(t, "%s %s: [FAIL] %s (exit %d)", flow, sd_path, cer_errmsg(),
	                           status) != CER_OK
	               ? CER_EIO
	               : status;
}

int cer_recovery_set_transcript(struct cer_recovery *r, struct cer_transcript *t, const char *flow,
                                const char *sd_label)
{
	r->transcript = t;
	r->transcript_status = CER_OK;
	snprintf(r->flow, sizeof r->flow, "%s", flow);
	note(r, "%s start: sd_file %s sha256 %s (version %u, %zu shares, %u required)", r->flow,
	     sd_label, cer_sd_sha256_hex(r->sd), cer_sd_version(r->sd), cer_sd_share_count(r->sd),
	     cer_recovery_required(r));
	return transcript_checked(r, CER_OK);
}

int cer_recovery_transcript_status(const struct cer_recovery *r)
{
	return transcript_checked(r, CER_OK);
}

static void note_key(struct cer_recovery *r, const struct rkey *k)
{
	const char *cert = k->cert_path[0] != '\0' ? k->cert_path : "-";
	const char *x5t = k->x5t[0] != '\0' ? k->x5t : "-";

	if (k->status == CER_OK)
		note(r, "%s key %s: certificate %s x5t_256 %s: [OK] good, %u of %u required",
		     r->flow, k->key_path, cert, x5t, r->ngood, cer_recovery_required(r));
	else
		note(r, "%s key %s: certificate %s x5t_256 %s: [FAIL] %s: %s", r->flow, k->key_path,
		     cert, x5t, cer_share_outcome_name(k->outcome), k->message);
}

/* The drill's report and its result, after the attempts. */
static void note_report(struct cer_recovery *r, const struct cer_report *rep, const char *result,
                        int status)
{
	char saved[1024];
	enum cer_reason why = cer_errreason();

	if (r->transcript == NULL || r->transcript_status != CER_OK)
		return;
	snprintf(saved, sizeof saved, "%s", cer_errmsg());
	if (cer_transcript_add_report(r->transcript, rep) != CER_OK) {
		r->transcript_status = CER_EIO;
		snprintf(r->transcript_err, sizeof r->transcript_err, "%s", cer_errmsg());
	}
	cer_fail_reason(CER_OK, why, "%s", saved);
	note(r, "%s result: %s (exit %d)", r->flow, result, status);
}

static int record(struct cer_recovery *r, const char *key_path, const struct cer_cert *cert,
                  bool key_loaded, enum cer_share_outcome outcome, int status)
{
	struct rkey *k, *keys = realloc(r->keys, sizeof *keys * (r->nkeys + 1));

	if (keys == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	r->keys = keys;
	k = &keys[r->nkeys];
	memset(k, 0, sizeof *k);
	k->outcome = outcome;
	k->status = status;
	k->key_path = strdup(key_path);
	k->cert_path = strdup(cert != NULL ? cer_cert_source(cert) : "");
	k->message = strdup(status == CER_OK ? "" : cer_errmsg());
	k->reason = status == CER_OK ? CER_REASON_NONE : cer_errreason();
	if (k->key_path == NULL || k->cert_path == NULL || k->message == NULL) {
		free(k->key_path);
		free(k->cert_path);
		free(k->message);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	if (cert != NULL) {
		snprintf(k->x5t, sizeof k->x5t, "%s", cer_cert_thumb_b64(cert));
		memcpy(k->spki, cer_cert_spki_sha256(cert), sizeof k->spki);
		k->key_loaded = key_loaded;
	}
	r->nkeys++;
	note_key(r, k);
	return status;
}

static enum cer_share_outcome outcome_of_load(enum cer_key_load why)
{
	switch (why) {
	case CER_KEY_NEEDS_PASSWORD: return CER_SHARE_NEEDS_PASSWORD;
	case CER_KEY_BAD_PASSWORD: return CER_SHARE_WRONG_PASSWORD;
	default: return CER_SHARE_NOT_A_KEY;
	}
}

/* The private half that unwraps a share: a loaded file key, or a key on a token. */
struct unwrapper {
	const struct cer_privkey *file;
	struct cer_token_key *token;
	const struct cer_progress *progress;
};

static int unwrap_cek(const struct unwrapper *u, const struct cer_jwe *jwe, const char *what,
                      uint8_t cek[static CER_CEK_LEN])
{
	const char *how = "";
	int ret;

	if (u->file != NULL)
		return cer_jwe_unwrap_cek(jwe, cer_privkey_pkey(u->file), what, cek);
	ret = cer_token_unwrap_cek(u->token, jwe, what, cek, &how);
	if (how[0] != '\0')
		cer_progress_note(u->progress, "%s: %s unwrap by %s", what, jwe->alg, how);
	return ret;
}

/* Decrypts share entry idx with key into r->plain; outcome on failure. */
static int open_share(struct cer_recovery *r, size_t idx, const struct unwrapper *key,
                      const char *key_path, enum cer_share_outcome *outcome)
{
	const struct cer_sd_share *sh = cer_sd_share(r->sd, idx);
	size_t want = cer_sd_version(r->sd) == 2 ? SHARE_LEN : CER_MASTER_LEN;
	uint8_t *cek = NULL, *pt = NULL;
	size_t pt_len = 0;
	char what[200];
	int ret;

	snprintf(what, sizeof what, "key %.150s: share #%zu", key_path, idx + 1);
	if (sh->problem != NULL || sh->jwe == NULL) {
		*outcome = CER_SHARE_MALFORMED;
		return cer_fail(CER_EINPUT, "%s in %s is malformed: %s", what, cer_sd_name(r->sd),
		                sh->problem != NULL ? sh->problem : "unknown");
	}
	cek = cer_secret_alloc(CER_CEK_LEN);
	if (cek == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	ret = unwrap_cek(key, sh->jwe, what, cek);
	if (ret == CER_OK)
		ret = cer_jwe_decrypt(sh->jwe, cek, what, &pt, &pt_len);
	if (ret != CER_OK) {
		*outcome = ret == CER_EAUTH ? CER_SHARE_AUTH_FAILED : CER_SHARE_MALFORMED;
		goto out;
	}
	if (pt_len != want) {
		*outcome = CER_SHARE_MALFORMED;
		ret = cer_fail(CER_EINPUT, "%s: decrypted share is %zu bytes, expected %zu", what,
		               pt_len, want);
		goto out;
	}
	memcpy(r->plain + idx * SHARE_LEN, pt, pt_len);
	ret = CER_OK;
out:
	cer_secret_free(pt);
	cer_secret_free(cek);
	return ret;
}

static int fail_no_share(const struct cer_recovery *r, const char *key_path,
                         const struct cer_cert *cert)
{
	return cer_fail(CER_EAUTH, "key %s: no share in %s for its certificate %s (x5t_256 %s)",
	                key_path, cer_sd_name(r->sd), cer_cert_source(cert),
	                cer_cert_thumb_b64(cert));
}

static int fail_duplicate(const struct cer_recovery *r, const char *key_path, size_t dup_of)
{
	return cer_fail(CER_EAUTH, "key %s: its share is already in (same certificate as key %s)",
	                key_path, r->keys[dup_of].key_path);
}

/* Remembers cert's CN for every share entry that is for it. */
static void name_shares_of(struct cer_recovery *r, const struct cer_cert *cert)
{
	long idx;

	for (idx = cer_sd_find_share(r->sd, cer_cert_thumb(cert), 0); idx >= 0;
	     idx = cer_sd_find_share(r->sd, cer_cert_thumb(cert), (size_t)idx + 1)) {
		if (r->share_name[idx] != NULL || cer_cert_common_name(cert)[0] == '\0')
			continue;
		r->share_name[idx] = strdup(cer_cert_common_name(cert));
	}
}

static int add_loaded(struct cer_recovery *r, const struct unwrapper *key, const char *key_path,
                      const struct cer_cert *cert, enum cer_share_outcome *outcome)
{
	const struct cer_sd *sd = r->sd;
	long idx = cer_sd_find_share(sd, cer_cert_thumb(cert), 0);
	size_t opened = 0, dup_of = 0;
	bool dup = false;
	int ret = CER_OK;

	if (idx < 0) {
		*outcome = CER_SHARE_NO_MATCH;
		return fail_no_share(r, key_path, cert);
	}
	/* Version 1 files hold one certificate in several pairs: open them all. */
	for (; idx >= 0; idx = cer_sd_find_share(sd, cer_cert_thumb(cert), (size_t)idx + 1)) {
		if (r->have[idx]) {
			dup = true;
			dup_of = r->owner[idx];
			continue;
		}
		ret = open_share(r, (size_t)idx, key, key_path, outcome);
		if (ret != CER_OK)
			break;
		r->have[idx] = true;
		r->owner[idx] = r->nkeys;
		opened++;
		if (cer_sd_version(sd) == 2) {
			r->good[r->ngood] = (size_t)idx;
			break;
		}
	}
	if (ret != CER_OK) {
		for (idx = 0; (size_t)idx < cer_sd_share_count(sd); idx++) {
			if (r->have[idx] && r->owner[idx] == r->nkeys) {
				r->have[idx] = false;
				sodium_memzero(r->plain + (size_t)idx * SHARE_LEN, SHARE_LEN);
			}
		}
		return ret;
	}
	if (opened == 0 && dup) {
		*outcome = CER_SHARE_DUPLICATE;
		return fail_duplicate(r, key_path, dup_of);
	}
	name_shares_of(r, cert);
	r->ngood++;
	r->have_master = false;
	*outcome = CER_SHARE_GOOD;
	return CER_OK;
}

/* The private key a certificate file goes with, by the names keygen and az use. */
static bool sibling_key(const char *cert_path, char *out, size_t size)
{
	static const char *const exts[] = {".key", ".pfx", ".p12"};
	const char *slash = strrchr(cert_path, '/'), *dot = strrchr(cert_path, '.');
	size_t stem = dot != NULL && (slash == NULL || dot > slash + 1) ? (size_t)(dot - cert_path)
	                                                                : strlen(cert_path);
	size_t i;

	for (i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		if (snprintf(out, size, "%.*s%s", (int)stem, cert_path, exts[i]) >= (int)size)
			return false;
		if (strcmp(out, cert_path) != 0 && cer_path_exists(out))
			return true;
	}
	return false;
}

/*
 * A file that is not a private key, said as what it most likely is: a
 * directory (the custodian named the media, not the file) or a certificate
 * (the public half, *cert gets it so that the attempt is known by its
 * thumbprint).  Otherwise the loader's message and status stand.
 */
static int explain_not_a_key(const char *key_path, int status, struct cer_cert **cert)
{
	char msg[1024], sib[PATH_TEXT_MAX];
	enum cer_file_kind kind;

	*cert = NULL;
	snprintf(msg, sizeof msg, "%s", cer_errmsg());
	kind = cer_file_kind(key_path);
	if (kind == CER_FILE_DIRECTORY)
		return cer_fail(CER_EINPUT,
		                "key %s: is a directory, not a key file (name the key "
		                "file in it, such as %s%scert_<i>.key)",
		                key_path, key_path,
		                key_path[strlen(key_path) - 1] == '/' ? "" : "/");
	if (kind == CER_FILE_SECURITY_DOMAIN)
		return cer_fail(CER_EINPUT,
		                "key %s: this is a security-domain file, not a private "
		                "key",
		                key_path);
	if (kind != CER_FILE_CERTIFICATE || cer_cert_load(key_path, cert) != CER_OK) {
		*cert = NULL;
		return cer_fail(status, "%s", msg);
	}
	if (sibling_key(key_path, sib, sizeof sib))
		return cer_fail(CER_EINPUT,
		                "key %s: this is a certificate (the public half), not "
		                "a private key: the key that goes with it is probably %s",
		                key_path, sib);
	return cer_fail(CER_EINPUT,
	                "key %s: this is a certificate (the public half), not a "
	                "private key: give the private key file that goes with it",
	                key_path);
}

/* Nothing at path (not even a dangling link): what was typed may be a passphrase. */
static bool names_nothing(const char *path)
{
	struct stat st;

	return path[0] == '\0' || (lstat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR));
}

int cer_recovery_add_key(struct cer_recovery *r, const char *key_path, const char *password,
                         const char *certs_dir, enum cer_share_outcome *outcome)
{
	struct cer_privkey *key = NULL;
	struct cer_cert *cert = NULL;
	enum cer_key_load why;
	int ret;

	*outcome = CER_SHARE_NOT_A_KEY;
	ret = cer_privkey_load(key_path, password, &key, &why);
	if (ret != CER_OK) {
		*outcome = outcome_of_load(why);
		if (why == CER_KEY_NEEDS_PASSWORD)
			return ret;
		if (*outcome == CER_SHARE_NOT_A_KEY && names_nothing(key_path)) {
			ret = cer_fail(ret,
			               "a key path that does not exist (not shown: it may be a "
			               "passphrase typed in the wrong field)");
			key_path = missing_path;
		} else if (*outcome == CER_SHARE_NOT_A_KEY) {
			ret = explain_not_a_key(key_path, ret, &cert);
		}
		ret = record(r, key_path, cert, false, *outcome, ret);
		cer_cert_free(cert);
		return ret;
	}
	ret = cer_privkey_cert(key, key_path, certs_dir, &cert);
	if (ret != CER_OK) {
		*outcome = CER_SHARE_NO_CERT;
		goto out;
	}
	if (r->exchange != NULL) {
		ret = cer_exchange_check_key(r->exchange, cer_cert_spki_sha256(cert),
		                             cer_cert_source(cert));
		if (ret != CER_OK) {
			*outcome = CER_SHARE_EXCHANGE_KEY;
			r->exchange = NULL;
			goto out;
		}
	}
	ret = add_loaded(r, &(struct unwrapper){.file = key}, key_path, cert, outcome);
out:
	cer_privkey_free(key);
	ret = record(r, key_path, cert, true, *outcome, ret);
	cer_cert_free(cert);
	return ret;
}

static enum cer_share_outcome outcome_of_token(int status)
{
	switch (status) {
	case CER_EAUTH: return CER_SHARE_WRONG_PASSWORD;
	case CER_EUSAGE: return CER_SHARE_NEEDS_PASSWORD;
	default: return CER_SHARE_NOT_A_KEY;
	}
}

int cer_recovery_add_token(struct cer_recovery *r, struct cer_tokens *tokens, const char *uri,
                           const char *pin, const char *certs_dir,
                           const struct cer_progress *progress, struct cer_token_info *info,
                           enum cer_share_outcome *outcome)
{
	struct cer_token_key *k = NULL;
	struct cer_cert *cert = NULL;
	int ret;

	*outcome = CER_SHARE_NOT_A_KEY;
	if (info != NULL)
		memset(info, 0, sizeof *info);
	ret = cer_token_key_open(tokens, uri, &k);
	if (ret != CER_OK)
		return record(r, uri, NULL, false, *outcome, ret);
	if (info != NULL)
		*info = *cer_token_key_info(k);
	if (pin == NULL && cer_token_key_info(k)->login_required &&
	    !cer_token_key_info(k)->pin_pad && !cer_token_key_info(k)->pin_locked) {
		*outcome = CER_SHARE_NEEDS_PASSWORD;
		ret = cer_fail(CER_EUSAGE, "%s: needs its user PIN", cer_token_key_name(k));
		cer_token_key_close(k);
		return ret;
	}
	ret = cer_token_key_login(k, pin);
	if (info != NULL)
		*info = *cer_token_key_info(k);
	if (ret != CER_OK) {
		*outcome = outcome_of_token(ret);
		goto out;
	}
	ret = cer_token_key_select(k);
	if (ret == CER_OK) {
		ret = cer_token_key_cert(k, certs_dir, &cert);
		if (ret != CER_OK)
			*outcome = CER_SHARE_NO_CERT;
	}
	if (ret != CER_OK)
		goto out;
	if (r->exchange != NULL) {
		ret = cer_exchange_check_key(r->exchange, cer_cert_spki_sha256(cert),
		                             cer_cert_source(cert));
		if (ret != CER_OK) {
			*outcome = CER_SHARE_EXCHANGE_KEY;
			r->exchange = NULL;
			goto out;
		}
	}
	ret = add_loaded(r, &(struct unwrapper){.token = k, .progress = progress}, uri, cert,
	                 outcome);
out:
	cer_token_key_close(k);
	ret = record(r, uri, cert, cert != NULL, *outcome, ret);
	cer_cert_free(cert);
	return ret;
}

const struct cer_sd *cer_recovery_sd(const struct cer_recovery *r)
{
	return r->sd;
}

size_t cer_recovery_share_count(const struct cer_recovery *r)
{
	return cer_sd_share_count(r->sd);
}

void cer_recovery_share(const struct cer_recovery *r, size_t i, struct cer_recovery_share *out)
{
	const struct cer_sd_share *sh = cer_sd_share(r->sd, i);

	out->number = (unsigned)i + 1;
	out->x5t_256 = sh->x5t_256 != NULL ? sh->x5t_256 : "";
	out->name = r->share_name[i] != NULL ? r->share_name[i] : "";
	out->in = r->have[i];
}

int cer_recovery_name_shares(struct cer_recovery *r, const char *certs_dir)
{
	size_t i;
	int ret = CER_OK;

	for (i = 0; i < cer_sd_share_count(r->sd) && ret == CER_OK; i++) {
		const struct cer_sd_share *sh = cer_sd_share(r->sd, i);
		struct cer_cert *cert = NULL;
		char *path = NULL;

		if (!sh->thumb_ok || r->share_name[i] != NULL)
			continue;
		ret = cer_certs_dir_find(certs_dir, sh->thumb, &path);
		if (ret == CER_OK && path != NULL && cer_cert_load(path, &cert) == CER_OK)
			name_shares_of(r, cert);
		cer_cert_free(cert);
		free(path);
	}
	return ret;
}

int cer_recovery_precheck(struct cer_recovery *r, const char *key_path, long *share,
                          enum cer_share_outcome *outcome)
{
	struct cer_cert *cert = NULL;
	char path[4096];
	size_t dup_of = 0;
	long idx, first;
	int ret = CER_OK;

	*share = -1;
	*outcome = CER_SHARE_GOOD;
	if (cer_key_cert_path(key_path, path, sizeof path) != CER_OK ||
	    strcmp(path, key_path) == 0 || !cer_path_exists(path) ||
	    cer_cert_load(path, &cert) != CER_OK)
		return CER_OK; /* unknown until the key is unlocked */
	first = cer_sd_find_share(r->sd, cer_cert_thumb(cert), 0);
	if (first < 0) {
		*outcome = CER_SHARE_NO_MATCH;
		ret = record(r, key_path, cert, false, *outcome, fail_no_share(r, key_path, cert));
		goto out;
	}
	name_shares_of(r, cert);
	for (idx = first; idx >= 0;
	     idx = cer_sd_find_share(r->sd, cer_cert_thumb(cert), (size_t)idx + 1)) {
		if (!r->have[idx]) {
			*share = idx;
			goto out;
		}
		dup_of = r->owner[idx];
	}
	*outcome = CER_SHARE_DUPLICATE;
	ret = record(r, key_path, cert, false, *outcome, fail_duplicate(r, key_path, dup_of));
out:
	cer_cert_free(cert);
	return ret;
}

/* CER_EINPUT when a key presented so far has x's public key. */
static int exchange_among_keys(const struct cer_recovery *r, const struct cer_exchange *x)
{
	size_t i;
	int ret = CER_OK;

	for (i = 0; i < r->nkeys && ret == CER_OK; i++)
		if (r->keys[i].key_loaded)
			ret = cer_exchange_check_key(x, r->keys[i].spki, r->keys[i].cert_path);
	return ret;
}

int cer_recovery_set_exchange(struct cer_recovery *r, const struct cer_exchange *x,
                              const char *certs_dir)
{
	int ret;

	r->exchange = NULL;
	ret = cer_exchange_check_sd(x, r->sd);
	if (ret == CER_OK && certs_dir != NULL)
		ret = cer_exchange_check_dir(x, certs_dir);
	if (ret == CER_OK)
		ret = exchange_among_keys(r, x);
	if (ret == CER_OK)
		r->exchange = x;
	return ret;
}

/* --- rebuilding and checking the master key --- */

static const char *item_tag(const struct cer_recovery *r, size_t i)
{
	return cer_sd_item(r->sd, i)->tag;
}

/* True when some item authenticates under master (tag check only). */
static int master_authenticates(const struct cer_recovery *r, const uint8_t *master, bool *ok)
{
	uint8_t *cek = cer_secret_alloc(CER_CEK_LEN);
	size_t i;
	int ret = CER_OK;

	*ok = false;
	if (cek == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < cer_sd_item_count(r->sd) && !*ok; i++) {
		ret = cer_item_cek(master, item_tag(r, i), cek);
		if (ret != CER_OK)
			break;
		*ok = cer_jwe_check_tag(cer_sd_item(r->sd, i)->jwe, cek, "item") == CER_OK;
	}
	cer_secret_free(cek);
	cer_clear_error();
	return ret;
}

struct search {
	size_t members[SSS_MAX_SHARES]; /* SD share indices of the subset (version 2) */
	bool in_good[SSS_MAX_SHARES];   /* per position in r->good: in some good subset */
	bool any_value;                 /* some subset combined without error */
	bool values_differ;             /* two subsets gave different values */
	uint8_t *first;                 /* secret: first value seen */
	uint8_t *cand;                  /* secret: scratch */
};

/*
 * Tries one subset (positions pos[0..k) in r->good, or one version 1 pair):
 * rebuilds a candidate and, if no master is known yet, tests it against the
 * items.  Marks the members when the subset yields the master.
 */
static int try_subset(struct cer_recovery *r, struct search *s, const unsigned *pos, unsigned k)
{
	const uint8_t *sh[SSS_MAX_SHARES];
	unsigned i;
	bool ok = false;
	int ret;

	r->subsets_checked++;
	if (cer_sd_version(r->sd) == 2) {
		for (i = 0; i < k; i++)
			sh[i] = r->plain + r->good[pos[i]] * SHARE_LEN;
		if (sss_combine(s->cand, CER_MASTER_LEN, sh, k) != 0)
			return CER_OK;
	} else {
		for (i = 0; i < CER_MASTER_LEN; i++)
			s->cand[i] =
			        r->plain[pos[0] * SHARE_LEN + i] ^ r->plain[pos[1] * SHARE_LEN + i];
	}
	if (!s->any_value) {
		memcpy(s->first, s->cand, CER_MASTER_LEN);
		s->any_value = true;
	} else if (sodium_memcmp(s->first, s->cand, CER_MASTER_LEN) != 0) {
		s->values_differ = true;
	}
	if (r->have_master) {
		ok = sodium_memcmp(r->master, s->cand, CER_MASTER_LEN) == 0;
	} else {
		ret = master_authenticates(r, s->cand, &ok);
		if (ret != CER_OK)
			return ret;
		if (ok) {
			memcpy(r->master, s->cand, CER_MASTER_LEN);
			r->have_master = true;
		}
	}
	if (ok && cer_sd_version(r->sd) == 2)
		for (i = 0; i < k; i++)
			s->in_good[pos[i]] = true;
	return CER_OK;
}

static unsigned long binomial_capped(unsigned n, unsigned k, unsigned long cap)
{
	unsigned long c = 1;
	unsigned i;

	if (k > n)
		return 0;
	for (i = 1; i <= k; i++) {
		c = c * (n - k + i) / i;
		if (c > cap)
			return cap + 1;
	}
	return c;
}

/*
 * Finds the master key.  all: check every subset (verify) rather than stop at
 * the first that works (restore).  Marks disagreeing keys when all is set.
 */
static int find_master(struct cer_recovery *r, bool all, const struct cer_progress *p)
{
	struct search s;
	unsigned pos[SSS_MAX_SHARES];
	unsigned k = cer_sd_required(r->sd), n = r->ngood, i;
	unsigned long total, done = 0;
	int ret = CER_OK;

	memset(&s, 0, sizeof s);
	r->have_master = false;
	r->subsets_checked = 0;
	s.first = cer_secret_alloc(CER_MASTER_LEN);
	s.cand = cer_secret_alloc(CER_MASTER_LEN);
	if (s.first == NULL || s.cand == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (cer_sd_version(r->sd) == 1) {
		for (i = 0; i + 1 < cer_sd_share_count(r->sd); i += 2) {
			if (!r->have[i] || !r->have[i + 1])
				continue;
			pos[0] = i;
			pos[1] = i + 1;
			ret = try_subset(r, &s, pos, 2);
			if (ret != CER_OK || (r->have_master && !all))
				break;
		}
		goto verdict;
	}
	total = binomial_capped(n, k, SUBSET_LIMIT);
	if (total <= SUBSET_LIMIT) {
		for (i = 0; i < k; i++)
			pos[i] = i;
		for (;;) {
			ret = try_subset(r, &s, pos, k);
			cer_progress_step(p, "Checking share subsets", (unsigned)++done,
			                  (unsigned)total);
			if (ret != CER_OK || (r->have_master && !all))
				break;
			for (i = k; i-- > 0 && pos[i] == n - k + i;)
				;
			if (i == (unsigned)-1)
				break;
			pos[i]++;
			for (i++; i < k; i++)
				pos[i] = pos[i - 1] + 1;
		}
	} else {
		/* Too many subsets: find one good subset, then test each other share in it. */
		for (i = 0; i + k <= n && !r->have_master && ret == CER_OK; i++) {
			unsigned j;

			for (j = 0; j < k; j++)
				pos[j] = i + j;
			ret = try_subset(r, &s, pos, k);
		}
		if (r->have_master && all && ret == CER_OK) {
			unsigned base = i - 1, j;

			for (j = 0; j < n && ret == CER_OK; j++) {
				if (j >= base && j < base + k)
					continue;
				for (i = 0; i < k; i++)
					pos[i] = base + i;
				pos[k - 1] = j;
				ret = try_subset(r, &s, pos, k);
			}
		}
	}
verdict:
	if (ret != CER_OK)
		goto out;
	if (all && r->have_master && cer_sd_version(r->sd) == 2) {
		for (i = 0; i < n; i++)
			if (!s.in_good[i])
				r->keys[r->owner[r->good[i]]].disagrees = true;
	}
	if (!r->have_master) {
		if (!s.any_value)
			ret = cer_fail(CER_EAUTH,
			               "the shares are inconsistent: they do not combine "
			               "(every subset of %u gives an invalid value)",
			               k);
		else if (s.values_differ)
			ret = cer_fail(CER_EAUTH,
			               "the shares are inconsistent: no %u of them rebuild "
			               "a master key that authenticates any item",
			               k);
		else
			ret = cer_fail(
			        CER_EAUTH,
			        "item '%s': authentication failed with the rebuilt "
			        "master key (the item is tampered, or the shares are not from "
			        "this security domain)",
			        item_tag(r, 0));
	}
out:
	cer_secret_free(s.first);
	cer_secret_free(s.cand);
	sodium_memzero(&s, sizeof s);
	return ret;
}

static int quorum_check(const struct cer_recovery *r)
{
	unsigned k = cer_sd_required(r->sd);
	char twice[PATH_TEXT_MAX + 64] = "";
	size_t i;

	if (cer_recovery_ready(r))
		return CER_OK;
	for (i = 0; i < r->nkeys && twice[0] == '\0'; i++)
		if (r->keys[i].outcome == CER_SHARE_DUPLICATE)
			snprintf(twice, sizeof twice,
			         " (key %.*s gives the same share as an earlier "
			         "key: it counts once)",
			         PATH_TEXT_MAX, r->keys[i].key_path);
	if (cer_sd_version(r->sd) == 1)
		return cer_fail(CER_EQUORUM,
		                "%u good share%s, but no complete pair (version 1 "
		                "needs both keys of one pair)%s",
		                r->ngood, r->ngood == 1 ? "" : "s", twice);
	return cer_fail(CER_EQUORUM, "%u good share%s of %u required: %u more needed%s", r->ngood,
	                r->ngood == 1 ? "" : "s", k, k - r->ngood, twice);
}

/*
 * Decrypts every item with r->master into one guarded arena (one mapping
 * whatever the item count: a mapping per item runs into vm.max_map_count).
 * With plain != NULL every plaintext is kept, plain[i] pointing into *arena
 * (sized by the sum of the ciphertexts); else one item's room is reused.
 */
static int open_items(struct cer_recovery *r, uint8_t **plain, size_t *plain_len, uint8_t **arena,
                      size_t *failed_at, const struct cer_progress *p)
{
	uint8_t *cek = cer_secret_alloc(CER_CEK_LEN);
	size_t i, n = cer_sd_item_count(r->sd), room = 0, off = 0, need;
	char what[200];
	int ret = CER_OK;

	*failed_at = n;
	*arena = NULL;
	for (i = 0; i < n; i++) {
		need = cer_sd_item(r->sd, i)->jwe->ct_len + 1;
		room = plain != NULL ? room + need : (need > room ? need : room);
	}
	if (cek != NULL)
		*arena = cer_secret_alloc(room);
	if (cek == NULL || *arena == NULL) {
		cer_secret_free(cek);
		return cer_fail(CER_EINTERNAL, "out of locked memory for %zu items (%zu bytes)", n,
		                room);
	}
	for (i = 0; i < n; i++) {
		uint8_t *pt = *arena + (plain != NULL ? off : 0);

		need = cer_sd_item(r->sd, i)->jwe->ct_len + 1;
		snprintf(what, sizeof what, "%.100s: item '%.80s'", cer_sd_name(r->sd),
		         item_tag(r, i));
		ret = cer_item_cek(r->master, item_tag(r, i), cek);
		if (ret == CER_OK)
			ret = cer_jwe_decrypt_into(cer_sd_item(r->sd, i)->jwe, cek, what, pt, need,
			                           &plain_len[i]);
		if (ret != CER_OK) {
			*failed_at = i;
			break;
		}
		if (plain != NULL) {
			plain[i] = pt;
			off += need;
		} else {
			sodium_memzero(pt, need);
		}
		cer_progress_step(p, "Authenticating items", (unsigned)i + 1, (unsigned)n);
	}
	cer_secret_free(cek);
	return ret;
}

static json_t *verify_json(const struct cer_recovery *r, const size_t *sizes, size_t failed_at,
                           bool items_checked, const char *result, int status, const char *message)
{
	const struct cer_sd *sd = r->sd;
	json_t *j = json_object(), *keys = json_array(), *data = json_array();
	unsigned k = cer_sd_required(sd);
	size_t i;

	if (j == NULL || keys == NULL || data == NULL) {
		json_decref(j);
		json_decref(keys);
		json_decref(data);
		return NULL;
	}
	json_object_set_new(j, "report", json_string("verify"));
	json_object_set_new(j, "sd_file", json_string(cer_sd_name(sd)));
	json_object_set_new(j, "sha256", json_string(cer_sd_sha256_hex(sd)));
	json_object_set_new(j, "version", json_integer(cer_sd_version(sd)));
	json_object_set_new(j, "key_algorithm", json_string(cer_sd_key_algorithm(sd)));
	json_object_set_new(j, "required", json_integer(k));
	json_object_set_new(j, "kdf", json_string(cer_sd_kdf(sd)));
	for (i = 0; i < r->nkeys; i++) {
		const struct rkey *rk = &r->keys[i];
		size_t by = covered_by(r, i);
		json_t *e = json_object();

		json_object_set_new(e, "key", json_string(rk->key_path));
		json_object_set_new(e, "certificate", json_string(rk->cert_path));
		json_object_set_new(e, "x5t_256", json_string(rk->x5t));
		json_object_set_new(e, "status", json_string(cer_share_outcome_name(rk->outcome)));
		json_object_set_new(e, "disagrees", json_boolean(rk->disagrees));
		json_object_set_new(e, "message", json_string(rk->message));
		json_object_set_new(e, "superseded", json_boolean(by < r->nkeys));
		json_object_set_new(e, "superseded_by",
		                    by < r->nkeys ? json_integer((json_int_t)by + 1) : json_null());
		json_array_append_new(keys, e);
	}
	json_object_set_new(j, "keys", keys);
	json_object_set_new(j, "good", json_integer(r->ngood));
	json_object_set_new(j, "needed",
	                    json_integer(cer_recovery_ready(r)     ? 0
	                                 : cer_sd_version(sd) == 1 ? 1
	                                                           : (json_int_t)k - r->ngood));
	json_object_set_new(j, "subsets_checked", json_integer((json_int_t)r->subsets_checked));
	for (i = 0; i < cer_sd_item_count(sd); i++) {
		json_t *e = json_object();
		const char *st = !items_checked   ? "not_checked"
		                 : i < failed_at  ? "authenticated"
		                 : i == failed_at ? "failed"
		                                  : "not_checked";

		json_object_set_new(e, "tag", json_string(item_tag(r, i)));
		json_object_set_new(
		        e, "size",
		        json_integer(items_checked && i < failed_at ? (json_int_t)sizes[i] : 0));
		json_object_set_new(e, "status", json_string(st));
		json_array_append_new(data, e);
	}
	json_object_set_new(j, "data", data);
	json_object_set_new(j, "result", json_string(result));
	json_object_set_new(j, "exit_status", json_integer(status));
	json_object_set_new(j, "message", json_string(message));
	return j;
}

int cer_recovery_verify(struct cer_recovery *r, const struct cer_progress *progress,
                        struct cer_report **report)
{
	size_t n = cer_sd_item_count(r->sd), failed_at = n, i;
	size_t *sizes = calloc(n ? n : 1, sizeof *sizes);
	size_t bad = first_uncovered(r);
	uint8_t *arena = NULL;
	bool items_checked = false;
	int bad_status = bad < r->nkeys ? r->keys[bad].status : CER_OK;
	const char *result;
	char msg[1024] = "";
	json_t *j;
	int ret, rb;

	*report = NULL;
	if (sizes == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < r->nkeys; i++)
		r->keys[i].disagrees = false;
	if (bad < r->nkeys)
		snprintf(msg, sizeof msg, "%s", r->keys[bad].message);
	r->subsets_checked = 0;
	ret = quorum_check(r);
	if (ret == CER_OK) {
		ret = find_master(r, true, progress);
		if (ret == CER_OK) {
			items_checked = true;
			ret = open_items(r, NULL, sizes, &arena, &failed_at, progress);
			cer_secret_free(arena);
			arena = NULL;
		}
		for (i = 0; i < r->nkeys && ret == CER_OK; i++) {
			if (r->keys[i].disagrees)
				ret = cer_fail(CER_EAUTH,
				               "key %s: its share is authentic but disagrees "
				               "with the other shares",
				               r->keys[i].key_path);
		}
		if (ret != CER_OK)
			snprintf(msg, sizeof msg, "%s", cer_errmsg());
		sodium_memzero(r->master, CER_MASTER_LEN);
		r->have_master = false;
	} else if (bad == r->nkeys) {
		snprintf(msg, sizeof msg, "%s", cer_errmsg());
	}
	/* A key that failed, and was not retried with success, fails the drill. */
	if ((ret == CER_OK || ret == CER_EQUORUM) && bad_status != CER_OK)
		ret = bad_status;
	result = ret == CER_OK ? "verified" : ret == CER_EQUORUM ? "quorum_not_reached" : "failed";
	if (ret == CER_OK)
		snprintf(msg, sizeof msg, "full recovery verified");
	else if (ret == bad_status && items_checked && failed_at == n && cer_recovery_ready(r))
		snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
		         " (the other keys recover the domain)");
	j = verify_json(r, sizes, failed_at, items_checked, result, ret, msg);
	free(sizes);
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	rb = cer_report_build(j, ret, report);
	if (rb != CER_OK)
		return rb;
	if (ret != CER_OK)
		cer_fail_reason(ret, ret == bad_status ? r->keys[bad].reason : CER_REASON_NONE,
		                "%s", msg);
	note_report(r, *report, result, ret);
	return transcript_checked(r, ret);
}

/* --- the restore blob --- */

static int item_header(const char *tag, char **out)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "dir", "enc", "A256CBC-HS512", "kid", tag);

	*out = h != NULL ? json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(h);
	return *out != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
}

static int build_blob(struct cer_recovery *r, const struct cer_cert *exchange,
                      uint8_t *const *plain, const size_t *plain_len, char **text,
                      const struct cer_progress *p)
{
	size_t i, n = cer_sd_item_count(r->sd), ek_len = 0;
	uint8_t *mprime = cer_secret_alloc(CER_MASTER_LEN), *cek = cer_secret_alloc(CER_CEK_LEN);
	uint8_t *ek = NULL;
	char *hdr = NULL, *compact = NULL;
	json_t *root = NULL, *data = json_array();
	int ret;

	*text = NULL;
	if (mprime == NULL || cek == NULL || data == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	randombytes_buf(mprime, CER_MASTER_LEN);
	for (i = 0; i < n; i++) {
		const char *tag = item_tag(r, i);

		ret = cer_item_cek(mprime, tag, cek);
		if (ret == CER_OK)
			ret = item_header(tag, &hdr);
		if (ret == CER_OK)
			ret = cer_jwe_encrypt(hdr, cek, NULL, 0, plain[i], plain_len[i], &compact);
		free(hdr);
		hdr = NULL;
		if (ret != CER_OK)
			goto out;
		if (json_array_append_new(data, json_pack("{s:s, s:s}", "compact_jwe", compact,
		                                          "tag", tag)) != 0) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		free(compact);
		compact = NULL;
		cer_progress_step(p, "Re-encrypting items", (unsigned)i + 1, (unsigned)n);
	}
	randombytes_buf(cek, CER_CEK_LEN);
	ret = cer_rsa_oaep256_wrap(cer_cert_pubkey(exchange), cek, CER_CEK_LEN, &ek, &ek_len);
	if (ret != CER_OK)
		goto out;
	ret = cer_jwe_encrypt(
	        "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256CBC-HS512\",\"kid\":\"not used\"}", cek,
	        ek, ek_len, mprime, CER_MASTER_LEN, &compact);
	if (ret != CER_OK)
		goto out;
	root = json_pack("{s:{s:o, s:s}, s:{s:s, s:s}}", "EncData", "data", data, "kdf",
	                 "sp108_kdf", "WrappedKey", "enc_key", compact, "x5t_256",
	                 cer_cert_thumb_b64(exchange));
	data = NULL;
	*text = root != NULL ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	ret = *text != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
out:
	json_decref(root);
	json_decref(data);
	free(compact);
	free(hdr);
	free(ek);
	cer_secret_free(cek);
	cer_secret_free(mprime);
	return ret;
}

int cer_recovery_restore_blob(struct cer_recovery *r, const char *out_path, bool force,
                              const struct cer_progress *progress, char sha256_hex[static 65])
{
	size_t n = cer_sd_item_count(r->sd), failed_at;
	uint8_t **plain = calloc(n ? n : 1, sizeof *plain);
	size_t *plain_len = calloc(n ? n : 1, sizeof *plain_len);
	uint8_t *arena = NULL;
	uint8_t md[CER_SHA256_LEN];
	char *text = NULL;
	int ret;

	sha256_hex[0] = '\0';
	ret = cer_recovery_check_keys(r);
	if (ret != CER_OK)
		goto out;
	if (r->exchange == NULL) {
		ret = cer_fail(CER_EUSAGE, "no exchange key bound to the recovery session");
		goto out;
	}
	ret = exchange_among_keys(r, r->exchange);
	if (ret != CER_OK)
		goto out;
	if (plain == NULL || plain_len == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (!force && cer_path_exists(out_path)) {
		ret = cer_fail_exists(out_path);
		goto out;
	}
	ret = quorum_check(r);
	if (ret == CER_OK)
		ret = find_master(r, false, progress);
	if (ret == CER_OK)
		ret = open_items(r, plain, plain_len, &arena, &failed_at, progress);
	sodium_memzero(r->master, CER_MASTER_LEN);
	r->have_master = false;
	if (ret == CER_OK)
		ret = build_blob(r, cer_exchange_cert(r->exchange), plain, plain_len, &text,
		                 progress);
	if (ret != CER_OK)
		goto out;
	ret = cer_file_write_atomic(out_path, text, strlen(text), force ? CER_WRITE_REPLACE : 0);
	if (ret != CER_OK)
		goto out;
	ret = cer_sha256(text, strlen(text), md);
	if (ret == CER_OK)
		cer_hex_encode(md, sizeof md, sha256_hex);
out:
	if (ret == CER_OK)
		note(r, "%s restore blob %s: [OK] sha256 %s", r->flow, out_path, sha256_hex);
	else
		note(r, "%s restore blob %s: [FAIL] %s", r->flow, out_path, cer_errmsg());
	ret = transcript_checked(r, ret);
	cer_secret_free(arena);
	free(plain);
	free(plain_len);
	free(text);
	return ret;
}

/* --- the items, for a caller that re-shares them (rekey) --- */

int cer_recovery_open_items(struct cer_recovery *r, const struct cer_progress *progress,
                            uint8_t **plain, size_t *plain_len, uint8_t **arena)
{
	size_t n = cer_sd_item_count(r->sd), i, failed_at;
	int ret;

	for (i = 0; i < n; i++) {
		plain[i] = NULL;
		plain_len[i] = 0;
	}
	for (i = 0; i < r->nkeys; i++)
		r->keys[i].disagrees = false;
	ret = quorum_check(r);
	if (ret == CER_OK)
		ret = find_master(r, true, progress);
	for (i = 0; i < r->nkeys && ret == CER_OK; i++)
		if (r->keys[i].disagrees)
			ret = cer_fail(CER_EAUTH,
			               "key %s: its share is authentic but disagrees "
			               "with the other shares",
			               r->keys[i].key_path);
	*arena = NULL;
	if (ret == CER_OK)
		ret = open_items(r, plain, plain_len, arena, &failed_at, progress);
	sodium_memzero(r->master, CER_MASTER_LEN);
	r->have_master = false;
	if (ret != CER_OK) {
		cer_secret_free(*arena);
		*arena = NULL;
		for (i = 0; i < n; i++) {
			plain[i] = NULL;
			plain_len[i] = 0;
		}
	}
	return ret;
}

unsigned long cer_recovery_subsets_checked(const struct cer_recovery *r)
{
	return r->subsets_checked;
}

int cer_recovery_blob_report(const char *out_path, const char *sha256_hex, const char *hsm_name,
                             struct cer_report **out)
{
	const char *hsm = hsm_name != NULL && hsm_name[0] != '\0' ? hsm_name : "<HSM>";
	char *az = NULL;
	json_t *j;

	*out = NULL;
	if (asprintf(&az,
	             "az keyvault security-domain upload --hsm-name %s --sd-file %s --restore-blob",
	             hsm, out_path) < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "report", "restore_blob", "path", out_path,
	              "sha256", sha256_hex, "hsm_name", hsm_name != NULL ? hsm_name : "",
	              "az_command", az);
	free(az);
	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, out);
}
