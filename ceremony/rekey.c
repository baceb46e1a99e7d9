#include "ceremony/rekey.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/transcript.h"
#include "sss/sss.h"

#define SHARE_LEN (2 * CER_MASTER_LEN)
#define SHARE_HEADER "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256CBC-HS512\",\"kid\":\"not used\"}"

struct cer_rekey {
	struct cer_rekey_params p;
	struct cer_cert *certs[CER_KEYGEN_MAX_KEYS];
};

/* What is being built; every pointer to secret data is cer_secret_alloc memory. */
struct build {
	size_t nitems;
	uint8_t **plain; /* the items' plaintexts, in arena */
	uint8_t *arena;  /* secret: all plaintexts */
	size_t *plain_len;
	uint8_t *master; /* secret: M' */
	uint8_t *shares; /* secret: N shares of SHARE_LEN */
	uint8_t *ceks;   /* secret: N share content keys, kept for the check */
	char *text;      /* the new file (public) */
	unsigned long subsets;
	char sha256[65];
};

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int cer_rekey_check_out(const struct cer_rekey_params *p)
{
	char *copy;
	bool writable;

	if (p->out_path == NULL || p->out_path[0] == '\0')
		return cer_fail(CER_EUSAGE, "no output file given");
	if (p->sd_path != NULL && same_file(p->sd_path, p->out_path))
		return cer_fail(CER_EUSAGE,
		                "%s: is the input security-domain file; the new file "
		                "must be written beside it, never over it",
		                p->out_path);
	if (!p->force && cer_path_exists(p->out_path))
		return cer_fail_exists(p->out_path);
	/* Before any key is touched, as the write would refuse it at the end. */
	if (cer_stale_temps_check(p->out_path, true) != CER_OK)
		return CER_EIO;
	copy = strdup(p->out_path);
	if (copy == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	writable = access(dirname(copy), W_OK | X_OK) == 0;
	free(copy);
	if (!writable)
		return cer_fail(CER_EIO, "%s: cannot write in its directory: %s", p->out_path,
		                strerror(errno));
	return CER_OK;
}

/* package's rules: RSA of 2048 bits or more, every public key distinct. */
static int load_certs(struct cer_rekey *k)
{
	unsigned i, j;
	int ret;

	for (i = 0; i < k->p.count; i++) {
		const char *path = k->p.cert_paths[i];

		if (path == NULL)
			return cer_fail(CER_EUSAGE, "new certificate %u: no file given", i + 1);
		ret = cer_cert_load(path, &k->certs[i]);
		if (ret != CER_OK)
			return ret;
		if (cer_cert_rsa_bits(k->certs[i]) == 0)
			return cer_fail(CER_EINPUT,
			                "%s: not an RSA key (the service takes RSA only)", path);
		if (cer_cert_rsa_bits(k->certs[i]) < CER_MIN_RSA_BITS)
			return cer_fail(CER_EINPUT,
			                "%s: RSA key of %u bits is too short (2048 at "
			                "least)",
			                path, cer_cert_rsa_bits(k->certs[i]));
		for (j = 0; j < i; j++)
			if (memcmp(cer_cert_spki_sha256(k->certs[j]),
			           cer_cert_spki_sha256(k->certs[i]), CER_THUMB_LEN) == 0)
				return cer_fail(CER_EINPUT,
				                "%s: same public key as %s; each custodian "
				                "needs their own key",
				                path, k->p.cert_paths[j]);
	}
	return CER_OK;
}

int cer_rekey_new(const struct cer_rekey_params *p, struct cer_rekey **out)
{
	struct cer_rekey *k;
	int ret;

	*out = NULL;
	ret = cer_keygen_check_counts(p->count, p->quorum);
	if (ret != CER_OK)
		return ret;
	ret = cer_rekey_check_out(p);
	if (ret != CER_OK)
		return ret;
	k = calloc(1, sizeof *k);
	if (k == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	k->p = *p;
	ret = load_certs(k);
	if (ret != CER_OK) {
		cer_rekey_free(k);
		return ret;
	}
	*out = k;
	return CER_OK;
}

void cer_rekey_free(struct cer_rekey *k)
{
	unsigned i;

	if (k == NULL)
		return;
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++)
		cer_cert_free(k->certs[i]);
	free(k);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_cer_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".cer") == 0;
}

int cer_rekey_certs_in_dir(const char *dir, char (*paths)[CER_KG_PATH_MAX], unsigned *count)
{
	char *names[CER_KEYGEN_MAX_KEYS + 1];
	struct dirent *e;
	unsigned n = 0, i;
	int ret = CER_OK;
	DIR *d;

	*count = 0;
	d = opendir(dir);
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot read the directory: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL && ret == CER_OK) {
		if (!is_cer_name(e->d_name))
			continue;
		if (n == CER_KEYGEN_MAX_KEYS) {
			ret = cer_fail(CER_EUSAGE,
			               "%s: more than %d certificates (.cer files); the "
			               "service takes %d to %d",
			               dir, CER_KEYGEN_MAX_KEYS, CER_KEYGEN_MIN_KEYS,
			               CER_KEYGEN_MAX_KEYS);
			break;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			ret = cer_fail(CER_EINTERNAL, "out of memory");
		else
			n++;
	}
	closedir(d);
	if (ret == CER_OK && n == 0)
		ret = cer_fail(CER_EUSAGE, "%s: holds no certificate (no .cer file)", dir);
	if (ret == CER_OK) {
		qsort(names, n, sizeof names[0], name_cmp);
		for (i = 0; i < n && ret == CER_OK; i++)
			if ((size_t)snprintf(paths[i], CER_KG_PATH_MAX, "%s%s%s", dir,
			                     dir[strlen(dir) - 1] == '/' ? "" : "/",
			                     names[i]) >= CER_KG_PATH_MAX)
				ret = cer_fail(CER_EUSAGE, "%s/%s: path too long", dir, names[i]);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	if (ret == CER_OK)
		*count = n;
	return ret;
}

unsigned cer_rekey_count(const struct cer_rekey *k)
{
	return k->p.count;
}

unsigned cer_rekey_quorum(const struct cer_rekey *k)
{
	return k->p.quorum;
}

static bool in_old_file(const struct cer_sd *sd, const struct cer_cert *c);

void cer_rekey_share(const struct cer_rekey *k, const struct cer_sd *sd, unsigned i,
                     struct cer_rekey_share *out)
{
	const struct cer_cert *c = k->certs[i];

	out->x = i + 1;
	out->cert_path = k->p.cert_paths[i];
	out->subject_cn = cer_cert_common_name(c) != NULL ? cer_cert_common_name(c) : "";
	out->x5t_256 = cer_cert_thumb_b64(c);
	out->rsa_bits = cer_cert_rsa_bits(c);
	out->in_old_file = sd != NULL && in_old_file(sd, c);
}

int cer_rekey_check_session(const struct cer_recovery *r, const struct cer_sd *sd)
{
	unsigned good = cer_recovery_good(r), need = cer_recovery_required(r);
	int ret = cer_recovery_check_keys(r);

	if (ret != CER_OK)
		return ret;
	if (cer_recovery_ready(r))
		return CER_OK;
	return cer_fail(CER_EQUORUM,
	                "too few current custodians: %u good share%s in, %s needs "
	                "%u%s; a rekey needs a quorum of the current custodians' keys",
	                good, good == 1 ? "" : "s", cer_sd_name(sd), need,
	                good >= need ? " (both halves of a pair in a version 1 file)" : "");
}

static void build_free(struct build *b)
{
	cer_secret_free(b->arena);
	free(b->plain);
	free(b->plain_len);
	cer_secret_free(b->master);
	cer_secret_free(b->shares);
	cer_secret_free(b->ceks);
	free(b->text);
	memset(b, 0, sizeof *b);
}

static int item_header(const char *tag, char **out)
{
	json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "dir", "enc", "A256CBC-HS512", "kid", tag);

	*out = h != NULL ? json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(h);
	return *out != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
}

static int append_pair(json_t *arr, const char *k1, const char *v1, const char *k2, const char *v2)
{
	if (json_array_append_new(arr, json_pack("{s:s, s:s}", k1, v1, k2, v2)) != 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return CER_OK;
}

static int encrypt_items(const struct cer_sd *sd, const struct build *b, json_t *data,
                         const struct cer_progress *p)
{
	uint8_t *cek = cer_secret_alloc(CER_CEK_LEN);
	char *hdr = NULL, *compact = NULL;
	size_t i;
	int ret = CER_OK;

	if (cek == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < b->nitems && ret == CER_OK; i++) {
		const char *tag = cer_sd_item(sd, i)->tag;

		ret = cer_item_cek(b->master, tag, cek);
		if (ret == CER_OK)
			ret = item_header(tag, &hdr);
		if (ret == CER_OK)
			ret = cer_jwe_encrypt(hdr, cek, NULL, 0, b->plain[i], b->plain_len[i],
			                      &compact);
		if (ret == CER_OK)
			ret = append_pair(data, "compact_jwe", compact, "tag", tag);
		free(hdr);
		free(compact);
		hdr = compact = NULL;
		cer_progress_step(p, "Re-encrypting items", (unsigned)i + 1, (unsigned)b->nitems);
	}
	cer_secret_free(cek);
	return ret;
}

static int wrap_shares(const struct cer_rekey *k, struct build *b, json_t *shares)
{
	uint8_t *ek = NULL;
	size_t ek_len = 0;
	char *compact = NULL;
	unsigned i;
	int ret = CER_OK;

	for (i = 0; i < k->p.count && ret == CER_OK; i++) {
		uint8_t *cek = b->ceks + (size_t)i * CER_CEK_LEN;

		randombytes_buf(cek, CER_CEK_LEN);
		ret = cer_rsa_oaep256_wrap(cer_cert_pubkey(k->certs[i]), cek, CER_CEK_LEN, &ek,
		                           &ek_len);
		if (ret == CER_OK)
			ret = cer_jwe_encrypt(SHARE_HEADER, cek, ek, ek_len,
			                      b->shares + (size_t)i * SHARE_LEN, SHARE_LEN,
			                      &compact);
		if (ret == CER_OK)
			ret = append_pair(shares, "enc_key", compact, "x5t_256",
			                  cer_cert_thumb_b64(k->certs[i]));
		if (ret != CER_OK)
			ret = cer_fail_context(ret, k->p.cert_paths[i]);
		free(ek);
		free(compact);
		ek = NULL;
		compact = NULL;
	}
	return ret;
}

static int build_text(const struct cer_rekey *k, const struct cer_sd *sd, struct build *b,
                      const struct cer_progress *p)
{
	uint8_t *ptrs[CER_KEYGEN_MAX_KEYS];
	json_t *data = json_array(), *shares = json_array(), *root = NULL;
	unsigned i;
	int ret, rc;

	if (data == NULL || shares == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	randombytes_buf(b->master, CER_MASTER_LEN);
	for (i = 0; i < k->p.count; i++)
		ptrs[i] = b->shares + (size_t)i * SHARE_LEN;
	rc = sss_split(ptrs, k->p.count, k->p.quorum, b->master, CER_MASTER_LEN);
	if (rc != 0) {
		ret = cer_fail(CER_EINTERNAL, "splitting the new master key: %s", sss_strerror(rc));
		goto out;
	}
	ret = encrypt_items(sd, b, data, p);
	if (ret == CER_OK)
		ret = wrap_shares(k, b, shares);
	if (ret != CER_OK)
		goto out;
	root = json_pack("{s:{s:o, s:s}, s:{s:o, s:s, s:i}, s:i}", "EncData", "data", data, "kdf",
	                 "sp108_kdf", "SharedKeys", "enc_shares", shares, "key_algorithm",
	                 "shamir_share", "required", (int)k->p.quorum, "version", 2);
	data = shares = NULL;
	b->text = root != NULL ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	ret = b->text != NULL ? CER_OK : cer_fail(CER_EINTERNAL, "out of memory");
out:
	json_decref(root);
	json_decref(data);
	json_decref(shares);
	return ret;
}

/* --- the in-memory check of what would be written --- */

static int check_fail(const char *what)
{
	return cer_fail(CER_EINTERNAL,
	                "the new file did not pass its check (%s); nothing was "
	                "written",
	                what);
}

static int check_shares(const struct cer_rekey *k, const struct cer_sd *nsd, uint8_t *opened)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	unsigned i;
	int ret = CER_OK;

	for (i = 0; i < k->p.count && ret == CER_OK; i++) {
		const struct cer_sd_share *sh = cer_sd_share(nsd, i);

		if (sh->problem != NULL || sh->jwe == NULL || !sh->thumb_ok ||
		    memcmp(sh->thumb, cer_cert_thumb(k->certs[i]), CER_THUMB_LEN) != 0 ||
		    sh->jwe->alg_id != CER_JWE_ALG_RSA_OAEP_256)
			return check_fail("a share entry");
		ret = cer_jwe_decrypt(
		        sh->jwe, opened + (size_t)k->p.count * SHARE_LEN + (size_t)i * CER_CEK_LEN,
		        "new share", &pt, &len);
		if (ret != CER_OK || len != SHARE_LEN)
			ret = check_fail("a share does not decrypt");
		else
			memcpy(opened + (size_t)i * SHARE_LEN, pt, SHARE_LEN);
		cer_secret_free(pt);
		pt = NULL;
	}
	return ret;
}

/* Every subset of Q of the shares read back rebuilds M'. */
static int check_subsets(const struct cer_rekey *k, struct build *b, const uint8_t *opened)
{
	const uint8_t *sh[CER_KEYGEN_MAX_KEYS];
	unsigned pos[CER_KEYGEN_MAX_KEYS], n = k->p.count, q = k->p.quorum, i;
	uint8_t *cand = cer_secret_alloc(CER_MASTER_LEN);
	int ret = CER_OK;

	if (cand == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < q; i++)
		pos[i] = i;
	for (;;) {
		for (i = 0; i < q; i++)
			sh[i] = opened + (size_t)pos[i] * SHARE_LEN;
		b->subsets++;
		if (sss_combine(cand, CER_MASTER_LEN, sh, q) != 0 ||
		    sodium_memcmp(cand, b->master, CER_MASTER_LEN) != 0) {
			ret = check_fail("a subset of shares does not rebuild the new master key");
			break;
		}
		for (i = q; i-- > 0 && pos[i] == n - q + i;)
			;
		if (i == (unsigned)-1)
			break;
		pos[i]++;
		for (i++; i < q; i++)
			pos[i] = pos[i - 1] + 1;
	}
	cer_secret_free(cand);
	return ret;
}

static int check_items(const struct cer_sd *sd, const struct cer_sd *nsd, const struct build *b)
{
	uint8_t *cek = cer_secret_alloc(CER_CEK_LEN), *pt = NULL;
	size_t i, len = 0;
	int ret = CER_OK;

	if (cek == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < b->nitems && ret == CER_OK; i++) {
		const struct cer_sd_item *it = cer_sd_item(nsd, i);

		if (it->problem != NULL || it->tag == NULL || it->jwe == NULL ||
		    strcmp(it->tag, cer_sd_item(sd, i)->tag) != 0) {
			ret = check_fail("an item entry");
			break;
		}
		ret = cer_item_cek(b->master, it->tag, cek);
		if (ret == CER_OK)
			ret = cer_jwe_decrypt(it->jwe, cek, it->tag, &pt, &len);
		if (ret != CER_OK || len != b->plain_len[i] ||
		    (len > 0 && sodium_memcmp(pt, b->plain[i], len) != 0))
			ret = check_fail("an item does not authenticate under the new master key");
		cer_secret_free(pt);
		pt = NULL;
	}
	cer_secret_free(cek);
	return ret;
}

static int check_text(const struct cer_rekey *k, const struct cer_sd *sd, struct build *b)
{
	struct cer_sd *nsd = NULL;
	uint8_t *opened = NULL;
	int ret;

	ret = cer_sd_parse((const uint8_t *)b->text, strlen(b->text), k->p.out_path, &nsd);
	if (ret != CER_OK)
		return check_fail(cer_errmsg());
	if (cer_sd_version(nsd) != 2 || cer_sd_required(nsd) != k->p.quorum ||
	    cer_sd_share_count(nsd) != k->p.count || cer_sd_item_count(nsd) != b->nitems ||
	    cer_sd_check_items(nsd) != CER_OK) {
		ret = check_fail("its layout");
		goto out;
	}
	/* The shares read back, then (the check's own copy of) their content keys. */
	opened = cer_secret_alloc((size_t)k->p.count * (SHARE_LEN + CER_CEK_LEN));
	if (opened == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(opened + (size_t)k->p.count * SHARE_LEN, b->ceks, (size_t)k->p.count * CER_CEK_LEN);
	ret = check_shares(k, nsd, opened);
	if (ret == CER_OK)
		ret = check_subsets(k, b, opened);
	if (ret == CER_OK)
		ret = check_items(sd, nsd, b);
out:
	cer_secret_free(opened);
	cer_sd_free(nsd);
	return ret;
}

/* --- the report --- */

static bool in_old_file(const struct cer_sd *sd, const struct cer_cert *c)
{
	return cer_sd_find_share(sd, cer_cert_thumb(c), 0) >= 0;
}

static json_t *report_json(const struct cer_rekey *k, const struct cer_sd *sd,
                           const struct cer_recovery *r, const struct build *b)
{
	json_t *j = json_object(), *keys = json_array(), *ns = json_array(), *data = json_array();
	struct cer_recovery_key rk;
	size_t i;

	if (j == NULL || keys == NULL || ns == NULL || data == NULL) {
		json_decref(j);
		json_decref(keys);
		json_decref(ns);
		json_decref(data);
		return NULL;
	}
	json_object_set_new(j, "report", json_string("rekey"));
	json_object_set_new(j, "sd_file", json_string(cer_sd_name(sd)));
	json_object_set_new(j, "sha256", json_string(cer_sd_sha256_hex(sd)));
	json_object_set_new(j, "version", json_integer(cer_sd_version(sd)));
	json_object_set_new(j, "required", json_integer(cer_sd_required(sd)));
	for (i = 0; i < cer_recovery_key_count(r); i++) {
		cer_recovery_key(r, i, &rk);
		if (rk.outcome != CER_SHARE_GOOD)
			continue;
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s}", "key", rk.key_path,
		                                      "certificate", rk.cert_path, "x5t_256",
		                                      rk.x5t_256));
	}
	json_object_set_new(j, "keys", keys);
	json_object_set_new(j, "subsets_checked",
	                    json_integer((json_int_t)cer_recovery_subsets_checked(r)));
	json_object_set_new(j, "new_sd_file", json_string(k->p.out_path));
	json_object_set_new(j, "new_sha256", json_string(b->sha256));
	json_object_set_new(j, "new_version", json_integer(2));
	json_object_set_new(j, "new_required", json_integer(k->p.quorum));
	for (i = 0; i < k->p.count; i++) {
		const struct cer_cert *c = k->certs[i];

		json_array_append_new(
		        ns, json_pack("{s:I, s:s, s:s, s:s, s:I, s:b}", "x", (json_int_t)i + 1,
		                      "certificate", k->p.cert_paths[i], "x5t_256",
		                      cer_cert_thumb_b64(c), "subject_cn", cer_cert_common_name(c),
		                      "rsa_bits", (json_int_t)cer_cert_rsa_bits(c), "in_old_file",
		                      in_old_file(sd, c)));
	}
	json_object_set_new(j, "new_shares", ns);
	json_object_set_new(j, "new_subsets_checked", json_integer((json_int_t)b->subsets));
	for (i = 0; i < b->nitems; i++)
		json_array_append_new(data, json_pack("{s:s, s:I}", "tag", cer_sd_item(sd, i)->tag,
		                                      "size", (json_int_t)b->plain_len[i]));
	json_object_set_new(j, "data", data);
	json_object_set_new(j, "result", json_string("rekeyed"));
	json_object_set_new(j, "exit_status", json_integer(0));
	json_object_set_new(j, "message",
	                    json_string("the old file still opens with the old keys: destroy "
	                                "every copy of it once each new custodian has passed a "
	                                "drill on the new file"));
	return j;
}

int cer_rekey_record_plan(const struct cer_rekey *k, const struct cer_sd *sd)
{
	struct cer_transcript *t = k->p.transcript;
	struct cer_rekey_share sh;
	unsigned i;
	int ret;

	ret = cer_transcript_note(t,
	                          "rekey: started with security domain %s sha256 %s (version %u, "
	                          "%zu shares, %u required); new file %s, %u new shares, quorum %u",
	                          k->p.sd_path, cer_sd_sha256_hex(sd), cer_sd_version(sd),
	                          cer_sd_share_count(sd), cer_sd_required(sd), k->p.out_path,
	                          k->p.count, k->p.quorum);
	for (i = 0; ret == CER_OK && i < k->p.count; i++) {
		cer_rekey_share(k, sd, i, &sh);
		ret = cer_transcript_note(
		        t, "rekey: new share x=%u to %s (CN %s, RSA %u, x5t_256 %s)%s", sh.x,
		        sh.cert_path, sh.subject_cn, sh.rsa_bits, sh.x5t_256,
		        sh.in_old_file ? ", also in the old file" : "");
	}
	return ret;
}

int cer_rekey_failed(struct cer_transcript *t, int status)
{
	return cer_transcript_note(t, "rekey: failed (exit %d): %s", status, cer_errmsg()) != CER_OK
	               ? CER_EIO
	               : status;
}

static int rekey_run(struct cer_rekey *k, const struct cer_sd *sd, struct cer_recovery *r,
                     const struct cer_progress *progress, struct cer_report **report)
{
	struct build b;
	uint8_t md[CER_SHA256_LEN];
	json_t *j;
	int ret;

	*report = NULL;
	memset(&b, 0, sizeof b);
	b.nitems = cer_sd_item_count(sd);
	b.plain = calloc(b.nitems ? b.nitems : 1, sizeof *b.plain);
	b.plain_len = calloc(b.nitems ? b.nitems : 1, sizeof *b.plain_len);
	b.master = cer_secret_alloc(CER_MASTER_LEN);
	b.shares = cer_secret_alloc((size_t)k->p.count * SHARE_LEN);
	b.ceks = cer_secret_alloc((size_t)k->p.count * CER_CEK_LEN);
	if (b.plain == NULL || b.plain_len == NULL || b.master == NULL || b.shares == NULL ||
	    b.ceks == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	/* Checked again: a long passphrase prompt gives time for the file to appear. */
	ret = cer_rekey_check_out(&k->p);
	if (ret == CER_OK)
		ret = cer_rekey_check_session(r, sd);
	if (ret == CER_OK)
		ret = cer_recovery_open_items(r, progress, b.plain, b.plain_len, &b.arena);
	if (ret == CER_OK)
		ret = build_text(k, sd, &b, progress);
	if (ret == CER_OK)
		ret = check_text(k, sd, &b);
	if (ret != CER_OK)
		goto out;
	ret = cer_file_write_atomic(k->p.out_path, b.text, strlen(b.text),
	                            k->p.force ? CER_WRITE_REPLACE : 0);
	if (ret != CER_OK)
		goto out;
	ret = cer_sha256(b.text, strlen(b.text), md);
	if (ret != CER_OK)
		goto out;
	cer_hex_encode(md, sizeof md, b.sha256);
	j = report_json(k, sd, r, &b);
	if (j == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory (%s was written)", k->p.out_path);
		goto out;
	}
	ret = cer_report_build(j, CER_OK, report);
out:
	build_free(&b);
	return ret;
}

int cer_rekey_run(struct cer_rekey *k, const struct cer_sd *sd, struct cer_recovery *r,
                  const struct cer_progress *progress, struct cer_report **report)
{
	int ret = rekey_run(k, sd, r, progress, report);

	if (ret != CER_OK)
		return cer_rekey_failed(k->p.transcript, ret);
	if (k->p.transcript != NULL &&
	    cer_transcript_add_report(k->p.transcript, *report) != CER_OK)
		return CER_EIO;
	return CER_OK;
}
