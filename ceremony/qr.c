#include "ceremony/qr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/codec.h"
#include "ceremony/io.h"

#define STREAM_HEAD 36u
#define CHECK_HEX 8u
#define ID_HEX 16u

static const char b45_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

static int b45_value(unsigned char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b45_alphabet, c);
	return p == NULL ? -1 : (int)(p - b45_alphabet);
}

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
	static const size_t sizes[] = { 800, CER_QR_DEFAULT_MAX_BYTES, 440, 320 };

	return sizes[ec & 3];
}

char cer_qr_ec_letter(enum cer_qr_ec ec)
{
	return "LMQH"[ec & 3];
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
		int c = b45_value((unsigned char)text[i]);
		int d = b45_value((unsigned char)text[i + 1]);
		int e = i + 2 < len ? b45_value((unsigned char)text[i + 2]) : 0;
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

static void sha256(const void *data, size_t len, uint8_t md[static 32])
{
	crypto_hash_sha256(md, data, len);
}

static void upper_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

void cer_qr_set_free(struct cer_qr_set *set)
{
	unsigned i;

	if (set == NULL)
		return;
	if (set->parts != NULL)
		for (i = 0; i < set->count; i++)
			free(set->parts[i]);
	free(set->parts);
	memset(set, 0, sizeof *set);
}

static char *make_part(const char *magic, unsigned n, unsigned total, const char *id,
                       const uint8_t *chunk, size_t chunk_len)
{
	char *b45 = cer_base45_encode(chunk, chunk_len);
	char *text = NULL;
	uint8_t md[32];
	char check[CHECK_HEX + 1];
	int body;

	if (b45 == NULL)
		return NULL;
	if (asprintf(&text, "%s%u/%u:%s:%s:%8s", magic, n, total, id, b45, "") < 0) {
		free(b45);
		return NULL;
	}
	free(b45);
	body = (int)strlen(text) - (int)CHECK_HEX - 1;
	sha256(text, (size_t)body, md);
	upper_hex(md, CHECK_HEX / 2, check);
	memcpy(text + body + 1, check, CHECK_HEX);
	return text;
}

/* A whole DER PKCS#12, encrypted PKCS#8, PKCS#8 or traditional private key. */
static bool der_private_key(const uint8_t *data, size_t len)
{
	const unsigned char *p;
	PKCS12 *p12;
	X509_SIG *p8;
	EVP_PKEY *key;
	bool found = false;

	if (len < 2 || data[0] != 0x30 || len > LONG_MAX)
		return false;
	p = data;
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	found = p12 != NULL;
	PKCS12_free(p12);
	if (!found) {
		p = data;
		p8 = d2i_X509_SIG(NULL, &p, (long)len);
		found = p8 != NULL;
		X509_SIG_free(p8);
	}
	if (!found) {
		p = data;
		key = d2i_AutoPrivateKey(NULL, &p, (long)len);
		found = key != NULL;
		EVP_PKEY_free(key);
	}
	ERR_clear_error();
	return found;
}

int cer_qr_split(const uint8_t *data, size_t len, size_t max_bytes, enum cer_qr_ec ec,
                 struct cer_qr_set *set)
{
	uint8_t *stream = NULL, *packed = NULL;
	const uint8_t *body = data;
	const char *magic = CER_QR_MAGIC;
	uint8_t md[32];
	size_t stream_len, count, i, body_len = len, packed_len = 0;
	int ret;

	memset(set, 0, sizeof *set);
	if (max_bytes < CER_QR_MIN_MAX_BYTES || max_bytes > CER_QR_MAX_MAX_BYTES)
		return cer_fail(CER_EUSAGE, "part size must be between %u and %u bytes, not %zu",
		                CER_QR_MIN_MAX_BYTES, CER_QR_MAX_MAX_BYTES, max_bytes);
	if (len > CER_QR_MAX_FILE)
		return cer_fail(CER_EINPUT, "file too large for QR codes (%zu bytes, limit %zu)", len,
		                CER_QR_MAX_FILE);
	if (len > 0 && memmem(data, len, "PRIVATE KEY-----", 16) != NULL)
		return cer_fail(CER_EINPUT, "the file holds a PEM private key: private keys never "
		                            "leave the custodian's media and are never made QR codes");
	if (der_private_key(data, len))
		return cer_fail(CER_EINPUT, "the file is a DER private key or PKCS#12 file: private "
		                            "keys never leave the custodian's media and are never "
		                            "made QR codes");
	ret = cer_qr_deflate(data, len, &packed, &packed_len);
	if (ret != CER_OK)
		return ret;
	if (packed_len < len) {
		body = packed;
		body_len = packed_len;
		magic = CER_QR_MAGIC_ZLIB;
	}
	stream_len = STREAM_HEAD + body_len;
	count = (stream_len + max_bytes - 1) / max_bytes;
	if (count > CER_QR_MAX_PARTS) {
		ret = cer_fail(CER_EUSAGE, "%zu parts needed, more than %u: use a larger part size",
		               count, CER_QR_MAX_PARTS);
		goto out;
	}
	stream = malloc(stream_len);
	set->parts = calloc(count, sizeof *set->parts);
	if (stream == NULL || set->parts == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	sha256(data, len, md);
	stream[0] = (uint8_t)(len >> 24);
	stream[1] = (uint8_t)(len >> 16);
	stream[2] = (uint8_t)(len >> 8);
	stream[3] = (uint8_t)len;
	memcpy(stream + 4, md, 32);
	if (body_len > 0)
		memcpy(stream + STREAM_HEAD, body, body_len);
	upper_hex(md, ID_HEX / 2, set->id);
	cer_hex_encode(md, 32, set->sha256_hex);
	set->file_len = len;
	set->ec = ec;
	set->count = (unsigned)count;
	for (i = 0; i < count; i++) {
		size_t off = i * max_bytes;
		size_t n = stream_len - off < max_bytes ? stream_len - off : max_bytes;

		set->parts[i] = make_part(magic, (unsigned)i + 1, (unsigned)count, set->id, stream + off,
		                          n);
		if (set->parts[i] == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
	}
	ret = CER_OK;
out:
	free(stream);
	free(packed);
	if (ret != CER_OK)
		cer_qr_set_free(set);
	return ret;
}

int cer_qr_encode(const char *text, enum cer_qr_ec ec, struct cer_qr_code *code)
{
	static const QRecLevel levels[] = { QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q,
	                                    QR_ECLEVEL_H };
	QRinput *in = NULL;
	QRcode *qr = NULL;
	size_t len = strlen(text), i;
	int ret;

	memset(code, 0, sizeof *code);
	for (i = 0; i < len; i++)
		if (b45_value((unsigned char)text[i]) < 0)
			return cer_fail(CER_EINPUT, "QR text has a character outside the "
			                            "alphanumeric set at offset %zu", i);
	if (len == 0 || len > 4296)
		return cer_fail(CER_EINPUT, "QR text of %zu characters does not fit a QR code", len);
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
		      ? cer_fail(CER_EINPUT, "%zu characters do not fit in a QR code at level %c; "
		                             "use smaller parts", len, cer_qr_ec_letter(ec))
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

struct membuf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

static void membuf_put(struct membuf *b, const void *p, size_t n)
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

static void membuf_puts(struct membuf *b, const char *s)
{
	membuf_put(b, s, strlen(s));
}

static void png_write_cb(png_structp png, png_bytep data, size_t len)
{
	membuf_put(png_get_io_ptr(png), data, len);
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
	struct membuf buf = { 0 };
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
	static const char *const glyph[4] = { " ", "\xe2\x96\x84", "\xe2\x96\x80",
	                                      "\xe2\x96\x88" };
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

static void html_escape(struct membuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': membuf_puts(b, "&amp;"); break;
		case '<': membuf_puts(b, "&lt;"); break;
		case '>': membuf_puts(b, "&gt;"); break;
		case '"': membuf_puts(b, "&quot;"); break;
		case '\'': membuf_puts(b, "&#39;"); break;
		default: membuf_put(b, s, 1);
		}
	}
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<style>\n"
	"html,body{margin:0;height:100%;background:#fff;color:#000;font:16px sans-serif}\n"
	"#bar{height:2.4em;line-height:2.4em;text-align:center;white-space:nowrap;overflow:hidden}\n"
	"#help{height:2.6em;text-align:center;color:#444;font-size:13px}\n"
	"figure{margin:0;display:flex;flex-direction:column;align-items:center}\n"
	"figure img{image-rendering:pixelated;image-rendering:crisp-edges}\n"
	"body.js figure{display:none;height:calc(100% - 5.4em)}\n"
	"body.js figure.on{display:flex}\n"
	"body.js figure img{height:100%;max-width:100vw;object-fit:contain}\n"
	"figcaption{padding:.3em}\nbody.js figcaption{display:none}\n"
	"</style>\n";

static const char html_script[] =
	"<script>\n"
	"(function(){\n"
	"var f=document.getElementsByTagName('figure'),n=f.length,i=0,paused=false,\n"
	"pace=2000,timer=null,bar=document.getElementById('bar');\n"
	"document.body.className='js';\n"
	"function show(){for(var k=0;k<n;k++)f[k].className=(k==i?'on':'');\n"
	"bar.textContent=document.title+' \\u2014 part '+(i+1)+' of '+n+' \\u2014 '+\n"
	"(paused?'paused':'next in '+(pace/1000)+' s');}\n"
	"function arm(){if(timer)clearTimeout(timer);timer=null;\n"
	"if(!paused&&n>1)timer=setTimeout(function(){i=(i+1)%n;show();arm();},pace);}\n"
	"function go(d){i=(i+d+n)%n;show();arm();}\n"
	"document.addEventListener('keydown',function(e){var k=e.key;\n"
	"if(k==' '||k=='Spacebar'||k=='p'){paused=!paused;show();arm();}\n"
	"else if(k=='ArrowRight'||k=='ArrowDown'||k=='PageDown'||k=='n')go(1);\n"
	"else if(k=='ArrowLeft'||k=='ArrowUp'||k=='PageUp'||k=='b')go(-1);\n"
	"else if(k=='Home'){i=0;show();arm();}\n"
	"else if(k=='End'){i=n-1;show();arm();}\n"
	"else if(k=='+'||k=='='){pace=Math.max(500,pace-500);show();arm();}\n"
	"else if(k=='-'||k=='_'){pace=Math.min(10000,pace+500);show();arm();}\n"
	"else if(k=='f'){if(document.fullscreenElement)document.exitFullscreen();\n"
	"else if(document.documentElement.requestFullscreen)"
	"document.documentElement.requestFullscreen();}\n"
	"else return;e.preventDefault();});\n"
	"show();arm();\n"
	"})();\n"
	"</script>\n";

int cer_qr_html(const struct cer_qr_set *set, const char *title, uint8_t *const *pngs,
                const size_t *png_lens, char **html, size_t *html_len)
{
	struct membuf b = { 0 };
	char line[320];
	unsigned i;
	int ret;

	*html = NULL;
	*html_len = 0;
	membuf_puts(&b, html_head);
	membuf_puts(&b, "<title>");
	html_escape(&b, title);
	membuf_puts(&b, "</title>\n</head>\n<body>\n<div id=\"bar\">");
	html_escape(&b, title);
	snprintf(line, sizeof line, " \xe2\x80\x94 %u parts, file id %s, %zu bytes</div>\n",
	         set->count, set->id, set->file_len);
	membuf_puts(&b, line);
	snprintf(line, sizeof line,
	         "<div id=\"help\">space: pause/resume &middot; arrows: step &middot; "
	         "+/&minus;: faster/slower &middot; f: full screen<br>SHA-256 %s"
	         "</div>\n",
	         set->sha256_hex);
	membuf_puts(&b, line);
	for (i = 0; i < set->count; i++) {
		char *b64 = cer_b64_encode(pngs[i], png_lens[i]);

		if (b64 == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		snprintf(line, sizeof line, "<figure><img alt=\"part %u of %u\" src=\"data:image/png;base64,",
		         i + 1, set->count);
		membuf_puts(&b, line);
		membuf_puts(&b, b64);
		free(b64);
		snprintf(line, sizeof line, "\"><figcaption>part %u of %u</figcaption></figure>\n",
		         i + 1, set->count);
		membuf_puts(&b, line);
	}
	membuf_puts(&b, html_script);
	membuf_puts(&b, "</body>\n</html>\n");
	if (b.failed) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	*html = (char *)b.data;
	*html_len = b.len;
	b.data = NULL;
	ret = CER_OK;
out:
	free(b.data);
	return ret;
}

/* Joining. */

struct part_slot {
	char *text;
	uint8_t *data;
	size_t len;
};

struct cer_qr_join {
	unsigned total;
	unsigned count;
	bool lenient;
	unsigned skipped;
	size_t held;
	bool zlib;
	char first_skipped[300];
	char id[ID_HEX + 1];
	struct part_slot *slots;
};

int cer_qr_join_new(struct cer_qr_join **join)
{
	*join = calloc(1, sizeof **join);
	if (*join == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	return CER_OK;
}

void cer_qr_join_free(struct cer_qr_join *join)
{
	unsigned i;

	if (join == NULL)
		return;
	for (i = 0; join->slots != NULL && i < join->total; i++) {
		free(join->slots[i].text);
		free(join->slots[i].data);
	}
	free(join->slots);
	free(join);
}

void cer_qr_join_set_lenient(struct cer_qr_join *join, bool lenient)
{
	join->lenient = lenient;
}

unsigned cer_qr_join_skipped(const struct cer_qr_join *join, const char **first_where)
{
	if (first_where != NULL)
		*first_where = join->first_skipped;
	return join->skipped;
}

unsigned cer_qr_join_total(const struct cer_qr_join *join)
{
	return join->total;
}

unsigned cer_qr_join_count(const struct cer_qr_join *join)
{
	return join->count;
}

bool cer_qr_join_complete(const struct cer_qr_join *join)
{
	return join->total > 0 && join->count == join->total;
}

static bool is_space(char c)
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

struct parsed {
	bool zlib;
	unsigned n, total;
	char id[ID_HEX + 1];
	uint8_t *data;
	size_t len;
};

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
static int parse_part(const char *s, size_t len, const char *where, struct parsed *out)
{
	const char *end = s + len, *p, *data_end;
	char check[CHECK_HEX + 1], claimed[64];
	uint8_t md[32];
	size_t i;

	memset(out, 0, sizeof *out);
	claimed_name(s, end, claimed, sizeof claimed);
	for (i = 0; i < len; i++)
		if (b45_value((unsigned char)s[i]) < 0)
			return cer_fail(CER_EINPUT, "%s%s is corrupted: character 0x%02x at column %zu "
			                            "is outside the QR alphanumeric set",
			                where, claimed, (unsigned char)s[i], i + 1);
	if (len < strlen(CER_QR_MAGIC) + CHECK_HEX + 1 || end[-(long)CHECK_HEX - 1] != ':' ||
	    !is_upper_hex(end - CHECK_HEX, CHECK_HEX))
		return cer_fail(CER_EINPUT, "%s%s is corrupted: no check value at its end", where,
		                claimed);
	data_end = end - CHECK_HEX - 1;
	sha256(s, (size_t)(data_end - s), md);
	upper_hex(md, CHECK_HEX / 2, check);
	if (memcmp(check, end - CHECK_HEX, CHECK_HEX) != 0)
		return cer_fail(CER_EINPUT, "%s%s is corrupted: check value %.8s does not match its "
		                            "contents (%s)", where, claimed, end - CHECK_HEX, check);
	out->zlib = s[3] == '2';
	p = s + strlen(CER_QR_MAGIC);
	if (!parse_num(&p, data_end, &out->n) || p >= data_end || *p++ != '/' ||
	    !parse_num(&p, data_end, &out->total) || out->n > out->total || p >= data_end ||
	    *p++ != ':' || data_end - p < (long)ID_HEX + 1 || !is_upper_hex(p, ID_HEX) ||
	    p[ID_HEX] != ':')
		return cer_fail(CER_EINPUT, "%s%s is malformed: bad header (want SDC1:N/TOTAL:ID:...)",
		                where, claimed);
	memcpy(out->id, p, ID_HEX);
	out->id[ID_HEX] = '\0';
	p += ID_HEX + 1;
	out->data = cer_base45_decode(p, (size_t)(data_end - p), &out->len);
	if (out->data == NULL || out->len == 0) {
		free(out->data);
		out->data = NULL;
		return cer_fail(CER_EINPUT, "%spart %u/%u is corrupted: its data is not valid Base45",
		                where, out->n, out->total);
	}
	return CER_OK;
}

static int add_part(struct cer_qr_join *join, const char *s, size_t len, const char *where)
{
	struct parsed pp;
	struct part_slot *slot;
	int ret = parse_part(s, len, where, &pp);

	if (ret != CER_OK)
		return ret;
	if (join->total == 0) {
		join->slots = calloc(pp.total, sizeof *join->slots);
		if (join->slots == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		join->total = pp.total;
		join->zlib = pp.zlib;
		memcpy(join->id, pp.id, sizeof join->id);
	} else if (strcmp(pp.id, join->id) != 0) {
		ret = cer_fail(CER_EINPUT, "%spart %u/%u is from a different file (id %s) than the "
		                           "parts before it (id %s): parts of two files are mixed",
		               where, pp.n, pp.total, pp.id, join->id);
		goto out;
	} else if (pp.zlib != join->zlib) {
		ret = cer_fail(CER_EINPUT, "%spart %u/%u of file %s is %s but the parts before it "
		                           "are %s: parts of two different splits are mixed",
		               where, pp.n, pp.total, pp.id, pp.zlib ? "SDC2" : "SDC1",
		               join->zlib ? "SDC2" : "SDC1");
		goto out;
	} else if (pp.total != join->total) {
		ret = cer_fail(CER_EINPUT, "%spart %u/%u of file %s does not match the parts before "
		                           "it, which have %u parts: parts of two different splits "
		                           "of the file are mixed",
		               where, pp.n, pp.total, pp.id, join->total);
		goto out;
	}
	slot = &join->slots[pp.n - 1];
	if (slot->data != NULL) {
		if (slot->len != pp.len || memcmp(slot->data, pp.data, pp.len) != 0)
			ret = cer_fail(CER_EINPUT, "%spart %u/%u appears twice with different data",
			               where, pp.n, pp.total);
		goto out;
	}
	if (join->held + pp.len > STREAM_HEAD + CER_QR_MAX_FILE) {
		ret = cer_fail(CER_EINPUT, "%spart %u/%u: the parts hold more than a file can be "
		                           "(%zu bytes)", where, pp.n, pp.total,
		               (size_t)(STREAM_HEAD + CER_QR_MAX_FILE));
		goto out;
	}
	slot->text = strndup(s, len);
	if (slot->text == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	slot->data = pp.data;
	slot->len = pp.len;
	pp.data = NULL;
	join->held += pp.len;
	join->count++;
out:
	free(pp.data);
	return ret;
}

/* "SDC<digits>:" of another format version, or NULL. */
static const char *next_version_marker(const char *s, const char *end)
{
	const char *m = s;

	while ((m = memmem(m, (size_t)(end - m), "SDC", 3)) != NULL) {
		const char *p = m + 3;

		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p > m + 3 && p < end && *p == ':' && p - m <= 8)
			return m;
		m += 3;
	}
	return NULL;
}

/* The first "SDC1:" or "SDC2:" in s..end, or NULL. */
static const char *first_marker(const char *s, const char *end)
{
	const char *a = memmem(s, (size_t)(end - s), CER_QR_MAGIC, strlen(CER_QR_MAGIC));
	const char *b = memmem(s, (size_t)(end - s), CER_QR_MAGIC_ZLIB, strlen(CER_QR_MAGIC_ZLIB));

	if (a == NULL || (b != NULL && b < a))
		return b;
	return a;
}

static int add_line(struct cer_qr_join *join, const char *s, size_t len, const char *where)
{
	const char *end = s + len, *m;

	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	if (s == end)
		return CER_OK;
	if ((size_t)(end - s) > CER_QR_MAX_PART_TEXT)
		return cer_fail(CER_EINPUT, "%sline of %zu characters is too long for a part (limit %u)",
		                where, (size_t)(end - s), CER_QR_MAX_PART_TEXT);
	m = first_marker(s, end);
	if (m == NULL) {
		const char *v = next_version_marker(s, end);

		if (v != NULL)
			return cer_fail(CER_EINPUT, "%sunsupported part format '%.*s' (this version "
			                            "reads SDC1 and SDC2)", where, (int)strcspn(v, ":"), v);
		if (join->lenient) {
			if (join->skipped++ == 0)
				snprintf(join->first_skipped, sizeof join->first_skipped, "%.*s",
				         (int)(strlen(where) >= 2 ? strlen(where) - 2 : 0), where);
			return CER_OK;
		}
		return cer_fail(CER_EINPUT, "%snot a QR part (no '" CER_QR_MAGIC "' marker)", where);
	}
	return add_part(join, m, (size_t)(end - m), where);
}

int cer_qr_join_add(struct cer_qr_join *join, const char *source, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	bool multi = memchr(text, '\n', len) != NULL;
	unsigned lineno = 0;
	char where[300];
	int ret = CER_OK;

	while (p < end && ret == CER_OK) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;

		lineno++;
		if (source != NULL)
			snprintf(where, sizeof where, "%.200s line %u: ", source, lineno);
		else if (multi)
			snprintf(where, sizeof where, "line %u: ", lineno);
		else
			where[0] = '\0';
		ret = add_line(join, p, (size_t)(le - p), where);
		p = nl != NULL ? nl + 1 : end;
	}
	return ret;
}

int cer_qr_join_add_line(struct cer_qr_join *join, const char *source, unsigned lineno,
                         const char *text, size_t len)
{
	char where[300];

	if (memchr(text, '\n', len) != NULL)
		return cer_fail(CER_EUSAGE, "one line at a time");
	if (source != NULL)
		snprintf(where, sizeof where, "%.200s line %u: ", source, lineno);
	else
		where[0] = '\0';
	return add_line(join, text, len, where);
}

int cer_qr_join_add_file(struct cer_qr_join *join, const char *path)
{
	uint8_t *buf = NULL;
	size_t len;
	int ret = cer_file_read(path, CER_QR_MAX_FILE * 3, &buf, &len);

	if (ret == CER_OK)
		ret = cer_qr_join_add(join, path, (const char *)buf, len);
	free(buf);
	return ret;
}

/* Appends "2, 5-7, 9" (the missing numbers) to out, truncated with "...". */
static void missing_list(const struct cer_qr_join *join, char *out, size_t size)
{
	size_t used = strlen(out);
	unsigned i = 0;
	bool first = true;

	while (i < join->total) {
		unsigned a, b;
		char item[32];
		int n;

		if (join->slots[i].data != NULL) {
			i++;
			continue;
		}
		a = i + 1;
		while (i < join->total && join->slots[i].data == NULL)
			i++;
		b = i;
		n = a == b ? snprintf(item, sizeof item, "%s%u", first ? "" : ", ", a)
		           : snprintf(item, sizeof item, "%s%u-%u", first ? "" : ", ", a, b);
		first = false;
		if (used + (size_t)n + 4 >= size) {
			if (used + 4 < size)
				memcpy(out + used, "...", 4);
			return;
		}
		memcpy(out + used, item, (size_t)n + 1);
		used += (size_t)n;
	}
}

void cer_qr_join_status(const struct cer_qr_join *join, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (join->total == 0)
		snprintf(buf, size, "no part yet");
	else if (join->count == join->total)
		snprintf(buf, size, "all %u parts present", join->total);
	else {
		snprintf(buf, size, "have %u of %u parts; missing ", join->count, join->total);
		missing_list(join, buf, size);
	}
}

int cer_qr_join_finish(const struct cer_qr_join *join, uint8_t **data, size_t *len)
{
	uint8_t *stream = NULL, *file = NULL;
	uint8_t md[32];
	char id[ID_HEX + 1];
	size_t stream_len = 0, off = 0, flen;
	unsigned i;
	int ret;

	*data = NULL;
	*len = 0;
	if (join->total == 0)
		return cer_fail(CER_EINPUT, "no QR part given");
	if (join->count != join->total) {
		char msg[700];

		snprintf(msg, sizeof msg, "missing part%s ",
		         join->total - join->count > 1 ? "s" : "");
		missing_list(join, msg, sizeof msg);
		return cer_fail(CER_EINPUT, "%s of %u (file id %s; have %u): nothing written", msg,
		                join->total, join->id, join->count);
	}
	for (i = 0; i < join->total; i++)
		stream_len += join->slots[i].len;
	stream = malloc(stream_len);
	if (stream == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	for (i = 0; i < join->total; i++) {
		memcpy(stream + off, join->slots[i].data, join->slots[i].len);
		off += join->slots[i].len;
	}
	if (stream_len < STREAM_HEAD) {
		ret = cer_fail(CER_EINPUT, "joined parts are too short (%zu bytes) to hold a file",
		               stream_len);
		goto out;
	}
	flen = (size_t)stream[0] << 24 | (size_t)stream[1] << 16 | (size_t)stream[2] << 8 |
	       stream[3];
	if (join->zlib) {
		ret = cer_qr_inflate(stream + STREAM_HEAD, stream_len - STREAM_HEAD, flen, &file);
		if (ret != CER_OK) {
			cer_fail_context(ret, "joined SDC2 parts");
			goto out;
		}
	} else if (flen != stream_len - STREAM_HEAD) {
		ret = cer_fail(CER_EINPUT, "joined parts hold %zu bytes but part 1 says the file has "
		                           "%zu: nothing written",
		               stream_len - STREAM_HEAD, flen);
		goto out;
	}
	if (file == NULL) {
		file = malloc(flen + 1);
		if (file == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(file, stream + STREAM_HEAD, flen);
	}
	sha256(file, flen, md);
	upper_hex(md, ID_HEX / 2, id);
	if (sodium_memcmp(md, stream + 4, 32) != 0 || strcmp(id, join->id) != 0) {
		ret = cer_fail(CER_EINPUT, "joined file does not match the SHA-256 in part 1 "
		                           "(file id %s): nothing written", join->id);
		goto out;
	}
	file[flen] = 0;
	*data = file;
	*len = flen;
	file = NULL;
	ret = CER_OK;
out:
	free(file);
	free(stream);
	return ret;
}

int cer_qr_join_write(const struct cer_qr_join *join, const char *path, bool replace)
{
	uint8_t *data = NULL;
	size_t len;
	int ret;

	if (!replace && cer_path_exists(path))
		return cer_fail_exists(path);
	ret = cer_qr_join_finish(join, &data, &len);
	if (ret == CER_OK)
		ret = cer_file_write_atomic(path, data, len, replace ? CER_WRITE_REPLACE : 0);
	free(data);
	return ret;
}

/* Directories. */

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/*
 * The directory, once renamed into place, holds the page: some file systems
 * (fusefat) lose a directory's contents when it is renamed, and a split that
 * says it was written must be there.
 */
static int split_arrived(const char *dir)
{
	char *page = NULL;
	bool there;

	if (asprintf(&page, "%s/index.html", dir) < 0)
		return cer_fail(CER_EINTERNAL, "out of memory");
	there = cer_path_exists(page);
	free(page);
	if (!there) {
		rmdir(dir); /* only if empty, as it then is */
		return cer_fail(CER_EIO, "%s: the file system lost the parts when the directory was "
		                "renamed into place; write the split to another medium", dir);
	}
	return CER_OK;
}

/* NN.png, NN.txt (two or more digits) or index.html; kind: 't' for .txt. */
static bool split_name(const char *name, char *kind)
{
	size_t n = strlen(name);

	*kind = 0;
	if (strcmp(name, "index.html") == 0) {
		*kind = 'h';
		return true;
	}
	if (n < 6 || !all_digits(name, n - 4))
		return false;
	if (strcmp(name + n - 4, ".txt") == 0)
		*kind = 't';
	else if (strcmp(name + n - 4, ".png") == 0)
		*kind = 'p';
	return *kind != 0;
}

static int name_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

int cer_qr_set_load_dir(const char *dir, enum cer_qr_ec ec, struct cer_qr_set *set)
{
	struct cer_qr_join *join = NULL;
	DIR *d = NULL;
	struct dirent *e;
	char **names = NULL;
	size_t nnames = 0, i;
	uint8_t *file = NULL, md[32];
	size_t flen;
	int ret;

	memset(set, 0, sizeof *set);
	d = opendir(dir);
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	ret = cer_qr_join_new(&join);
	if (ret != CER_OK)
		goto out;
	while ((e = readdir(d)) != NULL) {
		char kind, **grown;

		if (!split_name(e->d_name, &kind) || kind != 't')
			continue;
		if (nnames >= CER_QR_MAX_PARTS) {
			ret = cer_fail(CER_EINPUT, "%s: more than %u part files", dir, CER_QR_MAX_PARTS);
			goto out;
		}
		grown = realloc(names, (nnames + 1) * sizeof *names);
		if (grown == NULL || (grown[nnames] = strdup(e->d_name)) == NULL) {
			names = grown != NULL ? grown : names;
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		names = grown;
		nnames++;
	}
	if (nnames == 0) {
		ret = cer_fail(CER_EINPUT, "%s: no part files (NN.txt) in it", dir);
		goto out;
	}
	qsort(names, nnames, sizeof *names, name_cmp);
	for (i = 0; i < nnames; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			goto out;
		}
		ret = cer_qr_join_add_file(join, path);
		free(path);
		if (ret != CER_OK)
			goto out;
	}
	ret = cer_qr_join_finish(join, &file, &flen);
	if (ret != CER_OK) {
		cer_fail_context(ret, dir);
		goto out;
	}
	set->parts = calloc(join->total, sizeof *set->parts);
	if (set->parts == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	set->count = join->total;
	for (i = 0; i < join->total; i++) {
		set->parts[i] = join->slots[i].text;
		join->slots[i].text = NULL;
	}
	sha256(file, flen, md);
	cer_hex_encode(md, 32, set->sha256_hex);
	memcpy(set->id, join->id, sizeof set->id);
	set->file_len = flen;
	set->ec = ec;
	ret = CER_OK;
out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(file);
	cer_qr_join_free(join);
	closedir(d);
	if (ret != CER_OK)
		cer_qr_set_free(set);
	return ret;
}

static unsigned max_part_width(const struct cer_qr_set *set, unsigned limit, int *ret)
{
	unsigned i, widest = 0;

	*ret = CER_OK;
	for (i = 0; i < set->count; i++) {
		struct cer_qr_code code;

		*ret = cer_qr_encode(set->parts[i], set->ec, &code);
		if (*ret != CER_OK)
			return UINT_MAX;
		if (code.width > widest)
			widest = code.width;
		cer_qr_code_free(&code);
		if (widest > limit)
			break;
	}
	return widest;
}

int cer_qr_split_fit(const uint8_t *data, size_t len, enum cer_qr_ec ec, unsigned max_width,
                     struct cer_qr_set *set)
{
	size_t lo = CER_QR_MIN_MAX_BYTES, hi = cer_qr_default_max_bytes(ec), best = 0;
	int ret;

	memset(set, 0, sizeof *set);
	while (lo <= hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct cer_qr_set trial;
		unsigned w;

		ret = cer_qr_split(data, len, mid, ec, &trial);
		if (ret == CER_EUSAGE) {
			lo = mid + 1;
			continue;
		}
		if (ret != CER_OK)
			return ret;
		w = max_part_width(&trial, max_width, &ret);
		cer_qr_set_free(&trial);
		if (ret != CER_OK && ret != CER_EINPUT)
			return ret;
		if (ret == CER_OK && w <= max_width) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	if (best == 0)
		return cer_fail(CER_EUSAGE, "the window is too small for QR codes (room for %u "
		                            "modules): enlarge it or use a smaller font", max_width);
	return cer_qr_split(data, len, best, ec, set);
}

static int remove_split_files(const char *dir, bool only_ours)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char kind, *path = NULL;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (only_ours && !split_name(e->d_name, &kind)) {
			ret = -1;
			continue;
		}
		if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
			ret = -1;
		else if (unlink(path) != 0)
			ret = -1;
		free(path);
	}
	closedir(d);
	return rmdir(dir) == 0 ? ret : -1;
}

/* 0: absent, 1: empty directory, 2: only a previous split's files; else status set. */
static int out_dir_state(const char *dir, bool replace, int *state)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int ret = CER_OK;

	*state = 0;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return CER_OK;
		return cer_fail(CER_EIO, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return cer_fail(CER_EIO, "%s: exists and is not a directory", dir);
	d = opendir(dir);
	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	*state = 1;
	while ((e = readdir(d)) != NULL) {
		char kind;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (!replace) {
			ret = cer_fail(CER_EIO, "%s: exists and is not empty (use --force to replace "
			                        "a previous split)", dir);
			break;
		}
		if (!split_name(e->d_name, &kind)) {
			ret = cer_fail(CER_EIO, "%s: holds '%.100s', which qr split did not write; "
			                        "not replacing it", dir, e->d_name);
			break;
		}
		*state = 2;
	}
	closedir(d);
	return ret;
}

static int write_parts(const struct cer_qr_set *set, const char *tmp, const char *title,
                       const struct cer_progress *progress, int *max_version)
{
	uint8_t **pngs = calloc(set->count, sizeof *pngs);
	size_t *lens = calloc(set->count, sizeof *lens);
	char *html = NULL, *path = NULL;
	size_t html_len;
	int digits = 2, ret = CER_OK;
	unsigned i;

	if (pngs == NULL || lens == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (set->count >= 100)
		digits = set->count >= 1000 ? 4 : 3;
	for (i = 0; i < set->count && ret == CER_OK; i++) {
		struct cer_qr_code code;
		char *line = NULL;

		ret = cer_qr_encode(set->parts[i], set->ec, &code);
		if (ret != CER_OK) {
			cer_fail_context(ret, "part does not fit");
			break;
		}
		if (code.version > *max_version)
			*max_version = code.version;
		ret = cer_qr_png(&code, CER_QR_PNG_MODULE_PX, CER_QR_PNG_QUIET, &pngs[i], &lens[i]);
		cer_qr_code_free(&code);
		if (ret != CER_OK)
			break;
		if (asprintf(&path, "%s/%0*u.png", tmp, digits, i + 1) < 0 ||
		    asprintf(&line, "%s\n", set->parts[i]) < 0) {
			free(path);
			path = NULL;
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			break;
		}
		ret = cer_file_write_atomic(path, pngs[i], lens[i], 0);
		path[strlen(path) - 3] = '\0';
		strcat(path, "txt");
		if (ret == CER_OK)
			ret = cer_file_write_atomic(path, line, strlen(line), 0);
		free(line);
		free(path);
		path = NULL;
		cer_progress_step(progress, "qr", i + 1, set->count);
	}
	if (ret != CER_OK)
		goto out;
	ret = cer_qr_html(set, title, pngs, lens, &html, &html_len);
	if (ret != CER_OK)
		goto out;
	if (asprintf(&path, "%s/index.html", tmp) < 0) {
		path = NULL;
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	ret = cer_file_write_atomic(path, html, html_len, 0);
out:
	for (i = 0; pngs != NULL && i < set->count; i++)
		free(pngs[i]);
	free(pngs);
	free(lens);
	free(html);
	free(path);
	return ret;
}

int cer_qr_split_dir(const char *path, const char *dir_arg, size_t max_bytes, enum cer_qr_ec ec,
                     bool replace, const struct cer_progress *progress)
{
	struct cer_qr_set set = { 0 };
	uint8_t *data = NULL;
	size_t len;
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int state, ret, version = 0;
	bool made_tmp = false;

	dir = strdup(dir_arg);
	if (dir == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	ret = cer_file_read(path, CER_QR_MAX_FILE, &data, &len);
	if (ret != CER_OK)
		goto out;
	ret = out_dir_state(dir, replace, &state);
	if (ret == CER_OK)
		ret = cer_stale_temps_check(dir, false);
	if (ret != CER_OK)
		goto out;
	ret = cer_qr_split(data, len, max_bytes, ec, &set);
	if (ret != CER_OK) {
		cer_fail_context(ret, path);
		goto out;
	}
	base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	if (asprintf(&tmp, "%s.tmp-XXXXXX", dir) < 0) {
		tmp = NULL;
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto out;
	}
	if (mkdtemp(tmp) == NULL) {
		ret = cer_fail(CER_EIO, "%s: cannot create a directory beside it: %s", dir,
		               strerror(errno));
		goto out;
	}
	made_tmp = true;
	ret = write_parts(&set, tmp, base, progress, &version);
	if (ret != CER_OK)
		goto out;
	if (chmod(tmp, 0755) != 0 && errno != EPERM && errno != ENOSYS) { /* FAT: no modes */
		ret = cer_fail(CER_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (state == 2) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
			ret = cer_fail(CER_EIO, "%s: cannot replace it: %s", dir, strerror(errno));
			goto out;
		}
		if (remove_split_files(tmp, true) != 0)
			cer_progress_note(progress, "%s: could not remove the previous split", tmp);
		made_tmp = false;
	} else if (rename(tmp, dir) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot create it: %s", dir,
		               errno == ENOTEMPTY || errno == EEXIST ? "it appeared meanwhile"
		                                                     : strerror(errno));
		goto out;
	} else {
		made_tmp = false;
	}
	ret = split_arrived(dir);
	if (ret != CER_OK)
		goto out;
	cer_progress_note(progress, "%s: %u parts of %s (%zu bytes, SHA-256 %s), QR version %d "
	                            "or below at level %c", dir, set.count, base, set.file_len,
	                  set.sha256_hex, version, cer_qr_ec_letter(ec));
	ret = CER_OK;
out:
	if (made_tmp)
		remove_split_files(tmp, false);
	free(tmp);
	free(dir);
	free(data);
	cer_qr_set_free(&set);
	return ret;
}
