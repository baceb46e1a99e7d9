#include "ceremony/qr_scan.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zbar.h>

/*
 * The one part of scanning that only a real device exercises: open it with
 * zbar_video, wait for a frame (poll, so that the caller regains control),
 * convert it to grey and hand it on.  Checked by hand (docs/qr.md).
 */

#define CAMERA_WAIT_MS 200

struct camera {
	zbar_video_t *video;
	zbar_image_t *grey;
	unsigned serial;
	char device[200];
};

bool cer_qr_camera_present(const char *device)
{
	struct stat st;

	return stat(device != NULL ? device : CER_QR_CAMERA_DEFAULT, &st) == 0 &&
	       S_ISCHR(st.st_mode);
}

static void camera_close(void *ctx)
{
	struct camera *c = ctx;

	if (c == NULL)
		return;
	if (c->grey != NULL)
		zbar_image_destroy(c->grey);
	if (c->video != NULL) {
		zbar_video_enable(c->video, 0);
		zbar_video_destroy(c->video);
	}
	free(c);
}

static int camera_next(void *ctx, struct cer_qr_frame *frame)
{
	struct camera *c = ctx;
	zbar_image_t *raw;
	int fd = zbar_video_get_fd(c->video);

	if (c->grey != NULL) {
		zbar_image_destroy(c->grey);
		c->grey = NULL;
	}
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, CAMERA_WAIT_MS);

		if (n < 0 && errno != EINTR)
			return cer_fail(CER_EIO, "%s: waiting for a frame: %s", c->device,
			                strerror(errno));
		if (n <= 0)
			return CER_OK;
	}
	raw = zbar_video_next_image(c->video);
	if (raw == NULL)
		return cer_fail(CER_EIO, "%s: no frame from the camera: %s", c->device,
		                zbar_video_error_string(c->video, 0));
	c->grey = zbar_image_convert(raw, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_destroy(raw);
	if (c->grey == NULL)
		return cer_fail(CER_EIO, "%s: cannot convert the camera's frame to grey", c->device);
	frame->grey = zbar_image_get_data(c->grey);
	frame->width = zbar_image_get_width(c->grey);
	frame->height = zbar_image_get_height(c->grey);
	snprintf(frame->name, sizeof frame->name, "%s frame %u", c->device, ++c->serial);
	return CER_OK;
}

int cer_qr_camera_open(const char *device, struct cer_qr_frames *src)
{
	struct camera *c = calloc(1, sizeof *c);
	int ret;

	memset(src, 0, sizeof *src);
	if (device == NULL)
		device = CER_QR_CAMERA_DEFAULT;
	if (c == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	snprintf(c->device, sizeof c->device, "%.190s", device);
	if (!cer_qr_camera_present(device)) {
		ret = cer_fail(CER_EIO, "%s: no camera (not a video device)", device);
		goto fail;
	}
	c->video = zbar_video_create();
	if (c->video == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto fail;
	}
	if (zbar_video_open(c->video, device) != 0 || zbar_negotiate_format(c->video, NULL) != 0 ||
	    zbar_video_enable(c->video, 1) != 0) {
		ret = cer_fail(CER_EIO, "%s: cannot start the camera: %s", device,
		               zbar_video_error_string(c->video, 0));
		goto fail;
	}
	src->next = camera_next;
	src->close = camera_close;
	src->ctx = c;
	return CER_OK;
fail:
	camera_close(c);
	return ret;
}
