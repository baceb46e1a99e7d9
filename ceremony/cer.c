#include "ceremony/cer.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static _Thread_local char errbuf[1024];
static _Thread_local enum cer_reason errreason;

void cer_text_sanitize(char *s)
{
	unsigned char *u = (unsigned char *)s;

	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f) {
			*u = '?';
		} else if (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			u[0] = '?';
			u[1] = '?';
			u++;
		}
	}
}

int cer_vfail(int status, const char *fmt, va_list ap)
{
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	cer_text_sanitize(errbuf);
	errreason = CER_REASON_NONE;
	return status;
}

int cer_fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cer_vfail(status, fmt, ap);
	va_end(ap);
	return status;
}

int cer_fail_context(int status, const char *prefix)
{
	char old[sizeof errbuf];

	memcpy(old, errbuf, sizeof old);
	if (old[0] != '\0')
		snprintf(errbuf, sizeof errbuf, "%.200s: %.800s", prefix, old);
	else
		snprintf(errbuf, sizeof errbuf, "%s", prefix);
	cer_text_sanitize(errbuf);
	return status;
}

const char *cer_errmsg(void)
{
	return errbuf;
}

void cer_clear_error(void)
{
	errbuf[0] = '\0';
	errreason = CER_REASON_NONE;
}

enum cer_reason cer_errreason(void)
{
	return errreason;
}

int cer_fail_reason(int status, enum cer_reason reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cer_vfail(status, fmt, ap);
	va_end(ap);
	errreason = reason;
	return status;
}

int cer_fail_exists(const char *path)
{
	return cer_fail_reason(CER_EIO, CER_REASON_EXISTS, "%s: already exists", path);
}

const char *cer_status_name(int status)
{
	switch (status) {
	case CER_OK: return "ok";
	case CER_EINTERNAL: return "internal";
	case CER_EUSAGE: return "usage";
	case CER_EINPUT: return "input";
	case CER_EAUTH: return "auth";
	case CER_EIO: return "io";
	case CER_EQUORUM: return "quorum";
	case CER_ENOLOCK: return "unlocked";
	default: return "unknown";
	}
}

int cer_init(void)
{
	struct rlimit nocore = { 0, 0 };

	if (cer_secmem_install_allocator() != CER_OK)
		return CER_EINTERNAL;
	cer_secmem_lock_process();
	if (setrlimit(RLIMIT_CORE, &nocore) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return cer_fail(CER_EINTERNAL, "cannot disable core dumps");
	if (sodium_init() < 0)
		return cer_fail(CER_EINTERNAL, "cannot initialise libsodium");
	/* OpenSSL's secure heap, from which its allocations come from now on. */
	return cer_secmem_heap_init();
}

void cer_progress_step(const struct cer_progress *p, const char *what, unsigned done,
                       unsigned total)
{
	if (p != NULL && p->step != NULL)
		p->step(p->ctx, what, done, total);
}

void cer_progress_note(const struct cer_progress *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (p == NULL || p->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cer_text_sanitize(line);
	p->note(p->ctx, line);
}

void *cer_secret_alloc(size_t len)
{
	void *p;

	if (cer_secrets_permitted() != CER_OK)
		return NULL;
	p = sodium_malloc(len == 0 ? 1 : len);
	if (p == NULL) {
		cer_fail(CER_EINTERNAL, "out of locked memory (%zu bytes)", len);
		return NULL;
	}
	sodium_memzero(p, len == 0 ? 1 : len);
	return p;
}

void cer_secret_free(void *p)
{
	sodium_free(p); /* wipes before freeing; NULL is a no-op */
}

char *cer_secret_strdup(const char *s)
{
	size_t n = strlen(s);
	char *p = cer_secret_alloc(n + 1);

	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}
