/*
 * ceremony/airgap: the interfaces reported up match what the kernel says in
 * /sys/class/net/NAME/flags, loopback is never listed, names are unique and
 * addresses parse; the binary's SHA-256 matches an independent digest of
 * the same file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <openssl/evp.h>

#include "ceremony/airgap.h"

static bool listed(const struct cer_airgap *a, const char *name)
{
	unsigned i;

	for (i = 0; i < a->nifs; i++)
		if (strcmp(a->ifs[i].name, name) == 0)
			return true;
	return false;
}

static unsigned long sys_flags(const char *name)
{
	char path[512], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof path, "/sys/class/net/%s/flags", name);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static void test_interfaces_match_sysfs(void **state)
{
	struct cer_airgap a;
	struct dirent *e;
	unsigned i, j, up = 0;
	DIR *d;

	(void)state;
	assert_int_equal(cer_airgap_check(&a), CER_OK);
	d = opendir("/sys/class/net");
	if (d == NULL)
		skip();
	while ((e = readdir(d)) != NULL) {
		unsigned long fl;

		if (e->d_name[0] == '.')
			continue;
		fl = sys_flags(e->d_name);
		if ((fl & IFF_UP) && !(fl & IFF_LOOPBACK)) {
			up++;
			if (!listed(&a, e->d_name))
				fail_msg("interface %s is up but not reported", e->d_name);
		} else if (listed(&a, e->d_name)) {
			fail_msg("interface %s is reported but down or loopback", e->d_name);
		}
	}
	closedir(d);
	assert_int_equal(a.nifs, up);
	for (i = 0; i < a.nifs; i++) {
		for (j = i + 1; j < a.nifs; j++)
			assert_string_not_equal(a.ifs[i].name, a.ifs[j].name);
		for (j = 0; j < a.ifs[i].naddrs; j++) {
			uint8_t bin[16];
			const char *s = a.ifs[i].addrs[j];

			assert_true(inet_pton(AF_INET, s, bin) == 1 ||
			            inet_pton(AF_INET6, s, bin) == 1);
		}
	}
	assert_false(listed(&a, "lo"));
	assert_int_equal(cer_airgap_isolated(&a), a.nifs == 0 && a.nwireless == 0);
}

static void test_self_sha256(void **state)
{
	char hex[65], want[65];
	uint8_t md[32], buf[65536];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen("/proc/self/exe", "rb");
	size_t n;
	unsigned i;

	(void)state;
	assert_non_null(ctx);
	assert_non_null(f);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		assert_int_equal(EVP_DigestUpdate(ctx, buf, n), 1);
	fclose(f);
	assert_int_equal(EVP_DigestFinal_ex(ctx, md, NULL), 1);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(cer_self_sha256_hex(hex), CER_OK);
	assert_string_equal(hex, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_interfaces_match_sysfs),
	        cmocka_unit_test(test_self_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
