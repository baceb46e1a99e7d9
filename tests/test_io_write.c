/*
 * cer_file_write_atomic where the file system has no O_TMPFILE (FAT media):
 * the named fallback writes the whole file under a hidden temporary and
 * renames it into place without replacing, so that it has one name at every
 * moment; where renameat2's flags are unknown too, link() then unlink();
 * where links are refused as well (fusefat), a look, then rename().
 * Never a temporary left, never two names, never a replaced file without
 * CER_WRITE_REPLACE.  open() and renameat2() are defined here and stand in
 * for libc's in this program, refusing what such a file system refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ceremony/cer.h"
#include "ceremony/io.h"

static bool no_tmpfile, no_rename_flags, no_links;
static unsigned tmpfile_refused, rename_flags_refused, links_made;
static char work[256];

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if ((flags & O_TMPFILE) == O_TMPFILE && no_tmpfile) {
		tmpfile_refused++;
		errno = EOPNOTSUPP;
		return -1;
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int renameat2(int olddir, const char *from, int newdir, const char *to, unsigned flags)
{
	if (flags != 0 && no_rename_flags) {
		rename_flags_refused++;
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_renameat2, olddir, from, newdir, to, flags);
}

int link(const char *from, const char *to)
{
	if (no_links) {
		errno = EPERM;
		return -1;
	}
	links_made++;
	return linkat(AT_FDCWD, from, AT_FDCWD, to, 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(work, sizeof work, "%s/sdc-io-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL)
		return -1;
	no_tmpfile = no_rename_flags = no_links = false;
	tmpfile_refused = rename_flags_refused = links_made = 0;
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(work);
	struct dirent *e;
	char p[512];

	(void)state;
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof p, "%s/%s", work, e->d_name);
			unlink(p);
		}
	if (d != NULL)
		closedir(d);
	rmdir(work);
	return 0;
}

/* Entries in the work directory other than the named file. */
static unsigned others(const char *name)
{
	DIR *d = opendir(work);
	struct dirent *e;
	unsigned n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, name) != 0)
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static void assert_file(const char *path, const char *text, mode_t mode)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;

	assert_int_equal(cer_file_read(path, 1 << 20, &buf, &len), CER_OK);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(buf, text, len);
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_int_equal(st.st_mode & 0777, mode);
}

static void write_and_check(unsigned expect_links)
{
	char path[512];

	snprintf(path, sizeof path, "%s/out.json", work);
	assert_int_equal(cer_file_write_atomic(path, "first", 5, CER_WRITE_PRIVATE), CER_OK);
	assert_file(path, "first", 0600);
	assert_int_equal(others("out.json"), 0);
	/* Never replaced without CER_WRITE_REPLACE, and nothing left behind. */
	assert_int_equal(cer_file_write_atomic(path, "second", 6, 0), CER_EIO);
	assert_non_null(strstr(cer_errmsg(), "already exists"));
	assert_file(path, "first", 0600);
	assert_int_equal(others("out.json"), 0);
	assert_int_equal(cer_file_write_atomic(path, "third", 5, CER_WRITE_REPLACE), CER_OK);
	assert_file(path, "third", 0644);
	assert_int_equal(others("out.json"), 0);
	assert_int_equal(links_made, expect_links);
}

static void test_with_tmpfile(void **state)
{
	(void)state;
	write_and_check(0);
	assert_int_equal(tmpfile_refused, 0);
}

static void test_without_tmpfile(void **state)
{
	(void)state;
	no_tmpfile = true;
	write_and_check(0); /* renameat2 RENAME_NOREPLACE: no second name, ever */
	assert_true(tmpfile_refused >= 2);
}

static void test_without_tmpfile_nor_rename_flags(void **state)
{
	(void)state;
	no_tmpfile = no_rename_flags = true;
	write_and_check(1); /* link(), the temporary unlinked at once */
	assert_true(rename_flags_refused >= 1);
}

static void test_without_tmpfile_rename_flags_nor_links(void **state)
{
	(void)state;
	no_tmpfile = no_rename_flags = no_links = true;
	write_and_check(0); /* the path is looked at, then renamed to */
	assert_true(rename_flags_refused >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_with_tmpfile, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_without_tmpfile, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_without_tmpfile_nor_rename_flags, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_without_tmpfile_rename_flags_nor_links, setup,
	                                        teardown),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
