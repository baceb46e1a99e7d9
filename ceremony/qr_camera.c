#include "ceremony/qr_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* A V4L2 device that captures video: asked, not started (libv4l would print
 * its own complaints about anything else on stderr). */
static int capture_device(const char *device)
{
	struct stat st;
	struct v4l2_capability cap;
	uint32_t caps;
	int fd, ret = CER_OK;

	if (stat(device, &st) != 0)
		return cer_fail(CER_EIO, "%s: no camera (%s)", device, strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return cer_fail(CER_EIO, "%s: no camera (not a video device)", device);
	fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return cer_fail(CER_EIO, "%s: cannot open the camera: %s", device, strerror(errno));
	memset(&cap, 0, sizeof cap);
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap) != 0) {
		ret = cer_fail(CER_EIO, "%s: no camera (not a video device)", device);
	} else {
		caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps
		                                                 : cap.capabilities;
		if (!(caps & V4L2_CAP_VIDEO_CAPTURE))
			ret = cer_fail(CER_EIO,
			               "%s: no camera (a video device that does not capture)",
			               device);
	}
	close(fd);
	return ret;
}

bool cer_qr_camera_present(const char *device)
{
	return capture_device(device != NULL ? device : CER_QR_CAMERA_DEFAULT) == CER_OK;
}

/* libzbar's error text on one line, without its "ERROR: ... in f():" head. */
static void zbar_reason(const zbar_video_t *video, char *out, size_t size)
{
	const char *s = zbar_video_error_string(video, 0), *p;
	size_t o = 0;
	bool space = false;

	if (s == NULL)
		s = "unknown error";
	if ((p = strstr(s, "system error: ")) != NULL)
		s = p + strlen("system error: ");
	else if ((p = strstr(s, "():")) != NULL)
		s = p + 3;
	for (; *s != '\0' && o + 1 < size; s++) {
		if (*s == '\n' || *s == '\t' || *s == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			out[o++] = ' ';
		space = false;
		out[o++] = *s;
	}
	out[o] = '\0';
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
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, CAMERA_WAIT_MS);

		if (n < 0 && errno != EINTR)
			return cer_fail(CER_EIO, "%s: waiting for a frame: %s", c->device,
			                strerror(errno));
		if (n <= 0)
			return CER_OK;
	}
	raw = zbar_video_next_image(c->video);
	if (raw == NULL) {
		char why[256];

		zbar_reason(c->video, why, sizeof why);
		return cer_fail(CER_EIO, "%s: no frame from the camera: %s", c->device, why);
	}
	c->grey = zbar_image_convert(raw, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_destroy(raw);
	if (c->grey == NULL)
		return cer_fail(CER_EIO, "%s: cannot convert the camera's frame to grey",
		                c->device);
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
	ret = capture_device(device);
	if (ret != CER_OK)
		goto fail;
	c->video = zbar_video_create();
	if (c->video == NULL) {
		ret = cer_fail(CER_EINTERNAL, "out of memory");
		goto fail;
	}
	if (zbar_video_open(c->video, device) != 0 || zbar_negotiate_format(c->video, NULL) != 0 ||
	    zbar_video_enable(c->video, 1) != 0) {
		char why[256];

		zbar_reason(c->video, why, sizeof why);
		ret = cer_fail(CER_EIO, "%s: cannot start the camera: %s", device, why);
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
