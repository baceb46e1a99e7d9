#include "ceremony/qr_scan.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

struct cer_qr_decoder {
	zbar_image_scanner_t *scanner;
	zbar_image_t *image;
};

int cer_qr_decoder_new(struct cer_qr_decoder **out)
{
	struct cer_qr_decoder *dec = calloc(1, sizeof *dec);

	*out = NULL;
	if (dec == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	dec->scanner = zbar_image_scanner_create();
	dec->image = zbar_image_create();
	if (dec->scanner == NULL || dec->image == NULL ||
	    zbar_image_scanner_set_config(dec->scanner, 0, ZBAR_CFG_ENABLE, 0) != 0 ||
	    zbar_image_scanner_set_config(dec->scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1) != 0) {
		cer_qr_decoder_free(dec);
		return cer_fail(CER_EINTERNAL, "cannot set up the QR decoder (libzbar)");
	}
	/* Fails harmlessly when libzbar is built without D-Bus. */
	(void)zbar_image_scanner_request_dbus(dec->scanner, 0);
	zbar_image_set_format(dec->image, zbar_fourcc('Y', '8', '0', '0'));
	*out = dec;
	return CER_OK;
}

void cer_qr_decoder_free(struct cer_qr_decoder *dec)
{
	if (dec == NULL)
		return;
	if (dec->image != NULL)
		zbar_image_destroy(dec->image);
	if (dec->scanner != NULL)
		zbar_image_scanner_destroy(dec->scanner);
	free(dec);
}

int cer_qr_decode_frame(struct cer_qr_decoder *dec, const struct cer_qr_frame *frame,
                        struct cer_qr_join *join, unsigned *codes, unsigned *added)
{
	const zbar_symbol_t *sym;
	unsigned before = cer_qr_join_count(join);
	int n, ret = CER_OK;

	*codes = 0;
	*added = 0;
	if (frame->grey == NULL)
		return CER_OK;
	if (frame->width == 0 || frame->height == 0 || frame->width > CER_QR_FRAME_MAX_SIDE ||
	    frame->height > CER_QR_FRAME_MAX_SIDE)
		return cer_fail(CER_EINPUT, "%s: a frame of %u x %u pixels (limit %u a side)",
		                frame->name, frame->width, frame->height, CER_QR_FRAME_MAX_SIDE);
	zbar_image_scanner_recycle_image(dec->scanner, dec->image);
	zbar_image_set_size(dec->image, frame->width, frame->height);
	zbar_image_set_data(dec->image, frame->grey, (unsigned long)frame->width * frame->height,
	                    NULL);
	n = zbar_scan_image(dec->scanner, dec->image);
	if (n < 0) {
		ret = cer_fail(CER_EINTERNAL, "%s: the QR decoder (libzbar) failed", frame->name);
		goto out;
	}
	for (sym = zbar_image_first_symbol(dec->image); sym != NULL && ret == CER_OK;
	     sym = zbar_symbol_next(sym)) {
		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
			continue;
		(*codes)++;
		ret = cer_qr_join_add_code(join, frame->name, zbar_symbol_get_data(sym),
		                           zbar_symbol_get_data_length(sym));
	}
out:
	zbar_image_set_data(dec->image, NULL, 0, NULL);
	*added = cer_qr_join_count(join) - before;
	return ret;
}

void cer_qr_frames_close(struct cer_qr_frames *src)
{
	if (src == NULL)
		return;
	if (src->close != NULL)
		src->close(src->ctx);
	memset(src, 0, sizeof *src);
}

int cer_qr_scan(struct cer_qr_frames *src, struct cer_qr_decoder *dec, struct cer_qr_join *join,
                cer_qr_scan_cb *cb, void *ctx)
{
	struct cer_qr_scan_state st = {.join = join};
	struct cer_qr_frame frame;
	int ret = CER_OK;

	while (!cer_qr_join_complete(join)) {
		memset(&frame, 0, sizeof frame);
		ret = src->next(src->ctx, &frame);
		if (ret != CER_OK || frame.end)
			break;
		st.waiting = frame.grey == NULL;
		st.added = 0;
		st.frame_name = frame.name;
		if (!st.waiting) {
			unsigned codes, added;

			st.frames++;
			ret = cer_qr_decode_frame(dec, &frame, join, &codes, &added);
			st.codes += codes;
			st.added = added;
			if (ret != CER_OK)
				break;
		}
		if (cb != NULL && (ret = cb(ctx, &st)) != CER_OK)
			break;
	}
	return ret;
}

/* PNG files. */

struct png_frames {
	const char *const *paths;
	unsigned count, next;
	uint8_t *pixels;
};

static int png_next(void *ctx, struct cer_qr_frame *frame)
{
	struct png_frames *pf = ctx;
	png_image img;
	const char *path;
	png_color white = {255, 255, 255};
	size_t size;

	free(pf->pixels);
	pf->pixels = NULL;
	if (pf->next >= pf->count) {
		frame->end = true;
		return CER_OK;
	}
	path = pf->paths[pf->next++];
	snprintf(frame->name, sizeof frame->name, "%.250s", path);
	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	errno = 0;
	if (!png_image_begin_read_from_file(&img, path)) {
		int ret = errno == ENOENT || errno == EACCES || errno == EISDIR || errno == EINTR
		                  ? cer_fail(CER_EIO, "%s: cannot read: %s", path, strerror(errno))
		                  : cer_fail(CER_EINPUT, "%s: not a PNG image (%s)", path,
		                             img.message);

		png_image_free(&img);
		return ret;
	}
	if (img.width == 0 || img.height == 0 || img.width > CER_QR_FRAME_MAX_SIDE ||
	    img.height > CER_QR_FRAME_MAX_SIDE) {
		png_image_free(&img);
		return cer_fail(CER_EINPUT, "%s: an image of %u x %u pixels (limit %u a side)",
		                path, img.width, img.height, CER_QR_FRAME_MAX_SIDE);
	}
	img.format = PNG_FORMAT_GRAY;
	size = PNG_IMAGE_SIZE(img);
	pf->pixels = malloc(size);
	if (pf->pixels == NULL) {
		png_image_free(&img);
		return cer_fail(CER_EINTERNAL, "out of memory");
	}
	if (!png_image_finish_read(&img, &white, pf->pixels, 0, NULL)) {
		int ret = cer_fail(CER_EINPUT, "%s: a damaged PNG image (%s)", path, img.message);

		png_image_free(&img);
		free(pf->pixels);
		pf->pixels = NULL;
		return ret;
	}
	frame->grey = pf->pixels;
	frame->width = img.width;
	frame->height = img.height;
	png_image_free(&img);
	return CER_OK;
}

static void png_close(void *ctx)
{
	struct png_frames *pf = ctx;

	if (pf == NULL)
		return;
	free(pf->pixels);
	free(pf);
}

int cer_qr_png_frames_open(const char *const *paths, unsigned count, struct cer_qr_frames *src)
{
	struct png_frames *pf = calloc(1, sizeof *pf);

	memset(src, 0, sizeof *src);
	if (pf == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	pf->paths = paths;
	pf->count = count;
	src->next = png_next;
	src->close = png_close;
	src->ctx = pf;
	return CER_OK;
}
