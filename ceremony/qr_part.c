#include "ceremony/qr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cer_qr_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_upper_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* Parses a decimal without leading zero in 1..CER_QR_MAX_PARTS; advances *p. */
static bool parse_num(const char **p, const char *end, unsigned *out)
{
	const char *s = *p;
	unsigned v = 0;

	if (s >= end || *s < '1' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > CER_QR_MAX_PARTS)
			return false;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

/* Best-effort "part N/T" of a part whose check failed, for the message. */
static void claimed_name(const char *s, const char *end, char *out, size_t size)
{
	const char *p = s + strlen(CER_QR_MAGIC);
	unsigned n, t;

	if (parse_num(&p, end, &n) && p < end && *p == '/' && (p++, parse_num(&p, end, &t)))
		snprintf(out, size, "part %u/%u (as it claims)", n, t);
	else
		snprintf(out, size, "part");
}

/* Parses one trimmed part text of len bytes starting at the marker. */
int cer_qr_parse_part(const char *s, size_t len, const char *where, struct cer_qr_parsed *out)
{
	const char *end = s + len, *p, *data_end;
	char check[CER_QR_CHECK_HEX + 1], claimed[64];
	uint8_t md[32];
	size_t i;

	memset(out, 0, sizeof *out);
	claimed_name(s, end, claimed, sizeof claimed);
	for (i = 0; i < len; i++)
		if (cer_qr_b45_value((unsigned char)s[i]) < 0)
			return cer_fail(CER_EINPUT,
			                "%s%s is corrupted: character 0x%02x at column %zu "
			                "is outside the QR alphanumeric set",
			                where, claimed, (unsigned char)s[i], i + 1);
	if (len < strlen(CER_QR_MAGIC) + CER_QR_CHECK_HEX + 1 ||
	    end[-(long)CER_QR_CHECK_HEX - 1] != ':' ||
	    !is_upper_hex(end - CER_QR_CHECK_HEX, CER_QR_CHECK_HEX))
		return cer_fail(CER_EINPUT, "%s%s is corrupted: no check value at its end", where,
		                claimed);
	data_end = end - CER_QR_CHECK_HEX - 1;
	cer_qr_sha256(s, (size_t)(data_end - s), md);
	cer_qr_upper_hex(md, CER_QR_CHECK_HEX / 2, check);
	if (memcmp(check, end - CER_QR_CHECK_HEX, CER_QR_CHECK_HEX) != 0)
		return cer_fail(CER_EINPUT,
		                "%s%s is corrupted: check value %.8s does not match its "
		                "contents (%s)",
		                where, claimed, end - CER_QR_CHECK_HEX, check);
	out->zlib = s[3] == '2';
	p = s + strlen(CER_QR_MAGIC);
	if (!parse_num(&p, data_end, &out->n) || p >= data_end || *p++ != '/' ||
	    !parse_num(&p, data_end, &out->total) || out->n > out->total || p >= data_end ||
	    *p++ != ':' || data_end - p < (long)CER_QR_ID_HEX + 1 ||
	    !is_upper_hex(p, CER_QR_ID_HEX) || p[CER_QR_ID_HEX] != ':')
		return cer_fail(CER_EINPUT,
		                "%s%s is malformed: bad header (want SDC1:N/TOTAL:ID:...)", where,
		                claimed);
	memcpy(out->id, p, CER_QR_ID_HEX);
	out->id[CER_QR_ID_HEX] = '\0';
	p += CER_QR_ID_HEX + 1;
	out->data = cer_base45_decode(p, (size_t)(data_end - p), &out->len);
	if (out->data == NULL || out->len == 0) {
		free(out->data);
		out->data = NULL;
		return cer_fail(CER_EINPUT,
		                "%spart %u/%u is corrupted: its data is not valid Base45", where,
		                out->n, out->total);
	}
	return CER_OK;
}
