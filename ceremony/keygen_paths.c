#include "ceremony/keygen_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/io.h"

bool cer_kg_is_token(const struct cer_keygen_params *p, unsigned i)
{
	return p->custodians[i].token_uri != NULL && p->custodians[i].token_uri[0] != '\0';
}

int cer_kg_path_join(char out[static CER_KG_PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, CER_KG_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= CER_KG_PATH_MAX)
		return cer_fail(CER_EUSAGE, "%s/%s: path too long", dir, name);
	return CER_OK;
}

/* DIR without trailing slashes, split into parent and base name. */
int cer_kg_split_dir(const char *dir, char clean[static CER_KG_PATH_MAX],
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
int cer_kg_dir_nonempty(const char *path)
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
	int ret = cer_kg_split_dir(dir, clean, parent, base);

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
	switch (cer_kg_dir_nonempty(clean)) {
	case -1: return CER_EIO;
	case 1:
		if (!force)
			return cer_fail_reason(CER_EIO, CER_REASON_EXISTS,
			                       "%s: exists and is not empty; it can be moved aside "
			                       "to %s.old-<time> (nothing is deleted)",
			                       dir, clean);
		break;
	default: break;
	}
	return CER_OK;
}

/* Where the certificate copy beside an outside key goes: where recovery looks for it. */
int cer_kg_cert_beside(const char *key_path, char out[static CER_KG_PATH_MAX])
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

bool cer_kg_is_default_key_path(const char *kp)
{
	return kp == NULL || kp[0] == '\0';
}

static int check_key_path(const struct cer_keygen_params *p, unsigned i, const char *dir_real)
{
	const char *kp = p->custodians[i].key_path;
	char cer[CER_KG_PATH_MAX], real[PATH_MAX], real_j[PATH_MAX];
	unsigned j;
	int ret;

	if (cer_kg_is_default_key_path(kp))
		return CER_OK;
	ret = cer_kg_cert_beside(kp, cer);
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

		if (j == i || cer_kg_is_default_key_path(other) ||
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
	int ret = cer_kg_split_dir(out_dir, clean, parent, base);

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
	if (ret == CER_OK && cer_kg_cert_beside(out, cert) == CER_OK)
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

void cer_kg_effective_name(const struct cer_keygen_params *p, unsigned i,
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
		if (cer_kg_is_default_key_path(p->custodians[i].key_path))
			continue;
		ret = fn(p->custodians[i].key_path, true);
		if (ret == CER_OK && cer_kg_cert_beside(p->custodians[i].key_path, cert) == CER_OK)
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
	ret = cer_kg_split_dir(p->out_dir, clean, parent, base);
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
		cer_kg_effective_name(p, i, names[i]);
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return cer_fail(CER_EUSAGE,
				                "custodians %u and %u have the same name '%s'",
				                j + 1, i + 1, names[i]);
	}
	for (i = 0; i < p->count; i++) {
		if (!cer_kg_is_token(p, i))
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
			if (cer_kg_is_token(p, j) &&
			    strcmp(p->custodians[i].token_uri, p->custodians[j].token_uri) == 0)
				return cer_fail(CER_EUSAGE,
				                "custodians %u and %u have the same token URI "
				                "%s: give each its own token (or object=)",
				                j + 1, i + 1, p->custodians[i].token_uri);
	}
	if (!p->no_passphrase) {
		for (i = 0; i < p->count; i++)
			pass[i] = cer_kg_is_token(p, i) ? NULL : p->custodians[i].passphrase;
		for (i = 0; i < p->count; i++) {
			if (cer_kg_is_token(p, i))
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
	ret = cer_kg_split_dir(p->out_dir, clean, parent, base);
	if (ret == CER_OK)
		ret = out_dir_real(p->out_dir, dir_real);
	if (ret != CER_OK)
		return ret;
	for (i = 0; i < p->count; i++) {
		if (cer_kg_is_token(p, i))
			continue;
		ret = check_key_path(p, i, dir_real);
		if (ret != CER_OK)
			return ret;
	}
	return stale_temps(p, clean, cer_stale_temps_check);
}
