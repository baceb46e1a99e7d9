#ifndef CER_H
#define CER_H

/*
 * Common ground of ceremony/: status codes, the error message, start-up
 * hardening and progress callbacks.
 *
 * Every ceremony/ function that can fail returns an enum cer_status (0 on
 * success) and leaves a one-line, human-readable message naming what failed
 * and where (file, key, item tag, part number) in a thread-local buffer read
 * with cer_errmsg().  ceremony/ never prints; front ends show that message.
 * The status values double as the process exit status of the batch commands.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CER_WUR __attribute__((warn_unused_result))
#define CER_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CER_WUR
#define CER_PRINTF(f, a)
#endif

enum cer_status {
	CER_OK = 0,
	CER_EINTERNAL = 1, /* out of memory, a library failed unexpectedly */
	CER_EUSAGE = 2,    /* bad command line or parameters */
	CER_EINPUT = 3,    /* an input file is malformed, unsupported or too large */
	CER_EAUTH = 4,     /* wrong passphrase, tampered data, no matching share,
	                      inconsistent shares: the answer is no */
	CER_EIO = 5,       /* cannot read or write a file; output exists */
	CER_EQUORUM = 6,   /* every share given is good, but fewer than required */
	CER_ENOLOCK = 7,   /* memory cannot be locked and the operator did not accept
	                      that: no secret is handled */
};

/* Upper bound on any input file read by ceremony/ (refused before parsing). */
#define CER_MAX_INPUT ((size_t)16 << 20)

/*
 * Sets the calling thread's error message and returns status.  Messages
 * quote names read from input files (item tags, JWE headers, paths), so
 * control characters in the result (C0, DEL and UTF-8 encoded C1) are
 * replaced by '?': a message is always one line and cannot drive the
 * terminal it is printed on.
 */
int cer_fail(int status, const char *fmt, ...) CER_PRINTF(2, 3);
int cer_vfail(int status, const char *fmt, va_list ap) CER_PRINTF(2, 0);
/* Prepends "prefix: " to the current message; returns status. */
int cer_fail_context(int status, const char *prefix);
/* The last message set by this thread ("" if none). */
const char *cer_errmsg(void);
void cer_clear_error(void);

/*
 * Why the last failure happened, for a face to word in its own terms (a
 * command-line flag, a dialog) where ceremony/ must not name either.  Set
 * with the message: cer_fail and cer_vfail set CER_REASON_NONE,
 * cer_fail_context keeps the reason, cer_clear_error clears it.
 */
enum cer_reason {
	CER_REASON_NONE = 0,
	CER_REASON_EXISTS,     /* an output exists and was not replaced; the caller may ask to */
	CER_REASON_STALE_TEMP, /* a killed run's temporary lies beside an output
	                        * (cer_stale_temps_remove takes it away) */
	CER_REASON_NEEDS_OUT,  /* the input cannot be rewritten in place; the caller
	                        * may name another output file */
	CER_REASON_UNLOCKED,   /* memory cannot be locked; the operator may accept that */
	CER_REASON_PIN_IN_URI, /* a PKCS#11 URI carried a PIN; the PIN is asked for instead */
	CER_REASON_NO_CERT,    /* a token key's certificate is not on the token; a
	                        * certificates directory may hold it */
	CER_REASON_TRANSCRIPT, /* a record could not be written to the transcript
	                        * (the operation itself may have succeeded) */
};
enum cer_reason cer_errreason(void);
/* As cer_fail, with a reason (e.g. to restore a saved message and its reason). */
int cer_fail_reason(int status, enum cer_reason reason, const char *fmt, ...) CER_PRINTF(3, 4);
/* CER_EIO, "PATH: already exists", reason CER_REASON_EXISTS. */
int cer_fail_exists(const char *path);

/*
 * Replaces, in place, each control character of s (bytes 0x01-0x1f, 0x7f,
 * and the UTF-8 encodings 0xc2 0x80-0x9f of C1 controls) by '?'.  For text
 * that quotes untrusted input and is shown on a terminal or written as one
 * line; cer_fail, cer_fail_context and cer_progress_note apply it already.
 */
void cer_text_sanitize(char *s);

/* A one-word name for a status ("ok", "usage", "input", "auth", ...). */
const char *cer_status_name(int status);

/*
 * Call once at start, before any other OpenSSL call and before any secret
 * exists: routes OpenSSL's allocator through functions that wipe every block
 * on free and realloc, locks the whole process in memory (RLIMIT_MEMLOCK
 * raised to its hard limit, mlockall(MCL_CURRENT | MCL_FUTURE)), initialises
 * libsodium, switches on OpenSSL's secure heap, and turns core dumps off
 * (RLIMIT_CORE 0, PR_SET_DUMPABLE 0).  Returns CER_EINTERNAL on failure.
 * Memory that cannot be locked is no failure here: see cer_memlock_state.
 */
int cer_init(void) CER_WUR;

/*
 * Locked memory.  The process is locked only when mlockall succeeds with a
 * limit of at least CER_MEMLOCK_NEED bytes (or CAP_IPC_LOCK): below that,
 * MCL_FUTURE would make later allocations fail, so the tool does not try.
 * Builds with AddressSanitizer are exempt (its shadow cannot be locked).
 */
#define CER_MEMLOCK_NEED ((size_t)512 << 20)
enum cer_memlock { CER_MEMLOCK_UNLOCKED, CER_MEMLOCK_LOCKED, CER_MEMLOCK_EXEMPT };
enum cer_memlock cer_memlock_state(void);
/* Why the process is not locked, one line without "sdceremony:" ("" if it is). */
const char *cer_memlock_problem(void);
/* The operator accepts unlocked memory (--allow-unlocked-memory, the wizard). */
void cer_memlock_accept_unlocked(void);
/*
 * CER_OK when secrets may be handled: memory locked, exempt, or unlocked
 * memory accepted; else CER_ENOLOCK with the reason.  cer_secret_alloc
 * checks it, so no secret buffer exists in a refused process.
 */
int cer_secrets_permitted(void) CER_WUR;
/* Parts of cer_init, exported for it and for tests. */
int cer_secmem_install_allocator(void) CER_WUR;
void cer_secmem_lock_process(void);
/*
 * Switches on OpenSSL's secure heap and, from then on, takes every block
 * OpenSSL allocates from locked memory left out of core dumps (the secure
 * heap; a libsodium guarded mapping for large blocks), so that the copies of
 * key numbers OpenSSL makes in its own blocks (cached Montgomery contexts,
 * prime-search temporaries, encoders' buffers) never sit in the ordinary
 * heap.  Not under a sanitizer or valgrind, which must see the blocks.
 */
int cer_secmem_heap_init(void) CER_WUR;
/* Whether OpenSSL's blocks come from locked memory (cer_secmem_heap_init). */
bool cer_secmem_routed(void);
/* Bytes of the secure heap routed blocks take now; guarded mappings now. */
size_t cer_secmem_routed_bytes(void);
unsigned long cer_secmem_sodium_blocks(void);

/*
 * Progress and notes, implemented by each front end; any member may be NULL.
 * step: `done` of `total` units of work named `what` are finished.
 * note: a non-secret line worth telling the user (a warning, a result).
 */
struct cer_progress {
	void (*step)(void *ctx, const char *what, unsigned done, unsigned total);
	void (*note)(void *ctx, const char *line);
	void *ctx;
};
void cer_progress_step(const struct cer_progress *p, const char *what, unsigned done,
                       unsigned total);
void cer_progress_note(const struct cer_progress *p, const char *fmt, ...) CER_PRINTF(2, 3);

/*
 * Secret buffers: libsodium guarded, locked memory.  cer_secret_alloc
 * returns zeroed memory or NULL (message set); cer_secret_free wipes and
 * frees, and accepts NULL.
 */
void *cer_secret_alloc(size_t len) CER_WUR;
void cer_secret_free(void *p);
/* A NUL-terminated copy of s in secret memory, or NULL. */
char *cer_secret_strdup(const char *s) CER_WUR;

/* A numeric constant as a string literal: CER_XSTR(CER_KEYGEN_MAX_KEYS) is "10". */
#define CER_STR(x) #x
#define CER_XSTR(x) CER_STR(x)

#endif
