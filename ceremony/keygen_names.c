#include "ceremony/keygen_int.h"

#include <sodium.h>
#include <string.h>

void cer_keygen_params_init(struct cer_keygen_params *p)
{
	memset(p, 0, sizeof *p);
	p->bits = CER_KEYGEN_DEFAULT_BITS;
	p->days = CER_KEYGEN_DEFAULT_DAYS;
}

int cer_keygen_check_counts(unsigned count, unsigned quorum)
{
	if (count < CER_KEYGEN_MIN_KEYS || count > CER_KEYGEN_MAX_KEYS)
		return cer_fail(CER_EUSAGE,
		                "number of keys %u is out of range (the service takes %d to %d)",
		                count, CER_KEYGEN_MIN_KEYS, CER_KEYGEN_MAX_KEYS);
	if (quorum < CER_KEYGEN_MIN_QUORUM || quorum > count)
		return cer_fail(CER_EUSAGE,
		                "quorum %u is out of range (must be %d to %u for %u keys)", quorum,
		                CER_KEYGEN_MIN_QUORUM, count, count);
	return CER_OK;
}

/* Length in code points if s is valid UTF-8 without control characters, else -1. */
static long utf8_chars(const char *s, bool allow_ctrl)
{
	const unsigned char *u = (const unsigned char *)s;
	long n = 0;

	while (*u != '\0') {
		unsigned c = *u, more, i;

		if (c < 0x80) {
			if (!allow_ctrl && (c < 0x20 || c == 0x7f))
				return -1;
			more = 0;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
		} else {
			return -1;
		}
		for (i = 1; i <= more; i++)
			if ((u[i] & 0xc0) != 0x80)
				return -1;
		u += more + 1;
		n++;
	}
	return n;
}

int cer_keygen_check_name(unsigned index, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return CER_OK;
	if (strlen(name) > CER_NAME_MAX)
		return cer_fail(CER_EUSAGE, "custodian %u: name is longer than %d bytes", index + 1,
		                CER_NAME_MAX);
	if (utf8_chars(name, false) < 0)
		return cer_fail(CER_EUSAGE, "custodian %u: name is not printable UTF-8 text",
		                index + 1);
	if (name[0] == ' ' || name[strlen(name) - 1] == ' ')
		return cer_fail(CER_EUSAGE, "custodian %u: name starts or ends with a space",
		                index + 1);
	return CER_OK;
}

int cer_keygen_split_names(const char *list, char names[][CER_NAME_MAX + 1], unsigned max,
                           unsigned *n)
{
	const char *p = list, *end;
	size_t len;

	*n = 0;
	if (strspn(list, " \t,") == strlen(list))
		return CER_OK;
	while (*p != '\0') {
		p += strspn(p, ",");
		if (*p == '\0')
			break;
		end = p + strcspn(p, ",");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*n == max)
			return cer_fail(CER_EUSAGE, "more than %u names", max);
		if (len > CER_NAME_MAX)
			return cer_fail(CER_EUSAGE, "custodian %u: name is longer than %d bytes",
			                *n + 1, CER_NAME_MAX);
		memcpy(names[*n], p, len);
		names[(*n)++][len] = '\0';
		p = end;
	}
	return CER_OK;
}

bool cer_passphrase_equal(const char *a, const char *b)
{
	size_t len = strlen(a);

	return len == strlen(b) && sodium_memcmp(a, b, len) == 0;
}

int cer_passphrase_check(unsigned index, const char *pass, const char *const *others,
                         size_t n_others)
{
	size_t len, i;
	long chars;

	if (pass == NULL)
		return cer_fail(CER_EUSAGE, "custodian %u: no passphrase", index + 1);
	len = strlen(pass);
	if (len > CER_PASSPHRASE_MAX)
		return cer_fail(CER_EUSAGE, "custodian %u: passphrase is longer than %d bytes",
		                index + 1, CER_PASSPHRASE_MAX);
	chars = utf8_chars(pass, true);
	if (chars < 0)
		chars = (long)len;
	if (chars < CER_PASSPHRASE_MIN)
		return cer_fail(CER_EUSAGE,
		                "custodian %u: passphrase is shorter than %d characters", index + 1,
		                CER_PASSPHRASE_MIN);
	for (i = 0; i < n_others; i++) {
		if (others[i] != NULL && cer_passphrase_equal(pass, others[i]))
			return cer_fail(
			        CER_EUSAGE,
			        "custodian %u: passphrase is the same as another custodian's; "
			        "each custodian needs their own",
			        index + 1);
	}
	return CER_OK;
}
