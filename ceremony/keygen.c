#include "ceremony/keygen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ceremony/io.h"
#include "ceremony/keys.h"
#include "ceremony/pkcs8.h"
#include "ceremony/token.h"
#include "ceremony/token_keygen.h"

#ifndef SDC_VERSION
#define SDC_VERSION "0.0.0"
#endif

static const char request_name[] = "download-request.json";
static const char manifest_name[] = "ceremony.json";

void cer_keygen_params_init(struct cer_keygen_params *p)
{
	memset(p, 0, sizeof *p);
	p->bits = CER_KEYGEN_DEFAULT_BITS;
	p->days = CER_KEYGEN_DEFAULT_DAYS;
}

void cer_keygen_result_free(struct cer_keygen_result *r)
{
	if (r == NULL)
		return;
	free(r->az_command);
	free(r->json);
	free(r);
}

int cer_keygen_check_counts(unsigned count, unsigned quorum)
{
	if (count < CER_KEYGEN_MIN_KEYS || count > CER_KEYGEN_MAX_KEYS)
		return cer_fail(CER_EUSAGE,
		                "number of keys %u is out of range (the service takes %d to %d)",
		                count, CER_KEYGEN_MIN_KEYS, CER_KEYGEN_MAX_KEYS);
	if (quorum < CER_KEYGEN_MIN_QUORUM || quorum > count)
		return cer_fail(CER_EUSAGE,
		                "quorum %u is out of range (must be %d to %u for %u keys)", quorum,
		                CER_KEYGEN_MIN_QUORUM, count, count);
	return CER_OK;
}

/* Length in code points if s is valid UTF-8 without control characters, else -1. */
static long utf8_chars(const char *s, bool allow_ctrl)
{
	const unsigned char *u = (const unsigned char *)s;
	long n = 0;

	while (*u != '\0') {
		unsigned c = *u, more, i;

		if (c < 0x80) {
			if (!allow_ctrl && (c < 0x20 || c == 0x7f))
				return -1;
			more = 0;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
		} else {
			return -1;
		}
		for (i = 1; i <= more; i++)
			if ((u[i] & 0xc0) != 0x80)
				return -1;
		u += more + 1;
		n++;
	}
	return n;
}

int cer_keygen_check_name(unsigned index, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return CER_OK;
	if (strlen(name) > CER_NAME_MAX)
		return cer_fail(CER_EUSAGE, "custodian %u: name is longer than %d bytes", index + 1,
		                CER_NAME_MAX);
	if (utf8_chars(name, false) < 0)
		return cer_fail(CER_EUSAGE, "custodian %u: name is not printable UTF-8 text",
		                index + 1);
	if (name[0] == ' ' || name[strlen(name) - 1] == ' ')
		return cer_fail(CER_EUSAGE, "custodian %u: name starts or ends with a space",
		                index + 1);
	return CER_OK;
}

int cer_keygen_split_names(const char *list, char names[][CER_NAME_MAX + 1], unsigned max,
                           unsigned *n)
{
	const char *p = list, *end;
	size_t len;

	*n = 0;
	if (strspn(list, " \t,") == strlen(list))
		return CER_OK;
	while (*p != '\0') {
		p += strspn(p, ",");
		if (*p == '\0')
			break;
		end = p + strcspn(p, ",");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*n == max)
			return cer_fail(CER_EUSAGE, "more than %u names", max);
		if (len > CER_NAME_MAX)
			return cer_fail(CER_EUSAGE, "custodian %u: name is longer than %d bytes",
			                *n + 1, CER_NAME_MAX);
		memcpy(names[*n], p, len);
		names[(*n)++][len] = '\0';
		p = end;
	}
	return CER_OK;
}

bool cer_passphrase_equal(const char *a, const char *b)
{
	size_t len = strlen(a);

	return len == strlen(b) && sodium_memcmp(a, b, len) == 0;
}

int cer_passphrase_check(unsigned index, const char *pass, const char *const *others,
                         size_t n_others)
{
	size_t len, i;
	long chars;

	if (pass == NULL)
		return cer_fail(CER_EUSAGE, "custodian %u: no passphrase", index + 1);
	len = strlen(pass);
	if (len > CER_PASSPHRASE_MAX)
		return cer_fail(CER_EUSAGE, "custodian %u: passphrase is longer than %d bytes",
		                index + 1, CER_PASSPHRASE_MAX);
	chars = utf8_chars(pass, true);
	if (chars < 0)
		chars = (long)len;
	if (chars < CER_PASSPHRASE_MIN)
		return cer_fail(CER_EUSAGE,
		                "custodian %u: passphrase is shorter than %d characters", index + 1,
		                CER_PASSPHRASE_MIN);
	for (i = 0; i < n_others; i++) {
		if (others[i] != NULL && cer_passphrase_equal(pass, others[i]))
			return cer_fail(
			        CER_EUSAGE,
			        "custodian %u: passphrase is the same as another custodian's; "
			        "each custodian needs their own",
			        index + 1);
	}
	return CER_OK;
}

/* ---- paths ---- */

static bool is_token(const struct cer_keygen_params *p, unsigned i)
{
	return p->custodians[i].token_uri != NULL && p->custodians[i].token_uri[0] != '\0';
}

static int path_join(char out[static CER_KG_PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, CER_KG_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= CER_KG_PATH_MAX)
		return cer_fail(CER_EUSAGE, "%s/%s: path too long", dir, name);
	return CER_OK;
}

/* DIR without trailing slashes, split into parent and base name. */
static int split_dir(const char *dir, char clean[static CER_KG_PATH_MAX],
                     char parent[static CER_KG_PATH_MAX], char base[static NAME_MAX + 1])
{
	size_t len = strlen(dir);
	const char *slash;

	if (len == 0)
		return cer_fail(CER_EUSAGE, "no output directory given");
	if (len >= CER_KG_PATH_MAX - 64)
		return cer_fail(CER_EUSAGE, "%s: path too long", dir);
	memcpy(clean, dir, len + 1);
	while (len > 1 && clean[len - 1] == '/')
		clean[--len] = '\0';
	slash = strrchr(clean, '/');
	if (slash == NULL) {
		strcpy(parent, ".");
		slash = clean - 1;
	} else if (slash == clean) {
		strcpy(parent, "/");
	} else {
		memcpy(parent, clean, (size_t)(slash - clean));
		parent[slash - clean] = '\0';
	}
	if (strlen(slash + 1) > NAME_MAX || slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0)
		return cer_fail(CER_EUSAGE,
		                "%s: not usable as the output directory (name a new "
		                "directory)",
		                dir);
	strcpy(base, slash + 1);
	return CER_OK;
}

/* 1 non-empty, 0 empty, -1 error (message set). */
static int dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = 0;

	if (d == NULL) {
		cer_fail(CER_EIO, "%s: cannot read the directory: %s", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			ret = 1;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int check_out_dir(const char *dir, bool force)
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	struct stat st;
	int ret = split_dir(dir, clean, parent, base);

	if (ret != CER_OK)
		return ret;
	if (stat(parent, &st) != 0)
		return cer_fail(CER_EIO, "%s: cannot use %s: %s", dir, parent, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cer_fail(CER_EIO, "%s: %s is not a directory", dir, parent);
	if (access(parent, W_OK | X_OK) != 0)
		return cer_fail(CER_EIO, "%s: cannot write in %s: %s", dir, parent,
		                strerror(errno));
	if (lstat(clean, &st) != 0) {
		if (errno == ENOENT)
			return CER_OK;
		return cer_fail(CER_EIO, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return cer_fail(CER_EIO, "%s: exists and is not a directory", dir);
	switch (dir_nonempty(clean)) {
	case -1: return CER_EIO;
	case 1:
		if (!force)
			return cer_fail(CER_EIO,
			                "%s: exists and is not empty (use --force to move it "
			                "aside to %s.old-<time>; nothing is deleted)",
			                dir, clean);
		break;
	default: break;
	}
	return CER_OK;
}

/* Where the certificate copy beside an outside key goes: where recovery looks for it. */
static int cert_beside(const char *key_path, char out[static CER_KG_PATH_MAX])
{
	int ret = cer_key_cert_path(key_path, out, CER_KG_PATH_MAX);

	if (ret != CER_OK)
		return ret;
	if (strcmp(out, key_path) == 0)
		return cer_fail(CER_EUSAGE, "%s: a key path must not end in .cer", key_path);
	return CER_OK;
}

static int parent_realpath(const char *path, char out[static PATH_MAX])
{
	char copy[CER_KG_PATH_MAX];
	char *slash;

	snprintf(copy, sizeof copy, "%s", path);
	slash = strrchr(copy, '/');
	if (slash == NULL)
		strcpy(copy, ".");
	else if (slash == copy)
		copy[1] = '\0';
	else
		*slash = '\0';
	if (realpath(copy, out) == NULL)
		return cer_fail(CER_EIO, "%s: cannot use the directory %s: %s", path, copy,
		                strerror(errno));
	return CER_OK;
}

static bool is_default_key_path(const char *kp)
{
	return kp == NULL || kp[0] == '\0';
}

static int check_key_path(const struct cer_keygen_params *p, unsigned i, const char *dir_real)
{
	const char *kp = p->custodians[i].key_path;
	char cer[CER_KG_PATH_MAX], real[PATH_MAX], real_j[PATH_MAX];
	unsigned j;
	int ret;

	if (is_default_key_path(kp))
		return CER_OK;
	ret = cert_beside(kp, cer);
	if (ret != CER_OK)
		return ret;
	if (cer_path_exists(kp))
		return cer_fail(CER_EIO,
		                "custodian %u: %s already exists; a key file is never "
		                "replaced",
		                i + 1, kp);
	if (cer_path_exists(cer))
		return cer_fail(CER_EIO,
		                "custodian %u: %s already exists (the certificate is "
		                "written beside the key)",
		                i + 1, cer);
	ret = parent_realpath(kp, real);
	if (ret != CER_OK)
		return cer_fail_context(ret, "custodian key");
	if (access(real, W_OK | X_OK) != 0)
		return cer_fail(CER_EIO, "custodian %u: cannot write in %s: %s", i + 1, real,
		                strerror(errno));
	if (strcmp(real, dir_real) == 0)
		return cer_fail(CER_EUSAGE,
		                "custodian %u: key path %s is inside the output "
		                "directory; leave it empty for the default",
		                i + 1, kp);
	for (j = 0; j < p->count; j++) {
		const char *other = p->custodians[j].key_path;
		const char *b1, *b2;

		if (j == i || is_default_key_path(other) ||
		    parent_realpath(other, real_j) != CER_OK)
			continue;
		b1 = strrchr(kp, '/') ? strrchr(kp, '/') + 1 : kp;
		b2 = strrchr(other, '/') ? strrchr(other, '/') + 1 : other;
		if (strcmp(real, real_j) == 0 && strcmp(b1, b2) == 0)
			return cer_fail(CER_EUSAGE, "custodians %u and %u: the same key path %s",
			                (j < i ? j : i) + 1, (j < i ? i : j) + 1, kp);
	}
	return CER_OK;
}

/* Where DIR is or will be: its parent's real path and its own name. */
static int out_dir_real(const char *out_dir, char dir_real[static PATH_MAX + NAME_MAX + 2])
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	char preal[PATH_MAX];
	int ret = split_dir(out_dir, clean, parent, base);

	if (ret != CER_OK)
		return ret;
	if (realpath(parent, preal) == NULL)
		return cer_fail(CER_EIO, "%s: %s", parent, strerror(errno));
	snprintf(dir_real, PATH_MAX + NAME_MAX + 2, "%s/%s", strcmp(preal, "/") == 0 ? "" : preal,
	         base);
	return CER_OK;
}

int cer_keygen_key_path(const struct cer_keygen_params *p, unsigned i, const char *typed,
                        char out[static CER_KG_PATH_MAX])
{
	struct cer_keygen_params copy = *p;
	char dir_real[PATH_MAX + NAME_MAX + 2], cert[CER_KG_PATH_MAX];
	struct stat st;
	size_t len = strlen(typed);
	int ret;

	out[0] = '\0';
	if (i >= p->count || p->out_dir == NULL)
		return cer_fail(CER_EUSAGE, "custodian %u: no such custodian", i + 1);
	if (len == 0)
		return CER_OK;
	if (stat(typed, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (snprintf(out, CER_KG_PATH_MAX, "%s%scert_%u.key", typed,
		             typed[len - 1] == '/' ? "" : "/", i) >= CER_KG_PATH_MAX)
			return cer_fail(CER_EUSAGE, "custodian %u: the key path is too long",
			                i + 1);
	} else if (snprintf(out, CER_KG_PATH_MAX, "%s", typed) >= CER_KG_PATH_MAX) {
		return cer_fail(CER_EUSAGE, "custodian %u: the key path is too long", i + 1);
	}
	copy.custodians[i].key_path = out;
	ret = out_dir_real(p->out_dir, dir_real);
	if (ret == CER_OK)
		ret = check_key_path(&copy, i, dir_real);
	if (ret == CER_OK)
		ret = cer_stale_temps_check(out, true);
	if (ret == CER_OK && cert_beside(out, cert) == CER_OK)
		ret = cer_stale_temps_check(cert, true);
	if (ret != CER_OK)
		out[0] = '\0';
	return ret;
}

void cer_keygen_name(const char *name, unsigned i, char out[static CER_NAME_MAX + 1])
{
	if (name != NULL && name[0] != '\0')
		snprintf(out, CER_NAME_MAX + 1, "%s", name);
	else
		snprintf(out, CER_NAME_MAX + 1, "custodian-%u", i + 1);
}

static void effective_name(const struct cer_keygen_params *p, unsigned i,
                           char out[static CER_NAME_MAX + 1])
{
	cer_keygen_name(p->custodians[i].name, i, out);
}

/* A killed run's temporaries beside DIR or a key written outside it:
 * each looked for (cer_stale_temps_check) or removed (..._remove) by fn. */
static int stale_temps(const struct cer_keygen_params *p, const char *clean,
                       int (*fn)(const char *path, bool hidden))
{
	char cert[CER_KG_PATH_MAX];
	unsigned i;
	int ret = fn(clean, true);

	for (i = 0; ret == CER_OK && i < p->count; i++) {
		if (is_default_key_path(p->custodians[i].key_path))
			continue;
		ret = fn(p->custodians[i].key_path, true);
		if (ret == CER_OK && cert_beside(p->custodians[i].key_path, cert) == CER_OK)
			ret = fn(cert, true);
	}
	return ret;
}

int cer_keygen_remove_stale(const struct cer_keygen_params *p)
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	int ret;

	if (p->out_dir == NULL)
		return cer_fail(CER_EUSAGE, "no output directory given");
	ret = split_dir(p->out_dir, clean, parent, base);
	if (ret == CER_OK)
		ret = stale_temps(p, clean, cer_stale_temps_remove);
	return ret;
}

int cer_keygen_check_params(const struct cer_keygen_params *p)
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	char dir_real[PATH_MAX + NAME_MAX + 2];
	const char *pass[CER_KEYGEN_MAX_KEYS];
	char names[CER_KEYGEN_MAX_KEYS][CER_NAME_MAX + 1];
	unsigned i, j;
	int ret;

	ret = cer_keygen_check_counts(p->count, p->quorum);
	if (ret != CER_OK)
		return ret;
	if (p->bits != 2048 && p->bits != 3072 && p->bits != 4096)
		return cer_fail(CER_EUSAGE, "key size %u is not supported (2048, 3072 or 4096)",
		                p->bits);
	if (p->days < 1 || p->days > CER_KEYGEN_MAX_DAYS)
		return cer_fail(CER_EUSAGE, "validity %u days is out of range (1 to %d)", p->days,
		                CER_KEYGEN_MAX_DAYS);
	for (i = 0; i < p->count; i++) {
		ret = cer_keygen_check_name(i, p->custodians[i].name);
		if (ret != CER_OK)
			return ret;
		effective_name(p, i, names[i]);
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return cer_fail(CER_EUSAGE,
				                "custodians %u and %u have the same name '%s'",
				                j + 1, i + 1, names[i]);
	}
	for (i = 0; i < p->count; i++) {
		if (!is_token(p, i))
			continue;
		if (!cer_token_is_uri(p->custodians[i].token_uri))
			return cer_fail(CER_EUSAGE, "custodian %u: %s is not a PKCS#11 URI", i + 1,
			                p->custodians[i].token_uri);
		if (p->custodians[i].key_path != NULL && p->custodians[i].key_path[0] != '\0')
			return cer_fail(CER_EUSAGE,
			                "custodian %u: a key on a token has no key file", i + 1);
		if (p->tokens == NULL)
			return cer_fail(CER_EUSAGE,
			                "custodian %u: a token key needs the PKCS#11 "
			                "modules loaded",
			                i + 1);
		for (j = 0; j < i; j++)
			if (is_token(p, j) &&
			    strcmp(p->custodians[i].token_uri, p->custodians[j].token_uri) == 0)
				return cer_fail(CER_EUSAGE,
				                "custodians %u and %u have the same token URI "
				                "%s: give each its own token (or object=)",
				                j + 1, i + 1, p->custodians[i].token_uri);
	}
	if (!p->no_passphrase) {
		for (i = 0; i < p->count; i++)
			pass[i] = is_token(p, i) ? NULL : p->custodians[i].passphrase;
		for (i = 0; i < p->count; i++) {
			if (is_token(p, i))
				continue;
			ret = cer_passphrase_check(i, pass[i], pass, i);
			if (ret != CER_OK)
				return ret;
		}
	}
	if (p->out_dir == NULL)
		return cer_fail(CER_EUSAGE, "no output directory given");
	ret = check_out_dir(p->out_dir, p->force);
	if (ret != CER_OK)
		return ret;
	ret = split_dir(p->out_dir, clean, parent, base);
	if (ret == CER_OK)
		ret = out_dir_real(p->out_dir, dir_real);
	if (ret != CER_OK)
		return ret;
	for (i = 0; i < p->count; i++) {
		if (is_token(p, i))
			continue;
		ret = check_key_path(p, i, dir_real);
		if (ret != CER_OK)
			return ret;
	}
	return stale_temps(p, clean, cer_stale_temps_check);
}

/* ---- certificates and JWKs ---- */

struct cert_info {
	char name[CER_NAME_MAX + 1];
	char thumb_b64url[44];
	char thumb_hex[65];
	char not_before[21];
	char not_after[21];
	char serial_hex[2 * 20 + 1];
	unsigned bits;
	json_t *jwk;
};

static char *bn_b64url(const BIGNUM *bn)
{
	int len = BN_num_bytes(bn);
	unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
	char *s = NULL;

	if (buf == NULL)
		return NULL;
	if (BN_bn2bin(bn, buf) == len)
		s = cer_b64url_encode(buf, (size_t)len);
	free(buf);
	return s;
}

/*
 * Fills info from a certificate after checking it is RSA of 2048 bits or
 * more (public data only).  label names it in messages.
 */
static int cert_describe(const struct cer_cert *c, const char *label, struct cert_info *info)
{
	uint8_t sha1[CER_SHA1_LEN];
	char *b64 = NULL, *x5t = NULL, *n64 = NULL, *e64 = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pub = cer_cert_pubkey(c);
	const uint8_t *der;
	size_t derlen;
	int ret;

	memset(info, 0, sizeof *info);
	if (cer_cert_rsa_bits(c) == 0)
		return cer_fail(CER_EINPUT, "%s: not an RSA key (the service takes RSA only)",
		                label);
	info->bits = cer_cert_rsa_bits(c);
	if (info->bits < CER_MIN_RSA_BITS)
		return cer_fail(CER_EINPUT, "%s: RSA key of %u bits is too short (2048 at least)",
		                label, info->bits);
	der = cer_cert_der(c, &derlen);
	if (cer_sha1(der, derlen, sha1) != CER_OK)
		return cer_fail_context(CER_EINTERNAL, label);
	if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ret = cer_fail(CER_EINPUT, "%s: cannot read the RSA public key", label);
		goto out;
	}
	b64 = cer_b64_encode(der, derlen);
	x5t = cer_b64url_encode(sha1, sizeof sha1);
	n64 = bn_b64url(n);
	e64 = bn_b64url(e);
	if (b64 == NULL || x5t == NULL || n64 == NULL || e64 == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(info->thumb_b64url, sizeof info->thumb_b64url, "%s", cer_cert_thumb_b64(c));
	cer_hex_encode(cer_cert_thumb(c), CER_THUMB_LEN, info->thumb_hex);
	if (cer_cert_not_before(c)[0] == '\0' || cer_cert_not_after(c)[0] == '\0') {
		ret = cer_fail(CER_EINPUT, "%s: unreadable validity dates", label);
		goto out;
	}
	snprintf(info->not_before, sizeof info->not_before, "%s", cer_cert_not_before(c));
	snprintf(info->not_after, sizeof info->not_after, "%s", cer_cert_not_after(c));
	snprintf(info->serial_hex, sizeof info->serial_hex, "%s", cer_cert_serial_hex(c));
	snprintf(info->name, sizeof info->name, "%s", cer_cert_common_name(c));
	info->jwk =
	        json_pack("{s:s, s:[s,s,s], s:s, s:s, s:s, s:[s], s:s, s:s}", "kty", "RSA",
	                  "key_ops", "verify", "encrypt", "wrapKey", "alg", "RSA-OAEP-256", "n",
	                  n64, "e", e64, "x5c", b64, "x5t", x5t, "x5t#S256", cer_cert_thumb_b64(c));
	if (info->jwk == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = CER_OK;
out:
	BN_free(n);
	BN_free(e);
	free(b64);
	free(x5t);
	free(n64);
	free(e64);
	return ret;
}

/* What the result tells of a key's certificate (keygen and package alike). */
static void key_describe(struct cer_keygen_key *k, const struct cert_info *info)
{
	snprintf(k->thumb_b64url, sizeof k->thumb_b64url, "%s", info->thumb_b64url);
	snprintf(k->thumb_hex, sizeof k->thumb_hex, "%s", info->thumb_hex);
	snprintf(k->not_before, sizeof k->not_before, "%s", info->not_before);
	snprintf(k->not_after, sizeof k->not_after, "%s", info->not_after);
	k->bits = info->bits;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Every field and extension of a custodian's certificate; not yet signed. */
static int cert_fields(EVP_PKEY *pub, const char *name, unsigned days, X509 **out)
{
	unsigned char serial[16];
	BIGNUM *sbn = NULL;
	ASN1_INTEGER *sint = NULL;
	X509 *x = X509_new();
	X509_NAME *subj = NULL;
	int ret;

	*out = NULL;
	if (x == NULL || RAND_bytes(serial, sizeof serial) != 1) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot start a certificate", name);
		goto out;
	}
	serial[0] &= 0x7f;
	serial[0] |= 0x40; /* positive, and always 16 bytes long */
	sbn = BN_bin2bn(serial, sizeof serial, NULL);
	sint = sbn != NULL ? BN_to_ASN1_INTEGER(sbn, NULL) : NULL;
	subj = X509_get_subject_name(x);
	if (sint == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, sint) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1,
	                               -1, 0) != 1 ||
	    X509_set_issuer_name(x, subj) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL ||
	    X509_set_pubkey(x, pub) != 1 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_key_usage, "critical,keyEncipherment") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, NID_authority_key_identifier, "keyid:always") != 0) {
		ret = cer_fail(CER_EINTERNAL, "%s: cannot build the certificate", name);
		goto out;
	}
	*out = x;
	x = NULL;
	ret = CER_OK;
out:
	X509_free(x);
	ASN1_INTEGER_free(sint);
	BN_free(sbn);
	return ret;
}

static int make_cert(EVP_PKEY *key, const char *name, unsigned days, X509 **out)
{
	X509 *x = NULL;
	int ret = cert_fields(key, name, days, &x);

	if (ret != CER_OK)
		return ret;
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		X509_free(x);
		return cer_fail(CER_EINTERNAL, "%s: cannot build the certificate", name);
	}
	if (X509_verify(x, key) != 1) {
		X509_free(x);
		return cer_fail(CER_EINTERNAL, "%s: the new key failed its self-test", name);
	}
	*out = x;
	return CER_OK;
}

/* ---- parallel generation ---- */

struct slot {
	atomic_bool won;
	bool started;
	unsigned racers;
	EVP_PKEY *key;
	struct cer_cert *cert;
	BIO *key_pem; /* secure-heap memory BIO: the encoded private key */
	char *cert_pem;
	size_t cert_pem_len;
	char name[CER_NAME_MAX + 1];
	struct cer_token_key *tok; /* a custodian on a token: its session, until the end */
	struct cer_token_generated gen;
};

struct job {
	const struct cer_keygen_params *p;
	struct slot slots[CER_KEYGEN_MAX_KEYS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned finished;
	atomic_bool failed;
	int status;
	char err[512];
};

struct race {
	struct job *job;
	struct slot *slot;
};

static bool cancelled(const struct cer_keygen_params *p)
{
	return p->cancel != NULL && atomic_load(p->cancel) != 0;
}

/* OpenSSL calls this while it searches for primes; 0 stops the search. */
static int gen_cb(EVP_PKEY_CTX *ctx)
{
	struct race *r = EVP_PKEY_CTX_get_app_data(ctx);

	return !atomic_load(&r->slot->won) && !atomic_load(&r->job->failed) &&
	       !cancelled(r->job->p);
}

/*
 * An RSA key pair of `bits` bits with e = 65537 from EVP_PKEY_keygen, in the
 * provider that the OpenSSL configuration selects for RSA; the private
 * numbers stay inside that provider (the default one keeps them on the
 * secure heap).  Several threads may race for one slot; gen_cb stops the
 * losers.  The winner gets the pairwise check in finish_slot.
 */
static int rsa_generate(int bits, struct race *race, EVP_PKEY **key)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	int ok = 0;

	*key = NULL;
	if (pctx == NULL || e == NULL || BN_set_word(e, RSA_F4) != 1 ||
	    EVP_PKEY_keygen_init(pctx) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, bits) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pctx, e) != 1)
		goto out;
	EVP_PKEY_CTX_set_app_data(pctx, race);
	EVP_PKEY_CTX_set_cb(pctx, gen_cb);
	if (EVP_PKEY_keygen(pctx, key) != 1) {
		EVP_PKEY_free(*key);
		*key = NULL;
		goto out;
	}
	ok = 1;
out:
	BN_free(e);
	EVP_PKEY_CTX_free(pctx);
	return ok;
}

/* Not an error: another thread made this slot's key first. */
#define LOST_RACE (-1)

/* CER_OK with *key, LOST_RACE, or an error. */
static int generate_rsa(struct job *j, struct slot *s, EVP_PKEY **key)
{
	struct race r = {j, s};
	char why[256] = "";
	unsigned long e;

	if (rsa_generate((int)j->p->bits, &r, key) == 1)
		return CER_OK;
	e = ERR_peek_last_error();
	if (e != 0)
		ERR_error_string_n(e, why, sizeof why);
	ERR_clear_error();
	if (cancelled(j->p))
		return cer_fail(CER_EUSAGE, "key generation cancelled; nothing was written");
	if (atomic_load(&s->won) || atomic_load(&j->failed))
		return LOST_RACE;
	return cer_fail(CER_EINTERNAL,
	                "%s: RSA key generation failed (%s); does the OpenSSL "
	                "configuration (OPENSSL_CONF) load a provider with RSA?",
	                s->name, why[0] != '\0' ? why : "no reason given");
}

static int encode_key(const struct cer_keygen_params *p, unsigned i, EVP_PKEY *key, BIO **out)
{
	char what[32];
	BIO *bio;

	snprintf(what, sizeof what, "custodian %u", i + 1);
	*out = NULL;
	if (!p->no_passphrase)
		return cer_pkcs8_encrypt_pem(key, p->custodians[i].passphrase, what, out);
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		return cer_fail(CER_EINTERNAL, "%s: cannot encode the key", what);
	}
	*out = bio;
	return CER_OK;
}

static int pem_cert(X509 *x, char **pem, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int ret = CER_EINTERNAL;

	*pem = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (*pem = malloc((size_t)n)) == NULL)
		goto out;
	memcpy(*pem, data, (size_t)n);
	*len = (size_t)n;
	ret = CER_OK;
out:
	BIO_free(bio);
	return ret == CER_OK ? CER_OK : cer_fail(ret, "cannot encode a certificate");
}

/* The new certificate as the rest of the project reads certificates. */
static int cert_of(X509 *x, const char *name, struct cer_cert **out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	int ret;

	*out = NULL;
	if (len <= 0)
		return cer_fail(CER_EINTERNAL, "%s: cannot encode the certificate", name);
	ret = cer_cert_from_der(der, (size_t)len, name, out);
	OPENSSL_free(der);
	return ret;
}

static int finish_slot(struct job *j, unsigned i)
{
	struct slot *s = &j->slots[i];
	X509 *x = NULL;
	int ret;

	ret = cer_rsa_pairwise_check(s->key, s->name);
	if (ret != CER_OK)
		ret = cer_fail_context(CER_EINTERNAL, "generated key");
	if (ret == CER_OK)
		ret = make_cert(s->key, s->name, j->p->days, &x);
	if (ret == CER_OK)
		ret = pem_cert(x, &s->cert_pem, &s->cert_pem_len);
	if (ret == CER_OK)
		ret = cert_of(x, s->name, &s->cert);
	if (ret == CER_OK)
		ret = encode_key(j->p, i, s->key, &s->key_pem);
	X509_free(x);
	EVP_PKEY_free(s->key);
	s->key = NULL;
	return ret;
}

static int pick_slot(struct job *j)
{
	unsigned i, best_racers = UINT_MAX;
	int best = -1;

	if (atomic_load(&j->failed))
		return -1;
	for (i = 0; i < j->p->count; i++)
		if (!j->slots[i].started)
			return (int)i;
	/* Everything started: race an unfinished key instead of idling. */
	for (i = 0; i < j->p->count; i++) {
		struct slot *s = &j->slots[i];

		if (!atomic_load(&s->won) && s->racers < best_racers) {
			best = (int)i;
			best_racers = s->racers;
		}
	}
	return best;
}

static void job_fail(struct job *j, int status)
{
	if (!atomic_load(&j->failed)) {
		j->status = status;
		snprintf(j->err, sizeof j->err, "%s", cer_errmsg());
		atomic_store(&j->failed, true);
	}
}

static void *worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		EVP_PKEY *key = NULL;
		struct slot *s;
		bool mine = false;
		int i, st;

		pthread_mutex_lock(&j->lock);
		i = pick_slot(j);
		if (i < 0) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		s = &j->slots[i];
		s->started = true;
		s->racers++;
		pthread_mutex_unlock(&j->lock);

		st = generate_rsa(j, s, &key);

		pthread_mutex_lock(&j->lock);
		s->racers--;
		if (st == CER_OK && !atomic_load(&s->won)) {
			atomic_store(&s->won, true);
			s->key = key;
			key = NULL;
			mine = true;
		} else if (st != CER_OK && st != LOST_RACE) {
			job_fail(j, st);
			pthread_cond_broadcast(&j->cond);
		}
		pthread_mutex_unlock(&j->lock);
		EVP_PKEY_free(key);
		if (!mine)
			continue;
		st = finish_slot(j, (unsigned)i);
		pthread_mutex_lock(&j->lock);
		if (st != CER_OK)
			job_fail(j, st);
		else
			j->finished++;
		pthread_cond_broadcast(&j->cond);
		pthread_mutex_unlock(&j->lock);
	}
	return NULL;
}

static void job_clear(struct job *j, bool undo_tokens)
{
	unsigned i;

	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		if (j->slots[i].tok != NULL && undo_tokens)
			cer_token_generated_destroy(j->slots[i].tok, &j->slots[i].gen);
		cer_token_key_close(j->slots[i].tok);
		EVP_PKEY_free(j->slots[i].key);
		cer_cert_free(j->slots[i].cert);
		BIO_free(j->slots[i].key_pem);
		free(j->slots[i].cert_pem);
	}
}

static unsigned thread_count(const struct cer_keygen_params *p)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = p->threads != 0 ? p->threads : cpus > 0 ? (unsigned)cpus : 1, files = 0, i;

	for (i = 0; i < p->count; i++)
		files += !is_token(p, i);
	return n > files ? files : n;
}

/*
 * Custodian i on a token, in the calling thread: log in, generate the pair
 * there, sign its certificate there, store the certificate beside it, and
 * send a value through it as a recovery will.  The slot is then done.
 */
static int token_slot(struct job *j, unsigned i, const struct cer_progress *progress)
{
	const struct cer_keygen_custodian *c = &j->p->custodians[i];
	struct slot *s = &j->slots[i];
	char label[64], what[CER_NAME_MAX + 40];
	unsigned char *der = NULL;
	X509 *x = NULL;
	int len, ret;

	snprintf(what, sizeof what, "custodian %u (%s)", i + 1, s->name);
	ret = cer_token_key_open_rw(j->p->tokens, c->token_uri, &s->tok);
	if (ret == CER_OK)
		ret = cer_token_key_login(s->tok, c->pin);
	if (ret == CER_OK) {
		cer_token_key_uri_label(s->tok, label, sizeof label);
		ret = cer_token_generate(s->tok, j->p->bits, label[0] ? label : "sd-wrap", &s->gen);
	}
	if (ret == CER_OK)
		ret = cert_fields(cer_token_key_pubkey(s->tok), s->name, j->p->days, &x);
	if (ret == CER_OK)
		ret = cer_token_sign_cert(s->tok, x);
	if (ret == CER_OK && (len = i2d_X509(x, &der)) <= 0)
		ret = cer_fail(CER_EINTERNAL, "%s: cannot encode the certificate", s->name);
	if (ret == CER_OK)
		ret = cer_token_store_cert(s->tok, der, (size_t)len, &s->gen);
	if (ret == CER_OK)
		ret = cer_token_roundtrip(s->tok, what);
	if (ret == CER_OK)
		ret = pem_cert(x, &s->cert_pem, &s->cert_pem_len);
	if (ret == CER_OK)
		ret = cert_of(x, s->name, &s->cert);
	OPENSSL_free(der);
	X509_free(x);
	if (ret != CER_OK)
		return cer_fail_context(ret, what);
	s->started = true;
	atomic_store(&s->won, true);
	j->finished++;
	cer_progress_note(progress,
	                  "%s: RSA-%u key generated on %s (sensitive, not "
	                  "extractable), its certificate signed there and stored with it",
	                  what, j->p->bits, cer_token_key_name(s->tok));
	return CER_OK;
}

static int run_job(struct job *j, const struct cer_progress *progress)
{
	static const char what[] = "generating keys";
	pthread_t tids[CER_KEYGEN_MAX_KEYS];
	unsigned n = thread_count(j->p), started = 0, shown = 0, i;
	int ret = CER_OK;

	cer_progress_step(progress, what, 0, j->p->count);
	for (i = 0; i < n; i++) {
		if (pthread_create(&tids[i], NULL, worker, j) != 0)
			break;
		started++;
	}
	pthread_mutex_lock(&j->lock);
	if (started == 0 && n > 0) {
		cer_fail(CER_EINTERNAL, "cannot start a key generation thread");
		job_fail(j, CER_EINTERNAL);
	}
	while (j->finished < j->p->count && !atomic_load(&j->failed)) {
		pthread_cond_wait(&j->cond, &j->lock);
		if (j->finished != shown && !atomic_load(&j->failed)) {
			shown = j->finished;
			pthread_mutex_unlock(&j->lock);
			cer_progress_step(progress, what, shown, j->p->count);
			pthread_mutex_lock(&j->lock);
		}
	}
	pthread_mutex_unlock(&j->lock);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (atomic_load(&j->failed))
		ret = cer_fail(j->status, "%s", j->err);
	return ret;
}

/* ---- files ---- */

static int write_fd_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Creates path (O_EXCL, never following a link) and writes data; removes it on failure. */
static int write_new(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0)
		return cer_fail(CER_EIO, "%s: cannot create: %s", path, strerror(errno));
	if (!cer_fd_set_mode(fd, mode) || write_fd_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int e = errno;

		close(fd);
		unlink(path);
		return cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(e));
	}
	if (close(fd) != 0) {
		unlink(path);
		return cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(errno));
	}
	return CER_OK;
}

/* Creates a fresh 0600 temporary file beside path and writes data into it. */
static int write_temp_beside(const char *path, const void *data, size_t len, mode_t mode,
                             char tmp[static CER_KG_PATH_MAX])
{
	char dir[CER_KG_PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	int fd, n;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	n = snprintf(tmp, CER_KG_PATH_MAX, "%s/.%s.tmp-XXXXXX", dir, base);
	if (n < 0 || n >= CER_KG_PATH_MAX) {
		tmp[0] = '\0';
		return cer_fail(CER_EUSAGE, "%s: path too long", path);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		tmp[0] = '\0';
		return cer_fail(CER_EIO, "%s: cannot create a file in %s: %s", path, dir,
		                strerror(e));
	}
	/* mkostemp made it 0600; media without permissions (FAT) refuse other modes. */
	if ((mode != 0600 && !cer_fd_set_mode(fd, mode)) || write_fd_all(fd, data, len) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
		return cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(e));
	}
	return CER_OK;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (fsync(fd) != 0) {
			/* the rename is done; a failed directory sync cannot be undone */
		}
		close(fd);
	}
}

static void remove_tree_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[CER_KG_PATH_MAX];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

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

static char *az_command(const struct cer_keygen_result *r)
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
static int build_json(struct cer_keygen_result *r, struct cert_info *info,
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
	                request_name, "custodians", cust);
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

static int summary_json(struct cer_keygen_result *r, const char *manifest)
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

struct outside {
	char final[CER_KG_PATH_MAX];
	char tmp[CER_KG_PATH_MAX];
	bool linked;
};

/* Moves a finished temporary file to its final name, never replacing a file
 * (io.c's cer_file_place: one name at every moment where the file system
 * allows, FAT media included). */
static int place_new(struct outside *o)
{
	int err = cer_file_place(o->tmp, o->final);

	if (err == 0) {
		o->tmp[0] = '\0';
		o->linked = true;
		return CER_OK;
	}
	return cer_fail(CER_EIO, "%s: %s", o->final,
	                err == EEXIST ? "appeared while the keys were made; a key file is never "
	                                "replaced"
	                              : strerror(err));
}

static void outside_undo(struct outside *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (o[i].linked)
			unlink(o[i].final);
		if (o[i].tmp[0] != '\0')
			unlink(o[i].tmp);
		o[i].linked = false;
		o[i].tmp[0] = '\0';
	}
}

static int old_dir_name(const char *clean, char out[static CER_KG_PATH_MAX])
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	unsigned k;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	for (k = 0; k < 100; k++) {
		int n = k == 0 ? snprintf(out, CER_KG_PATH_MAX, "%s.old-%s", clean, ts)
		               : snprintf(out, CER_KG_PATH_MAX, "%s.old-%s-%u", clean, ts, k);

		if (n < 0 || n >= CER_KG_PATH_MAX)
			break;
		if (!cer_path_exists(out))
			return CER_OK;
	}
	return cer_fail(CER_EIO, "%s: no free name to move it aside", clean);
}

/* Puts tmpdir in place of DIR (moving a non-empty DIR aside when force). */
static int install_dir(const char *tmpdir, const char *clean, bool force,
                       char old[static CER_KG_PATH_MAX])
{
	struct stat st;
	int ne, ret;

	old[0] = '\0';
	if (lstat(clean, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cer_fail(CER_EIO, "%s: exists and is not a directory", clean);
		ne = dir_nonempty(clean);
		if (ne < 0)
			return CER_EIO;
		if (ne == 0) {
			if (rename(tmpdir, clean) == 0)
				return CER_OK;
			return cer_fail(CER_EIO, "%s: cannot move the new files into place: %s",
			                clean, strerror(errno));
		}
		if (!force)
			return cer_fail(CER_EIO,
			                "%s: exists and is not empty (use --force to move it "
			                "aside)",
			                clean);
		ret = old_dir_name(clean, old);
		if (ret != CER_OK)
			return ret;
		if (renameat2(AT_FDCWD, clean, AT_FDCWD, old, RENAME_NOREPLACE) != 0) {
			ret = cer_fail(CER_EIO, "%s: cannot move it aside to %s: %s", clean, old,
			               strerror(errno));
			old[0] = '\0';
			return ret;
		}
	}
	if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, clean, RENAME_NOREPLACE) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot move the new files into place: %s", clean,
		               strerror(errno));
		if (old[0] != '\0' &&
		    renameat2(AT_FDCWD, old, AT_FDCWD, clean, RENAME_NOREPLACE) == 0)
			old[0] = '\0';
		return ret;
	}
	return CER_OK;
}

static int write_set(const struct cer_keygen_params *p, struct job *j, struct cer_keygen_result *r,
                     const struct cer_progress *progress)
{
	char clean[CER_KG_PATH_MAX], parent[CER_KG_PATH_MAX], base[NAME_MAX + 1];
	char tmpdir[CER_KG_PATH_MAX], path[CER_KG_PATH_MAX];
	char cert_files[CER_KEYGEN_MAX_KEYS][32],
	        key_files_buf[CER_KEYGEN_MAX_KEYS][CER_KG_PATH_MAX];
	const char *cert_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	const char *key_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cert_info info[CER_KEYGEN_MAX_KEYS];
	struct outside outside[2 * CER_KEYGEN_MAX_KEYS];
	json_t *token_json[CER_KEYGEN_MAX_KEYS] = {NULL};
	size_t n_out = 0;
	char *request = NULL, *manifest = NULL;
	bool tmp_made = false;
	unsigned i;
	int ret;

	memset(info, 0, sizeof info);
	memset(outside, 0, sizeof outside);
	ret = split_dir(p->out_dir, clean, parent, base);
	if (ret != CER_OK)
		goto out;
	if (snprintf(tmpdir, sizeof tmpdir, "%s/.%s.tmp-XXXXXX", parent, base) >=
	    (int)sizeof tmpdir) {
		ret = cer_fail(CER_EUSAGE, "%s: path too long", p->out_dir);
		goto out;
	}
	if (mkdtemp(tmpdir) == NULL) {
		ret = cer_fail(CER_EIO, "%s: cannot create a directory in %s: %s", p->out_dir,
		               parent, strerror(errno));
		goto out;
	}
	tmp_made = true;
	snprintf(r->out_dir, sizeof r->out_dir, "%s", clean);
	for (i = 0; i < p->count; i++) {
		struct slot *s = &j->slots[i];
		struct cer_keygen_key *k = &r->keys[i];
		const char *kp = p->custodians[i].key_path;
		const char *pem;
		long pem_len;

		ret = cert_describe(s->cert, s->name, &info[i]);
		if (ret != CER_OK)
			goto out;
		snprintf(cert_files[i], sizeof cert_files[i], "cert_%u.cer", i);
		cert_names[i] = cert_files[i];
		if ((ret = path_join(path, tmpdir, cert_files[i])) != CER_OK ||
		    (ret = write_new(path, s->cert_pem, s->cert_pem_len, 0644)) != CER_OK ||
		    (ret = path_join(k->cert_path, clean, cert_files[i])) != CER_OK)
			goto out;
		if (s->tok != NULL) {
			token_json[i] =
			        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "label",
			                  cer_token_key_info(s->tok)->label, "serial",
			                  cer_token_key_info(s->tok)->serial, "object",
			                  s->gen.label, "id", s->gen.id_hex, "uri", s->gen.uri,
			                  "module", cer_token_key_info(s->tok)->module);
			if (token_json[i] == NULL) {
				ret = cer_fail(CER_EINTERNAL, "out of memory");
				goto out;
			}
			snprintf(k->name, sizeof k->name, "%s", s->name);
			snprintf(k->token_uri, sizeof k->token_uri, "%s", s->gen.uri);
			key_describe(k, &info[i]);
			k->encrypted = false;
			continue;
		}
		pem_len = BIO_get_mem_data(s->key_pem, &pem);
		if (pem_len <= 0) {
			ret = cer_fail(CER_EINTERNAL, "custodian %u: empty key", i + 1);
			goto out;
		}
		if (is_default_key_path(kp)) {
			snprintf(key_files_buf[i], sizeof key_files_buf[i], "cert_%u.key", i);
			if ((ret = path_join(path, tmpdir, key_files_buf[i])) != CER_OK ||
			    (ret = write_new(path, pem, (size_t)pem_len, 0600)) != CER_OK ||
			    (ret = path_join(k->key_path, clean, key_files_buf[i])) != CER_OK)
				goto out;
		} else {
			snprintf(key_files_buf[i], sizeof key_files_buf[i], "%s", kp);
			snprintf(k->key_path, sizeof k->key_path, "%s", kp);
			ret = cert_beside(kp, k->key_cert_path);
			if (ret != CER_OK)
				goto out;
			snprintf(outside[n_out].final, sizeof outside[n_out].final, "%s", kp);
			ret = write_temp_beside(kp, pem, (size_t)pem_len, 0600, outside[n_out].tmp);
			n_out++;
			if (ret != CER_OK)
				goto out;
			snprintf(outside[n_out].final, sizeof outside[n_out].final, "%s",
			         k->key_cert_path);
			ret = write_temp_beside(k->key_cert_path, s->cert_pem, s->cert_pem_len,
			                        0644, outside[n_out].tmp);
			n_out++;
			if (ret != CER_OK)
				goto out;
		}
		key_names[i] = key_files_buf[i];
		snprintf(k->name, sizeof k->name, "%s", s->name);
		key_describe(k, &info[i]);
		k->encrypted = !p->no_passphrase;
	}
	ret = build_json(r, info, cert_names, key_names, token_json, p->bits, p->days, &request,
	                 &manifest);
	if (ret != CER_OK)
		goto out;
	if ((ret = path_join(path, tmpdir, request_name)) != CER_OK ||
	    (ret = write_new(path, request, strlen(request), 0644)) != CER_OK ||
	    (ret = path_join(path, tmpdir, manifest_name)) != CER_OK ||
	    (ret = write_new(path, manifest, strlen(manifest), 0644)) != CER_OK ||
	    (ret = path_join(r->request_path, clean, request_name)) != CER_OK ||
	    (ret = path_join(r->manifest_path, clean, manifest_name)) != CER_OK)
		goto out;
	fsync_dir(tmpdir);
	r->az_command = az_command(r);
	if (r->az_command == NULL || summary_json(r, manifest) != CER_OK) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (cancelled(p)) {
		ret = cer_fail(CER_EUSAGE, "key generation cancelled; nothing was written");
		goto out;
	}
	for (i = 0; i < n_out; i++) {
		ret = place_new(&outside[i]);
		if (ret != CER_OK)
			goto out;
	}
	ret = install_dir(tmpdir, clean, p->force, r->old_dir);
	if (ret != CER_OK)
		goto out;
	tmp_made = false;
	for (i = 0; i < n_out; i++) {
		if (outside[i].tmp[0] != '\0')
			unlink(outside[i].tmp);
		outside[i].tmp[0] = '\0';
		outside[i].linked = false;
		memcpy(path, outside[i].final, sizeof path);
		if (strrchr(path, '/') != NULL) {
			*strrchr(path, '/') = '\0';
			fsync_dir(path[0] != '\0' ? path : "/");
		} else {
			fsync_dir(".");
		}
	}
	fsync_dir(parent);
	if (r->old_dir[0] != '\0')
		cer_progress_note(progress, "%s was not empty: moved aside to %s", clean,
		                  r->old_dir);
	ret = CER_OK;
out:
	if (ret != CER_OK)
		outside_undo(outside, n_out);
	if (tmp_made)
		remove_tree_flat(tmpdir);
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		json_decref(info[i].jwk);
		json_decref(token_json[i]);
	}
	free(request);
	free(manifest);
	return ret;
}

int cer_keygen(const struct cer_keygen_params *p, const struct cer_progress *progress,
               struct cer_keygen_result **out)
{
	struct cer_keygen_result *r = NULL;
	struct job *j = NULL;
	unsigned i;
	int ret;

	*out = NULL;
	ret = cer_keygen_check_params(p);
	if (ret != CER_OK)
		return ret;
	j = calloc(1, sizeof *j);
	r = calloc(1, sizeof *r);
	if (j == NULL || r == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	j->p = p;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	for (i = 0; i < p->count; i++)
		effective_name(p, i, j->slots[i].name);
	r->count = p->count;
	r->quorum = p->quorum;
	if (p->no_passphrase)
		cer_progress_note(
		        progress,
		        "WARNING: the private keys are written WITHOUT a "
		        "passphrase; anyone who copies them can open the security domain");
	for (i = 0; i < p->count && ret == CER_OK; i++)
		if (is_token(p, i))
			ret = token_slot(j, i, progress);
	if (ret == CER_OK)
		ret = run_job(j, progress);
	if (ret == CER_OK)
		ret = write_set(p, j, r, progress);
	if (ret != CER_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	if (j != NULL) {
		job_clear(j, ret != CER_OK);
		pthread_mutex_destroy(&j->lock);
		pthread_cond_destroy(&j->cond);
		free(j);
	}
	cer_keygen_result_free(r);
	return ret;
}

/* ---- package ---- */

int cer_package(const struct cer_package_params *p, struct cer_keygen_result **out)
{
	struct cer_cert *certs[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cert_info info[CER_KEYGEN_MAX_KEYS];
	const char *key_names[CER_KEYGEN_MAX_KEYS] = {NULL};
	struct cer_keygen_result *r = NULL;
	char *request = NULL, *manifest = NULL;
	unsigned flags = p->force ? CER_WRITE_REPLACE : 0;
	bool made_dir = false;
	unsigned i, k;
	struct stat st;
	int ret;

	*out = NULL;
	memset(info, 0, sizeof info);
	ret = cer_keygen_check_counts(p->count, p->quorum);
	if (ret != CER_OK)
		return ret;
	if (p->out_dir == NULL || p->out_dir[0] == '\0')
		return cer_fail(CER_EUSAGE, "no output directory given");
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	r->count = p->count;
	r->quorum = p->quorum;
	for (i = 0; i < p->count; i++) {
		ret = cer_cert_load(p->cert_paths[i], &certs[i]);
		if (ret == CER_OK)
			ret = cert_describe(certs[i], p->cert_paths[i], &info[i]);
		if (ret != CER_OK)
			goto out;
		for (k = 0; k < i; k++) {
			if (EVP_PKEY_eq(cer_cert_pubkey(certs[k]), cer_cert_pubkey(certs[i])) ==
			    1) {
				ret = cer_fail(CER_EINPUT,
				               "%s: same public key as %s; each custodian "
				               "needs their own key",
				               p->cert_paths[i], p->cert_paths[k]);
				goto out;
			}
		}
		memcpy(r->keys[i].name, info[i].name, sizeof r->keys[i].name);
		snprintf(r->keys[i].cert_path, sizeof r->keys[i].cert_path, "%s", p->cert_paths[i]);
		key_describe(&r->keys[i], &info[i]);
	}
	ret = build_json(r, info, p->cert_paths, key_names, NULL, 0, 0, &request, &manifest);
	if (ret != CER_OK)
		goto out;
	snprintf(r->out_dir, sizeof r->out_dir, "%s", p->out_dir);
	if ((ret = path_join(r->request_path, p->out_dir, request_name)) != CER_OK ||
	    (ret = path_join(r->manifest_path, p->out_dir, manifest_name)) != CER_OK)
		goto out;
	if (!p->force && (cer_path_exists(r->request_path) || cer_path_exists(r->manifest_path))) {
		ret = cer_fail_exists(cer_path_exists(r->request_path) ? r->request_path
		                                                       : r->manifest_path);
		goto out;
	}
	if (stat(p->out_dir, &st) != 0) {
		if (errno != ENOENT || mkdir(p->out_dir, 0755) != 0) {
			ret = cer_fail(CER_EIO, "%s: cannot create the directory: %s", p->out_dir,
			               strerror(errno));
			goto out;
		}
		made_dir = true;
	} else if (!S_ISDIR(st.st_mode)) {
		ret = cer_fail(CER_EIO, "%s: not a directory", p->out_dir);
		goto out;
	}
	r->az_command = az_command(r);
	if (r->az_command == NULL || summary_json(r, manifest) != CER_OK) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = cer_file_write_atomic(r->request_path, request, strlen(request), flags);
	if (ret != CER_OK)
		goto out;
	ret = cer_file_write_atomic(r->manifest_path, manifest, strlen(manifest), flags);
	if (ret != CER_OK) {
		unlink(r->request_path);
		goto out;
	}
	*out = r;
	r = NULL;
out:
	if (ret != CER_OK && made_dir)
		rmdir(p->out_dir);
	for (i = 0; i < CER_KEYGEN_MAX_KEYS; i++) {
		cer_cert_free(certs[i]);
		json_decref(info[i].jwk);
	}
	free(request);
	free(manifest);
	cer_keygen_result_free(r);
	return ret;
}
