#include "ceremony/cer.h"

#include <errno.h>
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

/* The block's size sits in a header before it; 16 keeps malloc's alignment. */
#define HDR 16

static enum cer_memlock lock_state = CER_MEMLOCK_UNLOCKED;
static bool unlocked_accepted;
static char lock_problem[256] = "cer_init has not run";

static void *wipe_malloc(size_t n, const char *file, int line)
{
	unsigned char *p;

	(void)file;
	(void)line;
	if (n > SIZE_MAX - HDR)
		return NULL;
	p = malloc(n + HDR);
	if (p == NULL)
		return NULL;
	memcpy(p, &n, sizeof n);
	return p + HDR;
}

static size_t block_size(const void *q)
{
	size_t n;

	memcpy(&n, (const unsigned char *)q - HDR, sizeof n);
	return n;
}

static void wipe_free(void *q, const char *file, int line)
{
	unsigned char *p;

	(void)file;
	(void)line;
	if (q == NULL)
		return;
	p = (unsigned char *)q - HDR;
	sodium_memzero(p, block_size(q) + HDR);
	free(p);
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
	r = wipe_malloc(n, file, line);
	if (r == NULL)
		return NULL;
	old = block_size(q);
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
	return cer_fail(CER_ENOLOCK, "%s; secrets could reach swap, so none is handled "
	                             "(accept the risk with --allow-unlocked-memory)",
	                lock_problem);
}
