/* OpenSSL's allocator after cer_init: ours (wiping), aligned, realloc keeps
 * the data; the process is locked in memory (or exempt under ASan). */
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
	size_t sizes[] = { 1, 7, 16, 33, 4096, 100000 };
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
		cmocka_unit_test(test_locked),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
