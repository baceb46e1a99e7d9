#include "ceremony/io.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/codec.h"

static int read_fd(int fd, uint8_t *buf, size_t len, const char *path)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cer_fail(CER_EIO, "%s: read failed: %s", path, strerror(errno));
		if (r == 0)
			return cer_fail(CER_EIO, "%s: file changed while reading", path);
		got += (size_t)r;
	}
	return CER_OK;
}

static int read_any(const char *path, size_t max, bool secret, uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len;
	int ret;
	/* O_NONBLOCK: opening a FIFO (or a device) must not hang before it is refused. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	*out = NULL;
	*outlen = 0;
	if (fd < 0)
		return cer_fail(CER_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = cer_fail(CER_EIO, "%s: not a regular file", path);
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		ret = cer_fail(CER_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = cer_fail(CER_EINPUT, "%s: file too large (%lld bytes, limit %zu)", path,
		               (long long)st.st_size, max);
		goto out;
	}
	len = (size_t)st.st_size;
	buf = secret ? cer_secret_alloc(len + 1) : calloc(1, len + 1);
	if (buf == NULL) {
		ret = cer_fail(CER_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	ret = read_fd(fd, buf, len, path);
	if (ret != CER_OK)
		goto out;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	if (secret)
		cer_secret_free(buf);
	else
		free(buf);
	close(fd);
	return ret;
}

int cer_file_read(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	return read_any(path, max, false, buf, len);
}

int cer_file_read_secret(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	return read_any(path, max, true, buf, len);
}

int cer_passphrase_file_read(const char *path, char **pass)
{
	uint8_t *buf = NULL;
	size_t len, n;
	int ret;

	*pass = NULL;
	ret = cer_file_read_secret(path, 64 * 1024, &buf, &len);
	if (ret != CER_OK)
		return ret;
	for (n = 0; n < len && buf[n] != '\n' && buf[n] != '\r'; n++)
		;
	sodium_memzero(buf + n, len - n);
	if (n == 0) {
		cer_secret_free(buf);
		return cer_fail(CER_EINPUT, "%s: passphrase file is empty", path);
	}
	*pass = (char *)buf;
	return CER_OK;
}

bool cer_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool cer_fd_set_mode(int fd, mode_t mode)
{
	return fchmod(fd, mode) == 0 || errno == EPERM || errno == ENOSYS;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (copy == NULL)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

static bool temp_suffix(const char *s)
{
	size_t i;

	for (i = 0; i < 6; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return s[6] == '\0';
}

static int remove_one(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(fpath) : unlink(fpath)) == 0 ? 0 : errno;
}

int cer_stale_temps_remove(const char *path, bool hidden)
{
	char *copy = strdup(path), *prefix = NULL, *victim = NULL;
	const char *dir, *base;
	struct dirent *e;
	size_t plen;
	DIR *d;
	int ret = CER_OK, err;

	if (copy == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	dir = dirname(copy);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (asprintf(&prefix, "%s%s.tmp-", hidden ? "." : "", base) < 0) {
		free(copy);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	plen = strlen(prefix);
	d = opendir(dir);
	while (ret == CER_OK && d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0 || !temp_suffix(e->d_name + plen))
			continue;
		if (asprintf(&victim, "%s/%s", dir, e->d_name) < 0) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			break;
		}
		/* Depth first, never following a link out of the temporary. */
		err = nftw(victim, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		if (err != 0)
			ret = cer_fail(CER_EIO, "%s: cannot remove it: %s", victim,
			               strerror(err > 0 ? err : errno));
		free(victim);
		victim = NULL;
	}
	if (d != NULL)
		closedir(d);
	free(prefix);
	free(copy);
	return ret;
}

int cer_stale_temps_check(const char *path, bool hidden)
{
	char *copy = strdup(path), *prefix = NULL, *found = NULL;
	const char *dir, *base;
	struct dirent *e;
	size_t plen, nfound = 0;
	DIR *d;
	int ret = CER_OK;

	if (copy == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	dir = dirname(copy);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (asprintf(&prefix, "%s%s.tmp-", hidden ? "." : "", base) < 0) {
		free(copy);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	plen = strlen(prefix);
	d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0 || !temp_suffix(e->d_name + plen))
			continue;
		if (nfound++ == 0 && asprintf(&found, "%s/%s", dir, e->d_name) < 0)
			found = NULL;
	}
	if (d != NULL)
		closedir(d);
	if (nfound > 0)
		ret = cer_fail_reason(CER_EIO, CER_REASON_STALE_TEMP,
		                      "%s: an interrupted run left a temporary beside it: %s%s "
		                      "(it may hold key material: check it, then remove it with "
		                      "rm -rf -- '%s', and run again)",
		                      path, found != NULL ? found : prefix,
		                      nfound > 1 ? " and others of the same name" : "",
		                      found != NULL ? found : prefix);
	free(found);
	free(prefix);
	free(copy);
	return ret;
}

int cer_file_place(const char *tmp, const char *path)
{
	int err;

	/* Never replaces, and the file has one name at every moment. */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	err = errno;
	if (err != EINVAL && err != ENOSYS && err != ENOTSUP && err != EOPNOTSUPP)
		return err;
	/* A file system without renameat2's flags: link(), which never replaces. */
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	err = errno;
	if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EMLINK)
		return err;
	/* Neither flags nor links (fusefat): look, then rename.  The window is
	 * this process's alone on a custodian's stick. */
	if (cer_path_exists(path))
		return EEXIST;
	return rename(tmp, path) == 0 ? 0 : errno;
}

static int place_named_temp(const char *tmp, const char *path, unsigned flags)
{
	if (flags & CER_WRITE_REPLACE)
		return rename(tmp, path) == 0 ? 0 : errno;
	return cer_file_place(tmp, path);
}

/* The fallback where the file system has no O_TMPFILE: a named temporary. */
static int write_named_temp(const char *path, const char *dir, const char *base, const void *data,
                            size_t len, unsigned flags, mode_t mode)
{
	char *tmp = NULL;
	int fd, err, ret;

	if (asprintf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base) < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = cer_fail(CER_EIO, "%s: cannot create a file in %s: %s", path, dir,
		               strerror(errno));
		free(tmp);
		return ret;
	}
	if (!cer_fd_set_mode(fd, mode) || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		ret = cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	if (close(fd) != 0) {
		ret = cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(errno));
		goto out;
	}
	err = place_named_temp(tmp, path, flags);
	if (err != 0) {
		ret = err == EEXIST
		              ? cer_fail_exists(path)
		              : cer_fail(CER_EIO, "%s: cannot write: %s", path, strerror(err));
		goto out;
	}
	ret = CER_OK;
out:
	unlink(tmp); /* gone already on success */
	free(tmp);
	return ret;
}

/*
 * Returns 1 when the file system has no O_TMPFILE (or no links for it) and
 * the named fallback must be used, else a status.
 */
static int write_unnamed(const char *path, const char *dir, const char *base, const void *data,
                         size_t len, unsigned flags, mode_t mode)
{
	char fdpath[64], *tmp = NULL;
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
	int ret, err;

	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL
		               ? 1
		               : cer_fail(CER_EIO, "%s: cannot create a file in %s: %s", path, dir,
		                          strerror(errno));
	if (!cer_fd_set_mode(fd, mode) || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		ret = cer_fail(CER_EIO, "%s: write failed: %s", path, strerror(errno));
		goto out;
	}
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	if (!(flags & CER_WRITE_REPLACE)) {
		/* The file gets its one name at once, whole; linkat never replaces. */
		if (linkat(AT_FDCWD, fdpath, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
			ret = CER_OK;
			goto out;
		}
		err = errno;
		ret = err == EEXIST ? cer_fail_exists(path)
		      : err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOENT
		              ? 1
		              : cer_fail(CER_EIO, "%s: cannot write: %s", path, strerror(err));
		goto out;
	}
	/* Replacing needs a name to rename from: linked last, for the shortest while. */
	if (asprintf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base) < 0) {
		tmp = NULL;
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = 1;
	for (int tries = 0; tries < 100 && ret == 1; tries++) {
		uint8_t r[6];
		static const char al[] =
		        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
		size_t tl = strlen(tmp);

		randombytes_buf(r, sizeof r);
		for (int i = 0; i < 6; i++)
			tmp[tl - 6 + i] = al[r[i] % (sizeof al - 1)];
		if (linkat(AT_FDCWD, fdpath, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
			ret = CER_OK;
		else if (errno != EEXIST)
			ret = errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP
			              ? 2
			              : cer_fail(CER_EIO, "%s: cannot write: %s", path,
			                         strerror(errno));
	}
	if (ret == 2) {
		ret = 1;
		goto out;
	}
	if (ret != CER_OK)
		goto out;
	if (rename(tmp, path) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = CER_OK;
out:
	free(tmp);
	close(fd);
	return ret;
}

int cer_file_write_atomic(const char *path, const void *data, size_t len, unsigned flags)
{
	char *copy = NULL;
	const char *dir;
	const char *base;
	int ret;
	mode_t mode = (flags & CER_WRITE_PRIVATE) ? 0600 : 0644;

	if (!(flags & CER_WRITE_REPLACE) && cer_path_exists(path))
		return cer_fail_exists(path);
	ret = cer_stale_temps_check(path, true);
	if (ret != CER_OK)
		return ret;
	copy = strdup(path);
	if (copy == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	dir = dirname(copy);
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	ret = write_unnamed(path, dir, base, data, len, flags, mode);
	if (ret == 1)
		ret = write_named_temp(path, dir, base, data, len, flags, mode);
	if (ret == CER_OK)
		fsync_dir_of(path);
	free(copy);
	return ret;
}

int cer_file_sha256_hex(const char *path, char hex[static 65])
{
	uint8_t *buf = NULL;
	uint8_t md[32];
	size_t len;
	int ret = cer_file_read(path, (size_t)1 << 31, &buf, &len);

	if (ret != CER_OK)
		return ret;
	if (EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL) != 1) {
		free(buf);
		return cer_fail(CER_EINTERNAL, "SHA-256 failed");
	}
	free(buf);
	cer_hex_encode(md, sizeof md, hex);
	return CER_OK;
}
