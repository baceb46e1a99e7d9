#ifndef CER_IO_H
#define CER_IO_H

/*
 * Files.  Reads refuse anything larger than `max` bytes before reading it.
 * Every write is atomic and leaves no second name: an unnamed O_TMPFILE,
 * fsync, then linkat into place (never replacing); replacing links it to a
 * temporary name and renames at once.  Where the file system has no
 * O_TMPFILE or no hard links (FAT), a temporary ".NAME.tmp-XXXXXX" beside
 * the output, renamed without replacing.  On failure nothing is left behind;
 * only a kill between two steps of the fallback can leave a temporary, which
 * the next write of that output names and refuses to go past.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ceremony/cer.h"

/*
 * Reads a whole file into a malloc'ed buffer with one extra NUL byte after
 * the data (so text can be used as a C string).  Caller frees *buf.
 * Fails with CER_EIO (cannot open/read, or not a regular file: a FIFO or a
 * device is refused at once, never waited on) or CER_EINPUT (larger than
 * max).
 */
int cer_file_read(const char *path, size_t max, uint8_t **buf, size_t *len) CER_WUR;

/* As cer_file_read, but into secret memory (free with cer_secret_free). */
int cer_file_read_secret(const char *path, size_t max, uint8_t **buf, size_t *len) CER_WUR;

/*
 * Reads a passphrase file: the first line, without its line ending, into
 * secret memory (cer_secret_free).  An empty passphrase is an input error.
 */
int cer_passphrase_file_read(const char *path, char **pass) CER_WUR;

enum {
	CER_WRITE_REPLACE = 1u << 0, /* an existing file may be replaced (--force) */
	CER_WRITE_PRIVATE = 1u << 1, /* mode 0600 instead of 0644 */
};

/*
 * Writes len bytes to path atomically.  Without CER_WRITE_REPLACE an existing
 * path is refused (cer_fail_exists: CER_EIO, reason CER_REASON_EXISTS) and is
 * never replaced, even if it appears while writing.
 */
int cer_file_write_atomic(const char *path, const void *data, size_t len, unsigned flags) CER_WUR;

/*
 * CER_EIO, naming it and how to remove it, when the directory of path holds
 * a temporary of ours for path: ".BASE.tmp-XXXXXX" (hidden) or
 * "BASE.tmp-XXXXXX" (X: 6 letters or digits), left by a killed run.
 */
int cer_stale_temps_check(const char *path, bool hidden) CER_WUR;
/*
 * Removes those temporaries (files, or a killed keygen's directory with what
 * is in it, never following a link), for a front end that asked the
 * operator first.  CER_EIO naming one that cannot be removed.
 */
int cer_stale_temps_remove(const char *path, bool hidden) CER_WUR;

/* True if path exists (any type, links not followed). */
bool cer_path_exists(const char *path);

/* SHA-256 of a file's contents as 64 lowercase hex digits plus NUL. */
int cer_file_sha256_hex(const char *path, char hex[static 65]) CER_WUR;

/*
 * Sets a new file's mode; false only on a real failure.  File systems
 * without modes (FAT: EPERM from the kernel's driver, ENOSYS from FUSE
 * ones) keep what their mount options give.
 */
bool cer_fd_set_mode(int fd, mode_t mode);

/*
 * Gives the finished temporary file tmp its final name path, never replacing
 * a file: link() where the file system has hard links (then tmp is removed),
 * else a rename that does not replace (FAT media have no links).  Returns 0
 * or an errno value (EEXIST when path exists); tmp is gone on success.
 */
int cer_file_place(const char *tmp, const char *path);

#endif
