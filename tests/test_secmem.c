/* OpenSSL's allocator after cer_init: ours (wiping), aligned, realloc keeps
 * the data; its blocks come from the secure heap or, large, from guarded
 * mappings, never the ordinary heap (except under a sanitizer or valgrind);
 * the process is locked in memory (or exempt under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "ceremony/cer.h"

static void test_allocator_is_ours(void **state)
{
	CRYPTO_malloc_fn m;
	CRYPTO_realloc_fn r;
	CRYPTO_free_fn f;

	(void)state;
	CRYPTO_get_mem_functions(&m, &r, &f);
	assert_ptr_not_equal(m, CRYPTO_malloc);
	assert_ptr_not_equal(f, CRYPTO_free);
	assert_int_equal(cer_secmem_install_allocator(), CER_OK); /* idempotent */
}

static void test_alignment_and_realloc(void **state)
{
	size_t sizes[] = {1, 7, 16, 33, 4096, 100000};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = OPENSSL_malloc(sizes[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xa5, sizes[i]);
		p = OPENSSL_realloc(p, sizes[i] * 3);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (j = 0; j < sizes[i]; j++)
			assert_int_equal(p[j], 0xa5);
		p = OPENSSL_realloc(p, 1);
		assert_non_null(p);
		assert_int_equal(p[0], 0xa5);
		OPENSSL_free(p);
	}
	assert_null(OPENSSL_realloc(OPENSSL_malloc(8), 0));
	OPENSSL_free(NULL);
}

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

/* Small blocks in the secure heap, large ones in guarded mappings. */
static void test_routed(void **state)
{
	unsigned long maps = cer_secmem_sodium_blocks();
	size_t used = cer_secmem_routed_bytes();
	unsigned char *small, *large;
	size_t i;

	(void)state;
	if (SANITIZED) {
		assert_false(cer_secmem_routed());
		skip();
	}
	if (!cer_secmem_routed())
		skip(); /* under valgrind, which must see the blocks */
	small = OPENSSL_malloc(200);
	assert_non_null(small);
	assert_int_equal(CRYPTO_secure_allocated(small), 1);
	assert_true(cer_secmem_routed_bytes() > used);
	memset(small, 0x5a, 200);
	large = OPENSSL_realloc(small, (size_t)1 << 20); /* secure heap -> mapping */
	assert_non_null(large);
	assert_int_equal(CRYPTO_secure_allocated(large), 0);
	assert_int_equal(cer_secmem_sodium_blocks(), maps + 1);
	assert_int_equal(cer_secmem_routed_bytes(), used);
	for (i = 0; i < 200; i++)
		assert_int_equal(large[i], 0x5a);
	small = OPENSSL_realloc(large, 50); /* and back */
	assert_non_null(small);
	assert_int_equal(CRYPTO_secure_allocated(small), 1);
	assert_int_equal(cer_secmem_sodium_blocks(), maps);
	for (i = 0; i < 50; i++)
		assert_int_equal(small[i], 0x5a);
	OPENSSL_free(small);
	assert_int_equal(cer_secmem_routed_bytes(), used);
}

/* More than the secure heap's share: the rest goes to guarded mappings. */
static void test_routed_overflow(void **state)
{
	enum { N = 800 };
	static void *blocks[N];
	unsigned long maps = cer_secmem_sodium_blocks();
	size_t used = cer_secmem_routed_bytes();
	int i, secure = 0;

	(void)state;
	if (!cer_secmem_routed())
		skip();
	for (i = 0; i < N; i++) { /* 800 x 32 KiB: 25 MiB, more than the heap */
		blocks[i] = OPENSSL_malloc(32 << 10);
		assert_non_null(blocks[i]);
		memset(blocks[i], i & 0xff, 32 << 10);
		secure += CRYPTO_secure_allocated(blocks[i]);
	}
	assert_true(secure > 0);
	assert_true(secure < N);
	assert_int_equal(cer_secmem_sodium_blocks(), maps + (unsigned long)(N - secure));
	/* OpenSSL's own secure allocations still have room. */
	{
		void *own = OPENSSL_secure_malloc(64 << 10);

		assert_non_null(own);
		OPENSSL_secure_free(own);
	}
	for (i = 0; i < N; i++)
		OPENSSL_free(blocks[i]);
	assert_int_equal(cer_secmem_sodium_blocks(), maps);
	assert_int_equal(cer_secmem_routed_bytes(), used);
}

static void test_locked(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	assert_int_equal(cer_memlock_state(), CER_MEMLOCK_EXEMPT);
#else
	if (cer_memlock_state() != CER_MEMLOCK_LOCKED)
		skip(); /* not root: t_memlock.sh covers the refusal */
	assert_string_equal(cer_memlock_problem(), "");
#endif
	assert_int_equal(cer_secrets_permitted(), CER_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_allocator_is_ours),
	        cmocka_unit_test(test_alignment_and_realloc),
	        cmocka_unit_test(test_routed),
	        cmocka_unit_test(test_routed_overflow),
	        cmocka_unit_test(test_locked),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
