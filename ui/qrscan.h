#ifndef UI_QRSCAN_H
#define UI_QRSCAN_H

/*
 * Taking a file in by camera, for the wizard (the exchange key, the
 * security-domain file): the parts go into a cer_qr_join that the caller
 * owns, so that scanned and pasted parts can be mixed, and the caller
 * finishes the join (cer_qr_join_finish) as it does for pasted parts.
 *
 * The frames come from the camera (CER_QR_CAMERA_DEFAULT) unless a source
 * was set with ui_qrscan_set_source or ui_qrscan_set_images: that is how
 * tests push PNG frames through the same decoder (the wizard's hidden
 * --scan-images option).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/qr.h"
#include "ceremony/qr_scan.h"

/* Opens a frame source into *src (CER_OK) or fails with a message. */
typedef int ui_qrscan_open_fn(void *ctx, struct cer_qr_frames *src);

/* Replaces the camera by open(ctx); label names it on screen ("test frames"). */
void ui_qrscan_set_source(ui_qrscan_open_fn *open, void *ctx, const char *label);
/*
 * Replaces the camera by PNG files (paths must outlive every scan), in this
 * order, as one stream: each scan goes on where the last one stopped reading.
 */
void ui_qrscan_set_images(const char *const *paths, unsigned count);
/*
 * As ui_qrscan_set_images with every *.png file of dir, in name order (the
 * wizard's hidden --scan-images DIR).  CER_EIO if dir cannot be read,
 * CER_EINPUT if it holds no PNG file.
 */
int ui_qrscan_set_image_dir(const char *dir) CER_WUR;
/* What is scanned from: "camera /dev/video0", or the label of the source set. */
const char *ui_qrscan_source_name(void);

/* A camera is there (or a source was set): offer scanning besides pasting. */
bool ui_qrscan_available(void);

/*
 * The scan loop without a screen: opens the source, reads frames into join
 * until it is complete (CER_OK), the frames end (CER_OK, join incomplete),
 * a part is refused (CER_EINPUT, join keeps the parts before it), the
 * source fails, or cb returns non-zero (that status).  cb is called after
 * every frame and at least five times a second with a camera; it may draw
 * and read keys.  The source is closed before returning.
 */
int ui_qrscan_run(struct cer_qr_join *join, cer_qr_scan_cb *cb, void *ctx) CER_WUR;

/*
 * A full-screen scan view over ui_qrscan_run, for the wizard (curses
 * running) or alone (it starts and ends curses, like ui_qr_view): what is
 * scanned (what, e.g. "the exchange key"), the parts held, the missing
 * numbers, the frames read and the last refusal.  A refused code is shown
 * and scanning goes on (a camera keeps seeing the code until it is moved
 * away), as the wizard goes on after a bad pasted part.  When the set is
 * complete it joins it and shows the file's length and SHA-256 until a key
 * is pressed (with the last refusal, if any), then returns CER_OK; the caller finishes the join
 * again to get the data.  Esc or q returns CER_EUSAGE ("scan cancelled"), the parts kept in join;
 * frames that end first return CER_EINPUT naming the missing parts.  The caller redraws its own
 * screen after.
 */
int ui_qrscan_view(struct cer_qr_join *join, const char *what) CER_WUR;

#endif
