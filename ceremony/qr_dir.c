#include "ceremony/qr_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/codec.h"
#include "ceremony/io.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/*
 * The directory, once renamed into place, holds the page: some file systems
 * (fusefat) lose a directory's contents when it is renamed, and a split that
 * says it was written must be there.
 */
static int split_arrived(const char *dir)
{
	char *page = NULL;
	bool there;

	if (asprintf(&page, "%s/index.html", dir) < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	there = cer_path_exists(page);
	free(page);
	if (!there) {
		rmdir(dir); /* only if empty, as it then is */
		return cer_fail(CER_EIO,
		                "%s: the file system lost the parts when the directory was "
		                "renamed into place; write the split to another medium",
		                dir);
	}
	return CER_OK;
}

/* NN.png, NN.txt (two or more digits) or index.html; kind: 't' for .txt. */
static bool split_name(const char *name, char *kind)
{
	size_t n = strlen(name);

	*kind = 0;
	if (strcmp(name, "index.html") == 0) {
		*kind = 'h';
		return true;
	}
	if (n < 6 || !all_digits(name, n - 4))
		return false;
	if (strcmp(name + n - 4, ".txt") == 0)
		*kind = 't';
	else if (strcmp(name + n - 4, ".png") == 0)
		*kind = 'p';
	return *kind != 0;
}

static int name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

int cer_qr_set_load_dir(const char *dir, enum cer_qr_ec ec, struct cer_qr_set *set, uint8_t **data,
                        size_t *len)
{
	struct cer_qr_join *join = NULL;
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t nnames = 0, i;
	uint8_t *file = NULL, md[32];
	size_t flen;
	int ret;

	memset(set, 0, sizeof *set);
	if (data != NULL) {
		*data = NULL;
		*len = 0;
	}
	d = opendir(dir);
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	ret = cer_qr_join_new(&join);
	if (ret != CER_OK)
		goto out;
	while ((e = readdir(d)) != NULL) {
		char kind, **grown;

		if (!split_name(e->d_name, &kind) || kind != 't')
			continue;
		if (nnames >= CER_QR_MAX_PARTS) {
			ret = cer_fail(CER_EINPUT, "%s: more than %u part files", dir,
			               CER_QR_MAX_PARTS);
			goto out;
		}
		grown = realloc(names, (nnames + 1) * sizeof *names);
		if (grown == NULL || (grown[nnames] = strdup(e->d_name)) == NULL) {
			names = grown != NULL ? grown : names;
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		names = grown;
		nnames++;
	}
	if (nnames == 0) {
		ret = cer_fail(CER_EINPUT, "%s: no part files (NN.txt) in it", dir);
		goto out;
	}
	qsort(names, nnames, sizeof *names, name_cmp);
	for (i = 0; i < nnames; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		ret = cer_qr_join_add_file(join, path);
		free(path);
		if (ret != CER_OK)
			goto out;
	}
	ret = cer_qr_join_finish(join, &file, &flen);
	if (ret != CER_OK) {
		cer_fail_context(ret, dir);
		goto out;
	}
	set->parts = calloc(join->total, sizeof *set->parts);
	if (set->parts == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	set->count = join->total;
	for (i = 0; i < join->total; i++) {
		set->parts[i] = join->slots[i].text;
		join->slots[i].text = NULL;
	}
	cer_qr_sha256(file, flen, md);
	cer_hex_encode(md, 32, set->sha256_hex);
	memcpy(set->id, join->id, sizeof set->id);
	set->file_len = flen;
	set->ec = ec;
	if (data != NULL) {
		*data = file;
		*len = flen;
		file = NULL;
	}
	ret = CER_OK;
out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(file);
	cer_qr_join_free(join);
	closedir(d);
	if (ret != CER_OK)
		cer_qr_set_free(set);
	return ret;
}

static int remove_split_files(const char *dir, bool only_ours)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char kind, *path = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (only_ours && !split_name(e->d_name, &kind)) {
			ret = -1;
			continue;
		}
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			ret = -1;
		else if (unlink(path) != 0)
			ret = -1;
		free(path);
	}
	closedir(d);
	return rmdir(dir) == 0 ? ret : -1;
}

/* 0: absent, 1: empty directory, 2: only a previous split's files; else status set. */
static int out_dir_state(const char *dir, bool replace, int *state)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int ret = CER_OK;

	*state = 0;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return CER_OK;
		return cer_fail(CER_EIO, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return cer_fail(CER_EIO, "%s: exists and is not a directory", dir);
	d = opendir(dir);
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	*state = 1;
	while ((e = readdir(d)) != NULL) {
		char kind;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!replace) {
			ret = cer_fail_reason(CER_EIO, CER_REASON_EXISTS,
			                      "%s: exists and is not empty (a previous split?)",
			                      dir);
			break;
		}
		if (!split_name(e->d_name, &kind)) {
			ret = cer_fail(CER_EIO,
			               "%s: holds '%.100s', which qr split did not write; "
			               "not replacing it",
			               dir, e->d_name);
			break;
		}
		*state = 2;
	}
	closedir(d);
	return ret;
}

static int write_parts(const struct cer_qr_set *set, const char *tmp, const char *title,
                       const struct cer_progress *progress, int *max_version)
{
	uint8_t **pngs = calloc(set->count, sizeof *pngs);
	size_t *lens = calloc(set->count, sizeof *lens);
	char *html = NULL, *path = NULL;
	size_t html_len;
	int digits = 2, ret = CER_OK;
	unsigned i;

	if (pngs == NULL || lens == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (set->count >= 100)
		digits = set->count >= 1000 ? 4 : 3;
	for (i = 0; i < set->count && ret == CER_OK; i++) {
		struct cer_qr_code code;
		char *line = NULL;

		ret = cer_qr_encode(set->parts[i], set->ec, &code);
		if (ret != CER_OK) {
			cer_fail_context(ret, "part does not fit");
			break;
		}
		if (code.version > *max_version)
			*max_version = code.version;
		ret = cer_qr_png(&code, CER_QR_PNG_MODULE_PX, CER_QR_PNG_QUIET, &pngs[i], &lens[i]);
		cer_qr_code_free(&code);
		if (ret != CER_OK)
			break;
		if (asprintf(&path, "%s/%0*u.png", tmp, digits, i + 1) < 0 ||
		    asprintf(&line, "%s\n", set->parts[i]) < 0) {
			free(path);
			path = NULL;
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			break;
		}
		ret = cer_file_write_atomic(path, pngs[i], lens[i], 0);
		path[strlen(path) - 3] = '\0';
		strcat(path, "txt");
		if (ret == CER_OK)
			ret = cer_file_write_atomic(path, line, strlen(line), 0);
		free(line);
		free(path);
		path = NULL;
		cer_progress_step(progress, "qr", i + 1, set->count);
	}
	if (ret != CER_OK)
		goto out;
	ret = cer_qr_html(set, title, pngs, lens, &html, &html_len);
	if (ret != CER_OK)
		goto out;
	if (asprintf(&path, "%s/index.html", tmp) < 0) {
		path = NULL;
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = cer_file_write_atomic(path, html, html_len, 0);
out:
	for (i = 0; pngs != NULL && i < set->count; i++)
		free(pngs[i]);
	free(pngs);
	free(lens);
	free(html);
	free(path);
	return ret;
}

static int split_report(const char *path, const char *dir, const struct cer_qr_set *set,
                        int version, enum cer_qr_ec ec, struct cer_report **report)
{
	char ecs[2] = {cer_qr_ec_letter(ec), '\0'};
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:i, s:i, s:s}", "report", "qr_split",
	                      "file", path, "size", (json_int_t)set->file_len, "sha256",
	                      set->sha256_hex, "dir", dir, "parts", (json_int_t)set->count,
	                      "qr_version", (json_int_t)version, "ec", ecs);

	if (j == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return cer_report_build(j, CER_OK, report);
}

int cer_qr_split_dir(const char *path, const char *dir_arg, size_t max_bytes, enum cer_qr_ec ec,
                     bool replace, const struct cer_progress *progress, struct cer_transcript *t,
                     struct cer_report **report)
{
	struct cer_qr_set set = {0};
	uint8_t *data = NULL;
	size_t len;
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int state, ret, version = 0;
	bool made_tmp = false, recorded = false;

	*report = NULL;
	dir = strdup(dir_arg);
	if (dir == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	ret = cer_file_read(path, CER_QR_MAX_FILE, &data, &len);
	if (ret != CER_OK)
		goto out;
	ret = out_dir_state(dir, replace, &state);
	if (ret == CER_OK)
		ret = cer_stale_temps_check(dir, false);
	if (ret != CER_OK)
		goto out;
	ret = cer_qr_split(data, len, max_bytes, ec, &set);
	if (ret != CER_OK) {
		cer_fail_context(ret, path);
		goto out;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (asprintf(&tmp, "%s.tmp-XXXXXX", dir) < 0) {
		tmp = NULL;
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (mkdtemp(tmp) == NULL) {
		ret = cer_fail(CER_EIO, "%s: cannot create a directory beside it: %s", dir,
		               strerror(errno));
		goto out;
	}
	made_tmp = true;
	ret = write_parts(&set, tmp, base, progress, &version);
	if (ret != CER_OK)
		goto out;
	if (chmod(tmp, 0755) != 0 && errno != EPERM && errno != ENOSYS) { /* FAT: no modes */
		ret = cer_fail(CER_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (state == 2) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
			ret = cer_fail(CER_EIO, "%s: cannot replace it: %s", dir, strerror(errno));
			goto out;
		}
		if (remove_split_files(tmp, true) != 0)
			cer_progress_note(progress, "%s: could not remove the previous split", tmp);
		made_tmp = false;
	} else if (rename(tmp, dir) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot create it: %s", dir,
		               errno == ENOTEMPTY || errno == EEXIST ? "it appeared meanwhile"
		                                                     : strerror(errno));
		goto out;
	} else {
		made_tmp = false;
	}
	ret = split_arrived(dir);
	if (ret == CER_OK)
		ret = split_report(path, dir, &set, version, ec, report);
	if (ret != CER_OK)
		goto out;
	recorded = true;
	if (t != NULL && cer_transcript_add_report(t, *report) != CER_OK)
		ret = CER_EIO; /* the split and its report stand, the record is lost */
out:
	if (!recorded && cer_transcript_note(t, "qr split: %s into %s: [FAIL] %s (exit %d)", path,
	                                     dir_arg, cer_errmsg(), ret) != CER_OK)
		ret = CER_EIO;
	if (made_tmp)
		remove_split_files(tmp, false);
	free(tmp);
	free(dir);
	free(data);
	cer_qr_set_free(&set);
	return ret;
}
