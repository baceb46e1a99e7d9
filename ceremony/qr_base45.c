#include "ceremony/qr_int.h"

#include <stdlib.h>
#include <string.h>

static const char b45_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

int cer_qr_b45_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b45_alphabet, c);
	return p == NULL ? -1 : (int)(p - b45_alphabet);
}

char *cer_base45_encode(const uint8_t *data, size_t len)
{
	char *out = malloc(len / 2 * 3 + 3);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 1 < len; i += 2) {
		unsigned n = (unsigned)data[i] * 256u + data[i + 1];

		out[o++] = b45_alphabet[n % 45];
		out[o++] = b45_alphabet[n / 45 % 45];
		out[o++] = b45_alphabet[n / 2025];
	}
	if (i < len) {
		out[o++] = b45_alphabet[data[i] % 45];
		out[o++] = b45_alphabet[data[i] / 45];
	}
	out[o] = '\0';
	return out;
}

uint8_t *cer_base45_decode(const char *text, size_t len, size_t *out_len)
{
	uint8_t *out;
	size_t i, o = 0;

	if (len % 3 == 1)
		return NULL;
	out = malloc(len / 3 * 2 + 2);
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i += 3) {
		int c = cer_qr_b45_value((unsigned char)text[i]);
		int d = cer_qr_b45_value((unsigned char)text[i + 1]);
		int e = i + 2 < len ? cer_qr_b45_value((unsigned char)text[i + 2]) : 0;
		unsigned n;

		if (c < 0 || d < 0 || e < 0)
			goto bad;
		n = (unsigned)c + (unsigned)d * 45u + (unsigned)e * 2025u;
		if (i + 2 < len) {
			if (n > 0xffff)
				goto bad;
			out[o++] = (uint8_t)(n >> 8);
			out[o++] = (uint8_t)n;
		} else {
			if (n > 0xff)
				goto bad;
			out[o++] = (uint8_t)n;
		}
	}
	out[o] = 0;
	*out_len = o;
	return out;
bad:
	free(out);
	return NULL;
}
