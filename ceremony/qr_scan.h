#ifndef CER_QR_SCAN_H
#define CER_QR_SCAN_H

/*
 * Reading QR parts off frames (libzbar), for `qr scan` and the wizard.
 *
 * A frame source hands out grey-scale frames; the decoder finds every QR
 * code in a frame and gives each code's text to a cer_qr_join, which checks
 * it exactly as `qr join` checks a line (cer_qr_join_add_code).  The scan
 * loop ties the two together and calls back after every frame, so that a
 * front end can show progress and stop the scan.  Two sources exist: a
 * camera (a V4L2 device through zbar_video, ceremony/qr_camera.c: the only
 * part that tests cannot reach) and PNG files (cer_qr_png_frames_open);
 * tests can also bring their own.  Everything here is public data.
 */

#include <stdbool.h>
#include <stdint.h>

#include "ceremony/cer.h"
#include "ceremony/qr.h"

/* Frames larger than this (either side, in pixels) are refused. */
#define CER_QR_FRAME_MAX_SIDE 8192u

/*
 * One frame: width * height bytes, row-major, one byte a pixel (0 black,
 * 255 white), owned by the source and valid until its next call.  grey is
 * NULL when no frame came within the source's wait (a camera polls, so that
 * the caller gets control back a few times a second); end is true when the
 * source has no more frames (files; never a camera).  name says where the
 * frame comes from in messages ("frames/03.png", "camera frame 120").
 */
struct cer_qr_frame {
	const uint8_t *grey;
	unsigned width, height;
	bool end;
	char name[256];
};

/*
 * A frame source.  next fills *frame (CER_OK) or fails with a message
 * (CER_EIO for a device or file that cannot be read, CER_EINPUT for a file
 * that is not a PNG or is too large).  close frees what ctx holds; it is
 * called once, by cer_qr_frames_close.
 */
struct cer_qr_frames {
	int (*next)(void *ctx, struct cer_qr_frame *frame);
	void (*close)(void *ctx);
	void *ctx;
};

void cer_qr_frames_close(struct cer_qr_frames *src);

/*
 * Frames read from PNG files (grey, colour or palette, any bit depth; alpha
 * composed on white), one frame a file in the order given; paths are not
 * copied and must outlive the source.  A file is read when its turn comes.
 */
int cer_qr_png_frames_open(const char *const *paths, unsigned count,
                           struct cer_qr_frames *src) CER_WUR;

/*
 * The camera: a V4L2 capture device (NULL: CER_QR_CAMERA_DEFAULT) opened
 * with libzbar's video interface, each frame converted to grey.  next waits
 * at most about 200 ms for a frame.  CER_EIO naming the device when it
 * cannot be opened or started.  cer_qr_camera_present says whether device
 * exists as a character device (nothing is opened).
 */
#define CER_QR_CAMERA_DEFAULT "/dev/video0"
int cer_qr_camera_open(const char *device, struct cer_qr_frames *src) CER_WUR;
bool cer_qr_camera_present(const char *device);

/* The decoder: a zbar image scanner for QR codes only, no D-Bus. */
struct cer_qr_decoder;
int cer_qr_decoder_new(struct cer_qr_decoder **dec) CER_WUR;
void cer_qr_decoder_free(struct cer_qr_decoder *dec);

/*
 * Decodes every QR code in frame and adds its text to join
 * (cer_qr_join_add_code, messages starting with frame->name).  *codes is
 * the number of codes read, *added the number of parts join did not hold
 * before.  A bad part (corrupted, another file, another split) fails with
 * join's CER_EINPUT; a code with no part marker is skipped as join does in
 * lenient mode.
 */
int cer_qr_decode_frame(struct cer_qr_decoder *dec, const struct cer_qr_frame *frame,
                        struct cer_qr_join *join, unsigned *codes, unsigned *added) CER_WUR;

/* What the scan has done so far, for the per-frame callback. */
struct cer_qr_scan_state {
	unsigned frames; /* frames decoded */
	unsigned codes;  /* QR codes read in them, repeats included */
	unsigned added;  /* parts first seen in the last frame */
	bool waiting;    /* the last call brought no frame (camera wait) */
	const char *frame_name;
	const struct cer_qr_join *join;
};

/*
 * Called after every frame (and every empty wait); CER_OK goes on, any
 * other status stops the scan and is returned (the callback sets the
 * message, e.g. "interrupted" or "cancelled").
 */
typedef int cer_qr_scan_cb(void *ctx, const struct cer_qr_scan_state *state);

/*
 * Reads frames from src into join until join is complete (CER_OK), the
 * source ends (CER_OK: cer_qr_join_finish then names the missing parts,
 * exactly as for `qr join`), a part is refused (CER_EINPUT), the source
 * fails, or cb stops it.  join should be lenient (cer_qr_join_set_lenient):
 * a camera sees other codes too.
 */
int cer_qr_scan(struct cer_qr_frames *src, struct cer_qr_decoder *dec, struct cer_qr_join *join,
                cer_qr_scan_cb *cb, void *ctx) CER_WUR;

#endif
