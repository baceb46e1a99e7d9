#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <png.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ceremony/cer.h"
#include "ceremony/io.h"
#include "ceremony/qr.h"
#include "ceremony/report.h"

static uint8_t *random_bytes(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len + 1);
	uint8_t s[randombytes_SEEDBYTES] = {0};

	assert_non_null(p);
	memcpy(s, &seed, sizeof seed);
	randombytes_buf_deterministic(p, len, s);
	return p;
}

static void test_base45_rfc9285(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	        {"AB", "BB8"},
	        {"Hello!!", "%69 VD92EX0"},
	        {"base-45", "UJCLQE7W581"},
	        {"ietf!", "QED8WEX0"},
	        {"", ""},
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *e = cer_base45_encode((const uint8_t *)v[i].in, strlen(v[i].in));
		uint8_t *d;

		assert_string_equal(e, v[i].out);
		d = cer_base45_decode(v[i].out, strlen(v[i].out), &n);
		assert_non_null(d);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(d, v[i].in, n);
		free(e);
		free(d);
	}
}

static void test_base45_rejects(void **state)
{
	static const char *bad[] = {
	        "GGW",          /* 65536: one past the largest triple */
	        "GGWA",         /* dangling single character */
	        "A",     "bb8", /* lower case */
	        "BB8:#",        /* '#' is not in the alphabet */
	        "Z6",           /* pair value 35 + 6 * 45 = 305 > 255 */
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(cer_base45_decode(bad[i], strlen(bad[i]), &n));
	/* the largest valid triple */
	{
		uint8_t *d = cer_base45_decode("FGW", 3, &n);

		assert_non_null(d);
		assert_int_equal(n, 2);
		assert_int_equal(d[0], 0xff);
		assert_int_equal(d[1], 0xff);
		free(d);
	}
}

static void test_base45_roundtrip(void **state)
{
	size_t len, n;

	(void)state;
	for (len = 0; len < 300; len++) {
		uint8_t *data = random_bytes(len, (uint32_t)len);
		char *e = cer_base45_encode(data, len);
		uint8_t *d;

		assert_non_null(e);
		assert_int_equal(strlen(e), len / 2 * 3 + (len % 2) * 2);
		d = cer_base45_decode(e, strlen(e), &n);
		assert_non_null(d);
		assert_int_equal(n, len);
		assert_memory_equal(d, data, len);
		free(d);
		free(e);
		free(data);
	}
}

static void upper_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
}

/* Recomputes a part's check value over everything before ":<check>". */
static void refresh_check(char *part)
{
	size_t len = strlen(part);
	uint8_t md[32];
	char hex[9];

	crypto_hash_sha256(md, (const uint8_t *)part, len - 9);
	upper_hex(md, 4, hex);
	memcpy(part + len - 8, hex, 8);
}

/* The first character of a part's data, after "SDC1:N/T:ID:". */
static char *data_start(char *p)
{
	char *c = strchr(p + 5, ':');

	assert_non_null(c);
	c = strchr(c + 1, ':');
	assert_non_null(c);
	return c + 1;
}

static void test_part_format(void **state)
{
	const size_t len = 1000, max = 100;
	uint8_t *data = random_bytes(len, 7);
	struct cer_qr_set set;
	uint8_t md[32];
	char id[17], head[64];
	unsigned i;

	(void)state;
	crypto_hash_sha256(md, data, len);
	upper_hex(md, 8, id);
	assert_int_equal(cer_qr_split(data, len, max, CER_QR_EC_M, &set), CER_OK);
	assert_int_equal(set.count, (36 + len + max - 1) / max);
	assert_string_equal(set.id, id);
	assert_int_equal(set.file_len, len);
	for (i = 0; i < set.count; i++) {
		char *p = set.parts[i], copy[400];
		size_t k, plen = strlen(p), n;
		uint8_t *chunk;
		const char *data_start;

		snprintf(head, sizeof head, "SDC1:%u/%u:%s:", i + 1, set.count, id);
		assert_memory_equal(p, head, strlen(head));
		for (k = 0; k < plen; k++)
			assert_non_null(
			        strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", p[k]));
		assert_true(plen < sizeof copy);
		strcpy(copy, p);
		refresh_check(copy);
		assert_string_equal(copy, p);
		data_start = p + strlen(head);
		chunk = cer_base45_decode(data_start, (size_t)(p + plen - 9 - data_start), &n);
		assert_non_null(chunk);
		if (i == 0) {
			/* the stream starts with the length and the full SHA-256 */
			assert_int_equal(n, max);
			assert_int_equal(chunk[0] << 24 | chunk[1] << 16 | chunk[2] << 8 | chunk[3],
			                 len);
			assert_memory_equal(chunk + 4, md, 32);
			assert_memory_equal(chunk + 36, data, max - 36);
		} else {
			assert_memory_equal(chunk, data + i * max - 36, n);
		}
		free(chunk);
	}
	cer_qr_set_free(&set);
	free(data);
}

static void test_split_limits(void **state)
{
	uint8_t b[4] = {0};
	struct cer_qr_set set;
	enum cer_qr_ec ec;

	(void)state;
	assert_int_equal(cer_qr_split(b, 4, CER_QR_MIN_MAX_BYTES - 1, CER_QR_EC_M, &set),
	                 CER_EUSAGE);
	assert_int_equal(cer_qr_split(b, 4, CER_QR_MAX_MAX_BYTES + 1, CER_QR_EC_M, &set),
	                 CER_EUSAGE);
	assert_int_equal(cer_qr_split(b, CER_QR_MAX_FILE + 1, 600, CER_QR_EC_M, &set), CER_EINPUT);
	assert_int_equal(cer_qr_split(b, 0, 600, CER_QR_EC_M, &set), CER_OK);
	assert_int_equal(set.count, 1);
	cer_qr_set_free(&set);
	{
		static const char pem[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n";

		assert_int_equal(
		        cer_qr_split((const uint8_t *)pem, sizeof pem - 1, 600, CER_QR_EC_M, &set),
		        CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "private key"));
	}
	assert_int_equal(cer_qr_ec_parse("q", &ec), CER_OK);
	assert_int_equal(ec, CER_QR_EC_Q);
	assert_int_equal(cer_qr_ec_parse("X", &ec), CER_EUSAGE);
	assert_int_equal(cer_qr_ec_parse("MM", &ec), CER_EUSAGE);
}

static void shuffle(char **v, unsigned n, uint32_t seed)
{
	unsigned i;

	srand(seed);
	for (i = n; i > 1; i--) {
		unsigned j = (unsigned)rand() % i;
		char *t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

static struct cer_qr_join *join_of(char **parts, unsigned n, int want)
{
	struct cer_qr_join *j;
	unsigned i;
	int ret = CER_OK;

	assert_int_equal(cer_qr_join_new(&j), CER_OK);
	for (i = 0; i < n && ret == CER_OK; i++)
		ret = cer_qr_join_add(j, NULL, parts[i], strlen(parts[i]));
	assert_int_equal(ret, want);
	return j;
}

static void test_join_roundtrip(void **state)
{
	const size_t len = 5000;
	uint8_t *data = random_bytes(len, 11), *out;
	struct cer_qr_set set;
	struct cer_qr_join *j;
	char *lines[200], text[64000] = "", status[100], want[200];
	struct cer_report *rep = NULL;
	unsigned i, n = 0;
	size_t olen;

	(void)state;
	assert_int_equal(cer_qr_split(data, len, 300, CER_QR_EC_M, &set), CER_OK);
	for (i = 0; i < set.count; i++)
		lines[n++] = set.parts[i];
	for (i = 0; i < 5; i++)
		lines[n++] = set.parts[i * 3];
	shuffle(lines, n, 3);
	/* one text with blank lines, CRLF, spaces and scanner prefixes */
	for (i = 0; i < n; i++) {
		strcat(text, i % 3 == 0 ? "QR-Code:" : i % 3 == 1 ? "  " : "\t");
		strcat(text, lines[i]);
		strcat(text, i % 2 ? "\r\n\n" : " \n");
	}
	assert_int_equal(cer_qr_join_new(&j), CER_OK);
	cer_qr_join_status(j, status, sizeof status);
	assert_string_equal(status, "no part yet");
	assert_int_equal(cer_qr_join_add(j, "scan", text, strlen(text)), CER_OK);
	assert_true(cer_qr_join_complete(j));
	assert_int_equal(cer_qr_join_count(j), set.count);
	cer_qr_join_status(j, status, sizeof status);
	assert_non_null(strstr(status, "all"));
	assert_int_equal(cer_qr_join_finish(j, &out, &olen), CER_OK);
	assert_int_equal(olen, len);
	assert_memory_equal(out, data, len);
	/* the report of a join held in memory names what was joined and its SHA-256 */
	assert_int_equal(cer_qr_join_report(j, NULL, "the exchange key", out, olen, &rep), CER_OK);
	snprintf(want, sizeof want,
	         "the exchange key joined from %u QR parts, %zu bytes, SHA-256 %s", set.count, len,
	         set.sha256_hex);
	assert_int_equal(cer_report_line_count(rep), 1);
	assert_string_equal(cer_report_line(rep, 0), want);
	assert_non_null(strstr(cer_report_summary(rep), "qr join: the exchange key joined from"));
	cer_report_free(rep);
	free(out);
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

static void test_join_missing(void **state)
{
	const size_t len = 2000;
	uint8_t *data = random_bytes(len, 12), *out = NULL;
	struct cer_qr_set set;
	struct cer_qr_join *j;
	char *keep[40], status[200];
	unsigned i, n = 0;
	size_t olen;

	(void)state;
	assert_int_equal(cer_qr_split(data, len, 200, CER_QR_EC_M, &set), CER_OK);
	assert_int_equal(set.count, 11);
	for (i = 0; i < set.count; i++)
		if (i != 1 && i != 3 && i != 4 && i != 10)
			keep[n++] = set.parts[i];
	j = join_of(keep, n, CER_OK);
	assert_false(cer_qr_join_complete(j));
	assert_int_equal(cer_qr_join_total(j), 11);
	cer_qr_join_status(j, status, sizeof status);
	assert_string_equal(status, "have 7 of 11 parts; missing 2, 4-5, 11");
	assert_int_equal(cer_qr_join_finish(j, &out, &olen), CER_EINPUT);
	assert_null(out);
	assert_non_null(strstr(cer_errmsg(), "missing parts 2, 4-5, 11 of 11"));
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

static void test_join_corrupted(void **state)
{
	uint8_t *data = random_bytes(3000, 13);
	struct cer_qr_set set;
	struct cer_qr_join *j;
	char *bad;

	(void)state;
	assert_int_equal(cer_qr_split(data, 3000, 400, CER_QR_EC_M, &set), CER_OK);
	j = join_of(set.parts, 2, CER_OK);
	bad = strdup(set.parts[2]);
	bad[60] = bad[60] == 'A' ? 'B' : 'A';
	assert_int_equal(cer_qr_join_add(j, "f.txt", bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "f.txt line 1: part 3/"));
	assert_non_null(strstr(cer_errmsg(), "corrupted"));
	assert_int_equal(cer_qr_join_count(j), 2);
	/* a changed part number is caught by the check value too */
	strcpy(bad, set.parts[2]);
	bad[5] = '4';
	assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "corrupted"));
	/* a lower-case letter is outside the alphanumeric set */
	strcpy(bad, set.parts[2]);
	bad[40] = 'a';
	assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "outside the QR alphanumeric set"));
	/* a truncated part has no check value */
	strcpy(bad, set.parts[2]);
	bad[strlen(bad) - 3] = '\0';
	assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "corrupted"));
	/* invalid Base45 behind a valid check value */
	strcpy(bad, set.parts[2]);
	memcpy(data_start(bad), "GGW", 3);
	refresh_check(bad);
	assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "not valid Base45"));
	/* same part number, different data, valid check: a conflict */
	strcpy(bad, set.parts[1]);
	memcpy(data_start(bad), "000", 3);
	refresh_check(bad);
	assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "part 2/8 appears twice with different data"));
	assert_int_equal(cer_qr_join_count(j), 2);
	assert_int_equal(cer_qr_join_add(j, NULL, "hello world", 11), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "not a QR part"));
	assert_int_equal(cer_qr_join_add(j, NULL, "SDC3:1/1:AB", 11), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "unsupported part format"));
	assert_int_equal(cer_qr_join_add(j, NULL, "x SDC12:1/1:AB", 14), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "unsupported part format 'SDC12'"));
	assert_int_equal(cer_qr_join_add(j, NULL, "SDCARD 1", 8), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "not a QR part"));
	assert_int_equal(cer_qr_join_add(j, NULL, "\n  \r\n", 5), CER_OK);
	/* lenient: lines with no marker are counted, not refused; markers stay strict */
	{
		const char *first;
		static const char junk[] = "0140733477122095\nSDCARD 1\n\nhello\n";

		assert_int_equal(cer_qr_join_skipped(j, &first), 0);
		cer_qr_join_set_lenient(j, true);
		assert_int_equal(cer_qr_join_add(j, "scan", junk, sizeof junk - 1), CER_OK);
		assert_int_equal(cer_qr_join_skipped(j, &first), 3);
		assert_string_equal(first, "scan line 1");
		assert_int_equal(cer_qr_join_add(j, NULL, "SDC3:1/1:AB", 11), CER_EINPUT);
		assert_int_equal(cer_qr_join_add(j, NULL, bad, strlen(bad)), CER_EINPUT);
		assert_int_equal(cer_qr_join_count(j), 2);
	}
	free(bad);
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

/* Every single-character change of a part, anywhere, is caught and named. */
static void test_join_mutations(void **state)
{
	static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	uint8_t *data = random_bytes(500, 21);
	struct cer_qr_set set;
	struct cer_qr_join *j;
	char *bad;
	size_t len, pos;
	unsigned k;

	(void)state;
	assert_int_equal(cer_qr_split(data, 500, 300, CER_QR_EC_M, &set), CER_OK);
	len = strlen(set.parts[1]);
	bad = malloc(len + 1);
	j = join_of(set.parts, 1, CER_OK);
	srand(5);
	for (pos = 0; pos < len; pos++)
		for (k = 0; k < 4; k++) {
			strcpy(bad, set.parts[1]);
			bad[pos] = alnum[(strchr(alnum, bad[pos]) - alnum + 1 + rand() % 44) % 45];
			assert_int_equal(cer_qr_join_add(j, NULL, bad, len), CER_EINPUT);
		}
	assert_int_equal(cer_qr_join_count(j), 1);
	assert_int_equal(cer_qr_join_add(j, NULL, set.parts[1], len), CER_OK);
	assert_true(cer_qr_join_complete(j));
	free(bad);
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

static void test_join_forged_sha(void **state)
{
	uint8_t *data = random_bytes(1000, 14), *out = NULL;
	struct cer_qr_set set;
	struct cer_qr_join *j;
	size_t olen;
	char *p;

	(void)state;
	assert_int_equal(cer_qr_split(data, 1000, 400, CER_QR_EC_M, &set), CER_OK);
	/* consistent check value, but the data no longer matches part 1's SHA-256 */
	p = set.parts[2];
	memcpy(data_start(p), "000", 3);
	refresh_check(p);
	j = join_of(set.parts, set.count, CER_OK);
	assert_true(cer_qr_join_complete(j));
	assert_int_equal(cer_qr_join_finish(j, &out, &olen), CER_EINPUT);
	assert_null(out);
	assert_non_null(strstr(cer_errmsg(), "does not match the SHA-256"));
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

static void test_join_mixed(void **state)
{
	uint8_t *a = random_bytes(2000, 15), *b = random_bytes(2000, 16);
	struct cer_qr_set sa, sb, sc;
	struct cer_qr_join *j;

	(void)state;
	assert_int_equal(cer_qr_split(a, 2000, 300, CER_QR_EC_M, &sa), CER_OK);
	assert_int_equal(cer_qr_split(b, 2000, 300, CER_QR_EC_M, &sb), CER_OK);
	assert_int_equal(cer_qr_split(a, 2000, 400, CER_QR_EC_M, &sc), CER_OK);
	j = join_of(sa.parts, 3, CER_OK);
	assert_int_equal(cer_qr_join_add(j, NULL, sb.parts[4], strlen(sb.parts[4])), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "different file"));
	assert_non_null(strstr(cer_errmsg(), sb.id));
	assert_non_null(strstr(cer_errmsg(), sa.id));
	assert_int_equal(cer_qr_join_add(j, NULL, sc.parts[4], strlen(sc.parts[4])), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "two different splits"));
	assert_int_equal(cer_qr_join_count(j), 3);
	cer_qr_join_free(j);
	cer_qr_set_free(&sa);
	cer_qr_set_free(&sb);
	cer_qr_set_free(&sc);
	free(a);
	free(b);
}

static void test_default_version(void **state)
{
	/* a file needing four-digit part numbers: the longest headers */
	const size_t len = 700 * 1024;
	uint8_t *data = random_bytes(len, 17);
	struct cer_qr_set set;
	struct cer_qr_code code;
	unsigned i;
	int widest = 0;

	(void)state;
	assert_int_equal(cer_qr_split(data, len, CER_QR_DEFAULT_MAX_BYTES, CER_QR_EC_M, &set),
	                 CER_OK);
	assert_true(set.count >= 1000);
	for (i = 998; i < 1002; i++) {
		assert_int_equal(cer_qr_encode(set.parts[i], CER_QR_EC_M, &code), CER_OK);
		if (code.version > widest)
			widest = code.version;
		assert_int_equal(code.width, 17 + 4 * (unsigned)code.version);
		cer_qr_code_free(&code);
	}
	assert_int_equal(widest, 20);
	assert_int_equal(cer_qr_encode("abc", CER_QR_EC_M, &code), CER_EINPUT);
	cer_qr_set_free(&set);
	free(data);
}

/* Parses half-block lines back into modules; *dark[y * side + x]. */
static void halfblock_back(char **lines, unsigned n, unsigned side, bool light_fg, uint8_t *dark)
{
	unsigned l, x;

	for (l = 0; l < n; l++) {
		const char *p = lines[l];

		for (x = 0; x < side; x++) {
			bool top, bottom;

			if (*p == ' ') {
				top = bottom = false;
				p++;
			} else {
				assert_int_equal((uint8_t)p[0], 0xe2);
				assert_int_equal((uint8_t)p[1], 0x96);
				top = (uint8_t)p[2] == 0x80 || (uint8_t)p[2] == 0x88;
				bottom = (uint8_t)p[2] == 0x84 || (uint8_t)p[2] == 0x88;
				assert_true(top || bottom);
				p += 3;
			}
			dark[2 * l * side + x] = top != light_fg;
			if (2 * l + 1 < side)
				dark[(2 * l + 1) * side + x] = bottom != light_fg;
			else
				assert_false(bottom);
		}
		assert_int_equal(*p, '\0');
	}
}

/* A JSON-like text that compresses well, as restore blobs and packages do. */
static uint8_t *json_like(size_t len)
{
	uint8_t *b = random_bytes(len, 11);
	static const char b64[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i % 97 < 12 ? "{\"enc_key\":\""[i % 97] : b64[b[i] & 63]);
	return b;
}

static void test_sdc2_roundtrip(void **state)
{
	const size_t len = 6000;
	uint8_t *data = json_like(len), *out;
	struct cer_qr_set set;
	struct cer_qr_join *j;
	size_t olen;
	unsigned i;

	(void)state;
	assert_int_equal(cer_qr_split(data, len, 400, CER_QR_EC_L, &set), CER_OK);
	assert_true(set.count < (36 + len + 399) / 400);
	for (i = 0; i < set.count; i++)
		assert_memory_equal(set.parts[i], "SDC2:", 5);
	assert_int_equal(cer_qr_join_new(&j), CER_OK);
	for (i = set.count; i-- > 0;)
		assert_int_equal(
		        cer_qr_join_add_line(j, "cam", i + 1, set.parts[i], strlen(set.parts[i])),
		        CER_OK);
	assert_true(cer_qr_join_complete(j));
	assert_int_equal(cer_qr_join_finish(j, &out, &olen), CER_OK);
	assert_int_equal(olen, len);
	assert_memory_equal(out, data, len);
	free(out);
	assert_int_equal(cer_qr_join_add_line(j, "cam", 9, "a\nb", 3), CER_EUSAGE);
	cer_qr_join_free(j);
	cer_qr_set_free(&set);
	free(data);
}

static void test_sdc1_sdc2_mixed(void **state)
{
	uint8_t *text = json_like(3000), *rnd = random_bytes(3000, 5);
	struct cer_qr_set a, b;
	struct cer_qr_join *j;

	(void)state;
	assert_int_equal(cer_qr_split(text, 3000, 300, CER_QR_EC_L, &a), CER_OK);
	assert_int_equal(cer_qr_split(rnd, 3000, 300, CER_QR_EC_L, &b), CER_OK);
	assert_memory_equal(b.parts[0], "SDC1:", 5);
	/* an SDC1 part carrying the SDC2 set's id: a header forged to match */
	{
		char forged[2000];

		snprintf(forged, sizeof forged, "SDC1:%u/%u:%s:%s", 2u, a.count, a.id,
		         strchr(strchr(strchr(a.parts[1] + 5, ':') + 1, ':'), ':') + 1);
		forged[strlen(forged) - 8] = '\0';
		{
			uint8_t md[32];
			static const char hex[] = "0123456789ABCDEF";
			size_t n = strlen(forged) - 1, k;

			crypto_hash_sha256(md, (const uint8_t *)forged, n);
			for (k = 0; k < 4; k++) {
				forged[n + 1 + 2 * k] = hex[md[k] >> 4];
				forged[n + 2 + 2 * k] = hex[md[k] & 15];
			}
			forged[n + 9] = '\0';
		}
		assert_int_equal(cer_qr_join_new(&j), CER_OK);
		assert_int_equal(cer_qr_join_add(j, NULL, a.parts[0], strlen(a.parts[0])), CER_OK);
		assert_int_equal(cer_qr_join_add(j, NULL, forged, strlen(forged)), CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "is SDC1 but the parts before it are SDC2"));
		cer_qr_join_free(j);
	}
	cer_qr_set_free(&a);
	cer_qr_set_free(&b);
	free(text);
	free(rnd);
}

static void test_inflate_hostile(void **state)
{
	const size_t len = 5000;
	uint8_t *data = json_like(len), *z, *out, *zeros, *bomb;
	size_t zlen, blen;

	(void)state;
	assert_int_equal(cer_qr_deflate(data, len, &z, &zlen), CER_OK);
	assert_true(zlen < len);
	assert_int_equal(cer_qr_inflate(z, zlen, len, &out), CER_OK);
	assert_memory_equal(out, data, len);
	free(out);
	/* truncated: every shorter prefix */
	assert_int_equal(cer_qr_inflate(z, zlen / 2, len, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "truncated"));
	assert_null(out);
	assert_int_equal(cer_qr_inflate(z, zlen - 1, len, &out), CER_EINPUT);
	assert_int_equal(cer_qr_inflate(z, 0, len, &out), CER_EINPUT);
	/* corrupted: the zlib header, a byte of the data, the Adler-32 trailer */
	z[0] ^= 0x01;
	assert_int_equal(cer_qr_inflate(z, zlen, len, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "corrupted"));
	z[0] ^= 0x01;
	z[zlen - 1] ^= 0x40;
	assert_int_equal(cer_qr_inflate(z, zlen, len, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "corrupted"));
	z[zlen - 1] ^= 0x40;
	/* declared length wrong either way */
	assert_int_equal(cer_qr_inflate(z, zlen, len + 1, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "part 1 says"));
	assert_int_equal(cer_qr_inflate(z, zlen, len - 1, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "more than"));
	assert_int_equal(cer_qr_inflate(z, zlen, CER_QR_MAX_FILE + 1, &out), CER_EINPUT);
	/* a bomb: 64 MiB of zeros in a few KB, declared as 100 bytes */
	zeros = calloc(64u << 20, 1);
	assert_non_null(zeros);
	blen = compressBound(64u << 20);
	bomb = malloc(blen);
	assert_int_equal(compress2(bomb, &blen, zeros, 64u << 20, 9), Z_OK);
	free(zeros);
	assert_int_equal(cer_qr_inflate(bomb, blen, 100, &out), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "more than the 100 bytes"));
	assert_null(out);
	free(bomb);
	/* data after the end of the stream */
	{
		uint8_t *longer = malloc(zlen + 3);

		memcpy(longer, z, zlen);
		memcpy(longer + zlen, "abc", 3);
		assert_int_equal(cer_qr_inflate(longer, zlen + 3, len, &out), CER_EINPUT);
		assert_non_null(strstr(cer_errmsg(), "after the end"));
		free(longer);
	}
	free(z);
	free(data);
}

static void test_halfblock(void **state)
{
	struct cer_qr_code code;
	char **lines;
	unsigned n, q = 2, side, x, y;
	uint8_t *dark;
	int lf;

	(void)state;
	assert_int_equal(cer_qr_encode("SDC1:1/1:HELLO", CER_QR_EC_M, &code), CER_OK);
	assert_int_equal(code.version, 1);
	side = code.width + 2 * q;
	dark = calloc(side, side);
	for (lf = 0; lf < 2; lf++) {
		assert_int_equal(cer_qr_halfblock(&code, q, lf, &lines, &n), CER_OK);
		assert_int_equal(n, (side + 1) / 2);
		halfblock_back(lines, n, side, lf, dark);
		for (y = 0; y < side; y++)
			for (x = 0; x < side; x++) {
				bool in = x >= q && y >= q && x < q + code.width &&
				          y < q + code.width;
				uint8_t want =
				        in ? code.modules[(y - q) * code.width + (x - q)] : 0;

				assert_int_equal(dark[y * side + x], want);
			}
		cer_qr_lines_free(lines, n);
	}
	free(dark);
	cer_qr_code_free(&code);
}

static void test_png(void **state)
{
	struct cer_qr_code code;
	png_image img;
	uint8_t *png, *pix;
	size_t len;
	unsigned side, x, y, px = 3, q = 4;

	(void)state;
	assert_int_equal(cer_qr_encode("SDC1:1/1:PNG TEST", CER_QR_EC_Q, &code), CER_OK);
	assert_int_equal(cer_qr_png(&code, px, q, &png, &len), CER_OK);
	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, png, len));
	side = (code.width + 2 * q) * px;
	assert_int_equal(img.width, side);
	assert_int_equal(img.height, side);
	img.format = PNG_FORMAT_GRAY;
	pix = malloc(PNG_IMAGE_SIZE(img));
	assert_true(png_image_finish_read(&img, NULL, pix, 0, NULL));
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++) {
			unsigned mx = x / px, my = y / px;
			bool in = mx >= q && my >= q && mx < q + code.width && my < q + code.width;
			bool want_dark = in && code.modules[(my - q) * code.width + (mx - q)];

			assert_int_equal(pix[y * side + x], want_dark ? 0 : 255);
		}
	free(pix);
	free(png);
	cer_qr_code_free(&code);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static void test_html(void **state)
{
	uint8_t *data = random_bytes(900, 18);
	struct cer_qr_set set;
	uint8_t *pngs[8];
	size_t lens[8], hlen;
	char *html;
	unsigned i;

	(void)state;
	assert_int_equal(cer_qr_split(data, 900, 200, CER_QR_EC_M, &set), CER_OK);
	assert_true(set.count <= 8);
	for (i = 0; i < set.count; i++) {
		struct cer_qr_code code;

		assert_int_equal(cer_qr_encode(set.parts[i], set.ec, &code), CER_OK);
		assert_int_equal(cer_qr_png(&code, 6, 4, &pngs[i], &lens[i]), CER_OK);
		cer_qr_code_free(&code);
	}
	assert_int_equal(cer_qr_html(&set, "blob<&>.json", pngs, lens, &html, &hlen), CER_OK);
	assert_int_equal(strlen(html), hlen);
	assert_int_equal(count_of(html, "src=\"data:image/png;base64,"), set.count);
	assert_int_equal(count_of(html, "<img"), set.count);
	assert_int_equal(count_of(html, "http:"), 0);
	assert_int_equal(count_of(html, "https:"), 0);
	assert_int_equal(count_of(html, "<script src"), 0);
	assert_int_equal(count_of(html, "<link"), 0);
	assert_non_null(strstr(html, "blob&lt;&amp;&gt;.json"));
	assert_null(strstr(html, "blob<&>"));
	assert_non_null(strstr(html, set.sha256_hex));
	free(html);
	for (i = 0; i < set.count; i++)
		free(pngs[i]);
	cer_qr_set_free(&set);
	free(data);
}

static void test_split_fit(void **state)
{
	uint8_t *data = random_bytes(1500, 19);
	struct cer_qr_set set;
	unsigned i, widths[] = {45, 57, 77, 200};

	(void)state;
	for (i = 0; i < 4; i++) {
		unsigned k;

		assert_int_equal(cer_qr_split_fit(data, 1500, CER_QR_EC_M, widths[i], &set),
		                 CER_OK);
		for (k = 0; k < set.count; k++) {
			struct cer_qr_code code;

			assert_int_equal(cer_qr_encode(set.parts[k], CER_QR_EC_M, &code), CER_OK);
			assert_true(code.width <= widths[i]);
			cer_qr_code_free(&code);
		}
		if (widths[i] == 200)
			assert_int_equal(set.count, (1536 + CER_QR_DEFAULT_MAX_BYTES - 1) /
			                                    CER_QR_DEFAULT_MAX_BYTES);
		cer_qr_set_free(&set);
	}
	assert_int_equal(cer_qr_split_fit(data, 1500, CER_QR_EC_M, 21, &set), CER_EUSAGE);
	free(data);
}

static void test_split_dir(void **state)
{
	char tmpl[] = "/tmp/test_qr.XXXXXX", in[300], out[300], path[400];
	uint8_t *data = random_bytes(4000, 20), *file = NULL;
	size_t flen = 0;
	struct cer_qr_set set;
	struct cer_report *rep = NULL;
	char *json;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(in, sizeof in, "%s/in.bin", tmpl);
	snprintf(out, sizeof out, "%s/out", tmpl);
	assert_int_equal(cer_file_write_atomic(in, data, 4000, 0), CER_OK);
	assert_int_equal(cer_qr_split_dir(in, out, 500, CER_QR_EC_L, false, NULL, NULL, &rep),
	                 CER_OK);
	/* the report: the parts, the file's SHA-256 as sha256sum prints it */
	assert_int_equal(cer_report_line_count(rep), 2);
	assert_non_null(strstr(cer_report_line(rep, 0), ": 9 parts of "));
	assert_non_null(strstr(cer_report_line(rep, 0), "(4000 bytes, SHA-256 "));
	assert_non_null(strstr(cer_report_line(rep, 0), "or below at level L"));
	assert_true(strncmp(cer_report_line(rep, 1), "sha256sum: ", 11) == 0);
	assert_non_null(strstr(cer_report_summary(rep), "[OK] 9 parts"));
	json = cer_report_json(rep);
	assert_non_null(strstr(json, "\"report\": \"qr_split\""));
	assert_non_null(strstr(json, "\"parts\": 9"));
	free(json);
	cer_report_free(rep);
	assert_int_equal(cer_qr_set_load_dir(out, CER_QR_EC_L, &set, &file, &flen), CER_OK);
	assert_int_equal(set.count, 9);
	assert_int_equal(set.file_len, 4000);
	assert_int_equal(flen, 4000);
	assert_memory_equal(file, data, 4000);
	free(file);
	cer_qr_set_free(&set);
	/* a second split into the same directory needs replace */
	assert_int_equal(cer_qr_split_dir(in, out, 1000, CER_QR_EC_M, false, NULL, NULL, &rep),
	                 CER_EIO);
	assert_null(rep);
	assert_non_null(strstr(cer_errmsg(), "not empty"));
	assert_int_equal(cer_qr_split_dir(in, out, 1000, CER_QR_EC_M, true, NULL, NULL, &rep),
	                 CER_OK);
	cer_report_free(rep);
	snprintf(path, sizeof path, "%s/09.txt", out);
	assert_false(cer_path_exists(path));
	assert_int_equal(cer_qr_set_load_dir(out, CER_QR_EC_M, &set, NULL, NULL), CER_OK);
	assert_int_equal(set.count, 5);
	cer_qr_set_free(&set);
	/* a foreign file is never replaced */
	snprintf(path, sizeof path, "%s/notes.txt", out);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(cer_qr_split_dir(in, out, 1000, CER_QR_EC_M, true, NULL, NULL, &rep),
	                 CER_EIO);
	assert_non_null(strstr(cer_errmsg(), "notes.txt"));
	assert_true(cer_path_exists(path));
	/* a missing part file makes the directory unreadable as a set */
	unlink(path);
	snprintf(path, sizeof path, "%s/03.txt", out);
	unlink(path);
	assert_int_equal(cer_qr_set_load_dir(out, CER_QR_EC_M, &set, &file, &flen), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "missing part 3 of 5"));
	assert_null(file);
	assert_int_equal(flen, 0);
	snprintf(path, sizeof path, "rm -rf '%s'", tmpl);
	assert_int_equal(system(path), 0);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base45_rfc9285),
	        cmocka_unit_test(test_base45_rejects),
	        cmocka_unit_test(test_base45_roundtrip),
	        cmocka_unit_test(test_part_format),
	        cmocka_unit_test(test_split_limits),
	        cmocka_unit_test(test_join_roundtrip),
	        cmocka_unit_test(test_join_missing),
	        cmocka_unit_test(test_join_corrupted),
	        cmocka_unit_test(test_join_mutations),
	        cmocka_unit_test(test_join_forged_sha),
	        cmocka_unit_test(test_join_mixed),
	        cmocka_unit_test(test_default_version),
	        cmocka_unit_test(test_sdc2_roundtrip),
	        cmocka_unit_test(test_sdc1_sdc2_mixed),
	        cmocka_unit_test(test_inflate_hostile),
	        cmocka_unit_test(test_halfblock),
	        cmocka_unit_test(test_png),
	        cmocka_unit_test(test_html),
	        cmocka_unit_test(test_split_fit),
	        cmocka_unit_test(test_split_dir),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
