#include "ceremony/codec.h"

#include <stdlib.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const uint8_t *in, size_t len, const char *alpha, bool pad)
{
	size_t full = len / 3, rest = len % 3;
	size_t out_len = full * 4 + (rest == 0 ? 0 : pad ? 4 : rest + 1);
	char *out, *o;
	size_t i;

	if (len > SIZE_MAX / 2)
		return NULL;
	out = malloc(out_len + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (i = 0; i < full * 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		*o++ = alpha[(v >> 6) & 63];
		*o++ = alpha[v & 63];
	}
	if (rest != 0) {
		uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);

		*o++ = alpha[v >> 18];
		*o++ = alpha[(v >> 12) & 63];
		if (rest == 2)
			*o++ = alpha[(v >> 6) & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int sextet(char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static uint8_t *decode(const char *in, size_t len, bool url, size_t *out_len)
{
	uint8_t *out = malloc(len / 4 * 3 + 4);
	size_t n = 0, o = 0, pads = 0, i;
	uint32_t acc = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int v;

		if (!url && is_space(in[i]))
			continue;
		if (in[i] == '=') {
			pads++;
			continue;
		}
		if (pads != 0)
			goto bad; /* data after padding */
		v = sextet(in[i], url);
		if (v < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++n % 4 == 0) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	switch (n % 4) {
	case 0:
		if (pads != 0)
			goto bad;
		break;
	case 1: goto bad;
	case 2:
		if ((pads != 0 && pads != 2) || (acc & 0xf) != 0)
			goto bad;
		out[o++] = (uint8_t)(acc >> 4);
		break;
	case 3:
		if ((pads != 0 && pads != 1) || (acc & 0x3) != 0)
			goto bad;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
		break;
	}
	out[o] = 0;
	*out_len = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *cer_b64url_encode(const uint8_t *data, size_t len)
{
	return encode(data, len, b64_url, false);
}

uint8_t *cer_b64url_decode(const char *text, size_t text_len, size_t *out_len)
{
	return decode(text, text_len, true, out_len);
}

char *cer_b64_encode(const uint8_t *data, size_t len)
{
	return encode(data, len, b64_std, true);
}

uint8_t *cer_b64_decode(const char *text, size_t text_len, size_t *out_len)
{
	return decode(text, text_len, false, out_len);
}

void cer_hex_encode(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}
