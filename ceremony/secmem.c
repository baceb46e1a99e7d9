#include "ceremony/cer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/*
 * Every block OpenSSL allocates through us starts with a 16-byte header (16
 * keeps malloc's alignment): its size, where it came from, and a check word.
 *
 * Once cer_secmem_heap_init has run, blocks come from locked memory that is
 * left out of core dumps: OpenSSL's secure heap for ordinary sizes, a
 * libsodium guarded mapping for large ones (scrypt's arrays) or when the
 * share of the secure heap kept for this is used up.  OpenSSL makes copies
 * of private-key numbers in blocks it takes from the ordinary allocator: the
 * Montgomery contexts an RSA key caches for p and q at its first private
 * operation, the BN_CTX temporaries of prime generation, the DER of a key it
 * encodes.  Taking every block from locked, undumped memory keeps those
 * copies where the secrets rules want them without chasing each one.
 * Before that (OpenSSL's own start-up), and in builds under a sanitizer or
 * valgrind, which must see the blocks to check them, blocks come from
 * malloc.  Every block is wiped when freed, wherever it came from.
 */
/*
 * tests/t_coredump.sh builds a second binary with CER_TEST_UNWIPED, whose
 * OpenSSL blocks are neither wiped nor kept out of the ordinary heap, to show
 * that its scan finds the copies this file exists to remove.  Never in the
 * tool itself.
 */
#ifdef CER_TEST_UNWIPED
#define UNWIPED 1
#else
#define UNWIPED 0
#endif

#define HDR 16
#define BLK_HEAP 0x68656170u   /* "heap" */
#define BLK_SECURE 0x73656375u /* "secu" */
#define BLK_SODIUM 0x736f6469u /* "sodi" */

static enum cer_memlock lock_state = CER_MEMLOCK_UNLOCKED;
static bool unlocked_accepted;
static char lock_problem[256] = "cer_init has not run";

struct blk {
	size_t n;
	uint32_t kind;
	uint32_t check;
};

_Static_assert(sizeof(struct blk) <= HDR, "block header too large");

/* OpenSSL's secure heap: its size, its buddy allocator's smallest block. */
#define SECURE_HEAP ((size_t)16 << 20)
#define SECURE_MIN 32
/* Blocks above this go to a guarded mapping of their own. */
#define SECURE_BLOCK_MAX ((size_t)64 << 10)
/* What the routed blocks may take of the heap; the rest is OpenSSL's own. */
#define SECURE_ROUTED_MAX (SECURE_HEAP / 4 * 3)

static atomic_bool route;
static atomic_size_t routed;
static atomic_ulong sodium_blocks;

static uint32_t check_of(const struct blk *b, const void *q)
{
	uint64_t v = (uint64_t)b->n ^ ((uint64_t)b->kind << 32) ^ (uint64_t)(uintptr_t)q;

	v ^= v >> 29;
	v *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(v >> 32);
}

/* The size the secure heap's buddy allocator really takes for n bytes. */
static size_t buddy_size(size_t n)
{
	size_t s = SECURE_MIN;

	while (s < n)
		s <<= 1;
	return s;
}

static void *take(size_t total, uint32_t *kind)
{
	void *p = NULL;

	if (atomic_load(&route)) {
		if (total <= SECURE_BLOCK_MAX) {
			size_t b = buddy_size(total);

			if (atomic_fetch_add(&routed, b) + b <= SECURE_ROUTED_MAX) {
				/* No file/line: a failure must not raise an OpenSSL error
				 * (whose state this allocator may be allocating). */
				p = CRYPTO_secure_malloc(total, NULL, 0);
				if (p != NULL) {
					*kind = BLK_SECURE;
					return p;
				}
			}
			atomic_fetch_sub(&routed, b);
		}
		/* Rounded up to 16 so that the block after our header is aligned. */
		p = sodium_malloc((total + 15) & ~(size_t)15);
		if (p != NULL) {
			atomic_fetch_add(&sodium_blocks, 1);
			*kind = BLK_SODIUM;
		}
		return p; /* never the ordinary heap once routing is on */
	}
	p = malloc(total);
	*kind = BLK_HEAP;
	return p;
}

static void *wipe_malloc(size_t n, const char *file, int line)
{
	unsigned char *p;
	struct blk b;

	(void)file;
	(void)line;
	if (n > SIZE_MAX - HDR - 16)
		return NULL;
	p = take(n + HDR, &b.kind);
	if (p == NULL)
		return NULL;
	b.n = n;
	b.check = check_of(&b, p + HDR);
	memcpy(p, &b, sizeof b);
	return p + HDR;
}

static struct blk header_of(const void *q)
{
	struct blk b;

	memcpy(&b, (const unsigned char *)q - HDR, sizeof b);
	if (b.check != check_of(&b, q) ||
	    (b.kind != BLK_HEAP && b.kind != BLK_SECURE && b.kind != BLK_SODIUM))
		abort(); /* not our block, or overwritten: nothing safe to free */
	return b;
}

static void wipe_free(void *q, const char *file, int line)
{
	unsigned char *p;
	struct blk b;

	(void)file;
	(void)line;
	if (q == NULL)
		return;
	b = header_of(q);
	p = (unsigned char *)q - HDR;
	if (!UNWIPED)
		sodium_memzero(p, b.n + HDR);
	switch (b.kind) {
	case BLK_SECURE:
		CRYPTO_secure_free(p, NULL, 0);
		atomic_fetch_sub(&routed, buddy_size(b.n + HDR));
		break;
	case BLK_SODIUM:
		sodium_free(p);
		atomic_fetch_sub(&sodium_blocks, 1);
		break;
	default: free(p);
	}
}

/* Never realloc in place: the old block is wiped, whatever its new size. */
static void *wipe_realloc(void *q, size_t n, const char *file, int line)
{
	unsigned char *r;
	size_t old;

	if (q == NULL)
		return wipe_malloc(n, file, line);
	if (n == 0) {
		wipe_free(q, file, line);
		return NULL;
	}
	old = header_of(q).n;
	r = wipe_malloc(n, file, line);
	if (r == NULL)
		return NULL;
	memcpy(r, q, old < n ? old : n);
	wipe_free(q, file, line);
	return r;
}

int cer_secmem_install_allocator(void)
{
	static bool installed;

	if (installed)
		return CER_OK;
	if (CRYPTO_set_mem_functions(wipe_malloc, wipe_realloc, wipe_free) == 0)
		return cer_fail(CER_EINTERNAL, "OpenSSL allocated memory before start-up "
		                               "(cannot make it wipe its blocks)");
	installed = true;
	return CER_OK;
}

/* valgrind's tools preload a library of their own into the program. */
static bool under_valgrind(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, "/vgpreload_") != NULL;
	fclose(f);
	return found;
}

int cer_secmem_heap_init(void)
{
	CRYPTO_malloc_fn m;

	if (CRYPTO_secure_malloc_initialized() == 0 &&
	    CRYPTO_secure_malloc_init(SECURE_HEAP, SECURE_MIN) == 0)
		return cer_fail(CER_EINTERNAL, "cannot set up OpenSSL's secure heap");
	CRYPTO_get_mem_functions(&m, NULL, NULL);
	if (m == wipe_malloc && !SANITIZED && !UNWIPED && !under_valgrind())
		atomic_store(&route, true);
	return CER_OK;
}

bool cer_secmem_routed(void)
{
	return atomic_load(&route);
}

size_t cer_secmem_routed_bytes(void)
{
	return atomic_load(&routed);
}

unsigned long cer_secmem_sodium_blocks(void)
{
	return atomic_load(&sodium_blocks);
}

static bool has_ipc_lock(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return found && (eff & (1ull << 14)) != 0; /* CAP_IPC_LOCK */
}

static void mib(char *buf, size_t n, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%llu KiB", (unsigned long long)(v / 1024));
}

void cer_secmem_lock_process(void)
{
	static bool tried;
	struct rlimit rl;
	char have[32];

	if (tried)
		return;
	tried = true;
	if (SANITIZED) {
		/* ASan's shadow (terabytes reserved) cannot be locked: a test build. */
		lock_state = CER_MEMLOCK_EXEMPT;
		lock_problem[0] = '\0';
		return;
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		rl.rlim_cur = 0;
	/*
	 * Under a small limit, mlockall(MCL_FUTURE) can succeed and make every
	 * later allocation past the limit fail: lock only with room to work.
	 */
	if (!has_ipc_lock() && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)CER_MEMLOCK_NEED) {
		mib(have, sizeof have, rl.rlim_cur);
		snprintf(lock_problem, sizeof lock_problem,
		         "memory cannot be locked: the locked-memory limit (ulimit -l) is %s, "
		         "the tool needs %zu KiB or CAP_IPC_LOCK",
		         have, CER_MEMLOCK_NEED / 1024);
		return;
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		snprintf(lock_problem, sizeof lock_problem, "memory cannot be locked: mlockall: %s",
		         strerror(errno));
		return;
	}
	lock_state = CER_MEMLOCK_LOCKED;
	lock_problem[0] = '\0';
}

enum cer_memlock cer_memlock_state(void)
{
	return lock_state;
}

const char *cer_memlock_problem(void)
{
	return lock_problem;
}

void cer_memlock_accept_unlocked(void)
{
	unlocked_accepted = true;
}

int cer_secrets_permitted(void)
{
	if (lock_state != CER_MEMLOCK_UNLOCKED || unlocked_accepted)
		return CER_OK;
	return cer_fail_reason(CER_ENOLOCK, CER_REASON_UNLOCKED,
	                       "%s; secrets could reach swap, so none is handled", lock_problem);
}
