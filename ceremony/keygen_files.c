#include "ceremony/keygen_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ceremony/io.h"

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
int cer_kg_write_new(const char *path, const void *data, size_t len, mode_t mode)
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
int cer_kg_write_temp_beside(const char *path, const void *data, size_t len, mode_t mode,
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

void cer_kg_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (fsync(fd) != 0) {
			/* the rename is done; a failed directory sync cannot be undone */
		}
		close(fd);
	}
}

void cer_kg_remove_tree_flat(const char *dir)
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

/* Moves a finished temporary file to its final name, never replacing a file
 * (io.c's cer_file_place: one name at every moment where the file system
 * allows, FAT media included). */
int cer_kg_place_new(struct cer_kg_outside *o)
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

void cer_kg_outside_undo(struct cer_kg_outside *o, size_t n)
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
int cer_kg_install_dir(const char *tmpdir, const char *clean, bool force,
                       char old[static CER_KG_PATH_MAX])
{
	struct stat st;
	int ne, ret;

	old[0] = '\0';
	if (lstat(clean, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return cer_fail(CER_EIO, "%s: exists and is not a directory", clean);
		ne = cer_kg_dir_nonempty(clean);
		if (ne < 0)
			return CER_EIO;
		if (ne == 0) {
			if (rename(tmpdir, clean) == 0)
				return CER_OK;
			return cer_fail(CER_EIO, "%s: cannot move the new files into place: %s",
			                clean, strerror(errno));
		}
		if (!force)
			return cer_fail_reason(CER_EIO, CER_REASON_EXISTS,
			                       "%s: exists and is not empty", clean);
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
