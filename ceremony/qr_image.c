#include "ceremony/qr_int.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

int cer_qr_ec_parse(const char *s, enum cer_qr_ec *ec)
{
	static const char letters[] = "LMQH";
	const char *p;

	if (s == NULL || s[0] == '\0' || s[1] != '\0' ||
	    (p = strchr(letters, s[0] & ~0x20)) == NULL)
		return cer_fail(CER_EUSAGE, "error correction level must be L, M, Q or H, not '%s'",
		                s == NULL ? "" : s);
	*ec = (enum cer_qr_ec)(p - letters);
	return CER_OK;
}

size_t cer_qr_default_max_bytes(enum cer_qr_ec ec)
{
	static const size_t sizes[] = {800, CER_QR_DEFAULT_MAX_BYTES, 440, 320};

	return sizes[ec & 3];
}

char cer_qr_ec_letter(enum cer_qr_ec ec)
{
	return "LMQH"[ec & 3];
}

int cer_qr_encode(const char *text, enum cer_qr_ec ec, struct cer_qr_code *code)
{
	static const QRecLevel levels[] = {QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H};
	QRinput *in = NULL;
	QRcode *qr = NULL;
	size_t len = strlen(text), i;
	int ret;

	memset(code, 0, sizeof *code);
	for (i = 0; i < len; i++)
		if (cer_qr_b45_value((unsigned char)text[i]) < 0)
			return cer_fail(CER_EINPUT,
			                "QR text has a character outside the "
			                "alphanumeric set at offset %zu",
			                i);
	if (len == 0 || len > 4296)
		return cer_fail(CER_EINPUT, "QR text of %zu characters does not fit a QR code",
		                len);
	in = QRinput_new2(0, levels[ec & 3]);
	if (in == NULL) {
		ret = cer_fail(CER_EINTERNAL, "QR encoder: out of memory");
		goto out;
	}
	if (QRinput_append(in, QR_MODE_AN, (int)len, (const unsigned char *)text) != 0) {
		ret = cer_fail(CER_EINTERNAL, "QR encoder refused the text: %s", strerror(errno));
		goto out;
	}
	qr = QRcode_encodeInput(in);
	if (qr == NULL) {
		ret = errno == ERANGE
		              ? cer_fail(CER_EINPUT,
		                         "%zu characters do not fit in a QR code at level %c; "
		                         "use smaller parts",
		                         len, cer_qr_ec_letter(ec))
		              : cer_fail(CER_EINTERNAL, "QR encoder failed: %s", strerror(errno));
		goto out;
	}
	code->modules = malloc((size_t)qr->width * (size_t)qr->width);
	if (code->modules == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < (size_t)qr->width * (size_t)qr->width; i++)
		code->modules[i] = qr->data[i] & 1;
	code->width = (unsigned)qr->width;
	code->version = qr->version;
	ret = CER_OK;
out:
	QRcode_free(qr);
	QRinput_free(in);
	return ret;
}

void cer_qr_code_free(struct cer_qr_code *code)
{
	if (code == NULL)
		return;
	free(code->modules);
	memset(code, 0, sizeof *code);
}

static bool dark_at(const struct cer_qr_code *code, unsigned quiet, unsigned x, unsigned y)
{
	if (x < quiet || y < quiet || x >= quiet + code->width || y >= quiet + code->width)
		return false;
	return code->modules[(size_t)(y - quiet) * code->width + (x - quiet)] != 0;
}

void cer_qr_membuf_put(struct cer_qr_membuf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void cer_qr_membuf_puts(struct cer_qr_membuf *b, const char *s)
{
	cer_qr_membuf_put(b, s, strlen(s));
}

static void png_write_cb(png_structp png, png_bytep data, size_t len)
{
	cer_qr_membuf_put(png_get_io_ptr(png), data, len);
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

static void png_error_cb(png_structp png, png_const_charp msg)
{
	cer_fail(CER_EINTERNAL, "PNG writer: %s", msg);
	png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int cer_qr_png(const struct cer_qr_code *code, unsigned module_px, unsigned quiet,
               uint8_t **png_out, size_t *png_len)
{
	struct cer_qr_membuf buf = {0};
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *row = NULL;
	unsigned side, y, x;
	size_t rowbytes;
	volatile int ret = CER_EINTERNAL;

	*png_out = NULL;
	*png_len = 0;
	if (module_px == 0 || module_px > 64 || quiet > 64)
		return cer_fail(CER_EUSAGE, "bad PNG module size %u or quiet zone %u", module_px,
		                quiet);
	side = (code->width + 2 * quiet) * module_px;
	rowbytes = (side + 7) / 8;
	row = malloc(rowbytes);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb, png_warning_cb);
	if (png != NULL)
		info = png_create_info_struct(png);
	if (row == NULL || png == NULL || info == NULL) {
		cer_fail(CER_EINTERNAL, "PNG writer: out of memory");
		goto out;
	}
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_set_write_fn(png, &buf, png_write_cb, png_flush_cb);
	png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < side; y++) {
		memset(row, 0, rowbytes);
		for (x = 0; x < side; x++)
			if (!dark_at(code, quiet, x / module_px, y / module_px))
				row[x / 8] |= (uint8_t)(0x80u >> (x % 8));
		png_write_row(png, row);
	}
	png_write_end(png, info);
	if (buf.failed) {
		cer_fail(CER_EINTERNAL, "PNG writer: out of memory");
		goto out;
	}
	*png_out = buf.data;
	*png_len = buf.len;
	buf.data = NULL;
	ret = CER_OK;
out:
	png_destroy_write_struct(&png, &info);
	free(row);
	free(buf.data);
	return ret;
}

void cer_qr_lines_free(char **lines, unsigned nlines)
{
	unsigned i;

	if (lines == NULL)
		return;
	for (i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
}

int cer_qr_halfblock(const struct cer_qr_code *code, unsigned quiet, bool light_fg,
                     char ***lines_out, unsigned *nlines_out)
{
	static const char *const glyph[4] = {" ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"};
	unsigned side = code->width + 2 * quiet;
	unsigned nlines = (side + 1) / 2, l, x;
	char **lines = calloc(nlines, sizeof *lines);
	int ret;

	*lines_out = NULL;
	*nlines_out = 0;
	if (lines == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (l = 0; l < nlines; l++) {
		char *p = lines[l] = malloc((size_t)side * 3 + 1);

		if (p == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		for (x = 0; x < side; x++) {
			unsigned y = 2 * l;
			bool top = dark_at(code, quiet, x, y) != light_fg;
			bool bottom = y + 1 < side && dark_at(code, quiet, x, y + 1) != light_fg;
			const char *g = glyph[(top ? 2 : 0) | (bottom ? 1 : 0)];
			size_t gl = strlen(g);

			memcpy(p, g, gl);
			p += gl;
		}
		*p = '\0';
	}
	*lines_out = lines;
	*nlines_out = nlines;
	lines = NULL;
	ret = CER_OK;
out:
	cer_qr_lines_free(lines, nlines);
	return ret;
}
