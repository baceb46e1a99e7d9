#include "ui/qrscan.h"

#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ceremony/codec.h"
#include "ceremony/crypto.h"
#include "ui/qrview.h"
#include "ui/ui.h"

static ui_qrscan_open_fn *source_open;
static void *source_ctx;
static char source_label[128];

/*
 * Injected PNG frames behave as a camera's stream: a scan goes on from the
 * frame after the last one an earlier scan read.
 */
struct images {
	const char *const *paths;
	unsigned count, pos;
};
static struct images injected;

struct image_stream {
	struct cer_qr_frames files;
	struct images *im;
};

static int stream_next(void *ctx, struct cer_qr_frame *frame)
{
	struct image_stream *st = ctx;
	int ret = st->files.next(st->files.ctx, frame);

	if (ret != CER_OK || !frame->end)
		st->im->pos++;
	return ret;
}

static void stream_close(void *ctx)
{
	struct image_stream *st = ctx;

	cer_qr_frames_close(&st->files);
	free(st);
}

void ui_qrscan_set_source(ui_qrscan_open_fn *open, void *ctx, const char *label)
{
	source_open = open;
	source_ctx = ctx;
	snprintf(source_label, sizeof source_label, "%s", label != NULL ? label : "frames");
}

static int open_images(void *ctx, struct cer_qr_frames *src)
{
	struct images *im = ctx;
	struct image_stream *st = calloc(1, sizeof *st);
	int ret;

	memset(src, 0, sizeof *src);
	if (st == NULL)
		return cer_fail(CER_EINTERNAL, "out of memory");
	st->im = im;
	ret = cer_qr_png_frames_open(im->paths + im->pos, im->count - im->pos, &st->files);
	if (ret != CER_OK) {
		free(st);
		return ret;
	}
	src->next = stream_next;
	src->close = stream_close;
	src->ctx = st;
	return CER_OK;
}

void ui_qrscan_set_images(const char *const *paths, unsigned count)
{
	injected.paths = paths;
	injected.count = count;
	injected.pos = 0;
	ui_qrscan_set_source(open_images, &injected, "test frames (PNG files)");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ui_qrscan_set_image_dir(const char *dir)
{
	static char **paths;
	static unsigned count;
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned i;
	int ret = CER_OK;

	if (d == NULL)
		return cer_fail(CER_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	paths = NULL;
	count = 0;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char **grown;

		if (n < 5 || strcmp(e->d_name + n - 4, ".png") != 0)
			continue;
		grown = realloc(paths, (count + 1) * sizeof *paths);
		if (grown == NULL) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			break;
		}
		paths = grown;
		if (asprintf(&paths[count], "%s/%s", dir, e->d_name) < 0) {
			ret = cer_fail(CER_EINTERNAL, "out of memory");
			break;
		}
		count++;
	}
	closedir(d);
	if (ret == CER_OK && count == 0)
		ret = cer_fail(CER_EINPUT, "%s: no PNG file in it", dir);
	if (ret != CER_OK)
		return ret;
	qsort(paths, count, sizeof *paths, name_cmp);
	ui_qrscan_set_images((const char *const *)paths, count);
	snprintf(source_label, sizeof source_label, "test frames (%.100s)", dir);
	return CER_OK;
}

const char *ui_qrscan_source_name(void)
{
	if (source_open != NULL)
		return source_label;
	return "camera " CER_QR_CAMERA_DEFAULT;
}

bool ui_qrscan_available(void)
{
	return source_open != NULL || cer_qr_camera_present(NULL);
}

static int open_source(struct cer_qr_frames *src)
{
	if (source_open != NULL)
		return source_open(source_ctx, src);
	return cer_qr_camera_open(NULL, src);
}

int ui_qrscan_run(struct cer_qr_join *join, cer_qr_scan_cb *cb, void *ctx)
{
	struct cer_qr_frames src = {0};
	struct cer_qr_decoder *dec = NULL;
	int ret = cer_qr_decoder_new(&dec);

	if (ret == CER_OK)
		ret = open_source(&src);
	if (ret == CER_OK)
		ret = cer_qr_scan(&src, dec, join, cb, ctx);
	cer_qr_frames_close(&src);
	cer_qr_decoder_free(dec);
	return ret;
}

/* The full-screen view. */

struct view {
	WINDOW *win;
	const char *what;
	unsigned frames, codes, frames_base, codes_base;
	char refusal[512];
};

static bool terminal_gone(void)
{
	struct termios t;

	return tcgetattr(STDIN_FILENO, &t) != 0 && errno != EINTR;
}

static void draw(struct view *v, const struct cer_qr_join *join, const char *done)
{
	char line[600], status[400];
	int h, w, y = 1;

	getmaxyx(v->win, h, w);
	werase(v->win);
	snprintf(line, sizeof line, "Scanning %s from %s", v->what, ui_qrscan_source_name());
	wattron(v->win, A_BOLD);
	mvwaddnstr(v->win, y++, 2, line, w - 4);
	wattroff(v->win, A_BOLD);
	y++;
	if (done == NULL)
		y = ui_qr_wrap(v->win, y, 2,
		               "Show the codes to the camera one after another (index.html in a "
		               "browser "
		               "on the other machine, or its 'qr show'), 20 to 40 cm away; the "
		               "scan ends "
		               "by itself when every part is in.") +
		    1;
	cer_qr_join_status(join, status, sizeof status);
	snprintf(line, sizeof line, "Parts: %s", status);
	y = ui_qr_wrap(v->win, y, 2, line);
	snprintf(line, sizeof line, "Frames read: %u, codes seen: %u", v->frames, v->codes);
	mvwaddnstr(v->win, y++, 2, line, w - 4);
	y++;
	if (v->refusal[0] != '\0') {
		if (done != NULL)
			snprintf(line, sizeof line, "Refused on the way, not used: [FAIL] %s",
			         v->refusal);
		else
			snprintf(line, sizeof line, "[FAIL] %s (scanning goes on)", v->refusal);
		y = ui_qr_wrap(v->win, y, 2, line) + 1;
	}
	while (done != NULL && *done != '\0') {
		const char *nl = strchr(done, '\n');
		size_t n = nl != NULL ? (size_t)(nl - done) : strlen(done);

		snprintf(line, sizeof line, "%.*s", (int)n, done);
		y = ui_qr_wrap(v->win, y, 2, line);
		done = nl != NULL ? nl + 1 : done + n;
	}
	(void)y;
	mvwaddnstr(v->win, h - 1, 2, done != NULL ? "any key: go on" : "Esc: stop scanning", w - 4);
	wnoutrefresh(v->win);
	doupdate();
}

static int view_step(void *ctx, const struct cer_qr_scan_state *st)
{
	struct view *v = ctx;
	int ch;

	v->frames = v->frames_base + st->frames;
	v->codes = v->codes_base + st->codes;
	draw(v, st->join, NULL);
	ch = wgetch(v->win);
	if (ch == ERR && terminal_gone())
		return cer_fail(CER_EIO, "the terminal is gone");
	if (ch == 27 || ch == 'q' || ch == 'Q')
		return cer_fail(CER_EUSAGE, "scan cancelled");
	if (ch == KEY_RESIZE) {
		wresize(v->win, LINES, COLS);
		clearok(v->win, TRUE);
	}
	return CER_OK;
}

static int scan_loop(struct view *v, struct cer_qr_join *join)
{
	struct cer_qr_frames src = {0};
	struct cer_qr_decoder *dec = NULL;
	int ret = cer_qr_decoder_new(&dec);

	if (ret == CER_OK)
		ret = open_source(&src);
	while (ret == CER_OK && !cer_qr_join_complete(join)) {
		ret = cer_qr_scan(&src, dec, join, view_step, v);
		if (ret != CER_EINPUT)
			break;
		snprintf(v->refusal, sizeof v->refusal, "%s", cer_errmsg());
		/* The refused frame was read, its step not called. */
		v->frames_base = v->frames + 1;
		v->codes_base = v->codes + 1;
		ret = CER_OK;
	}
	cer_qr_frames_close(&src);
	cer_qr_decoder_free(dec);
	return ret;
}

static int show_done(struct view *v, struct cer_qr_join *join)
{
	uint8_t *data = NULL, md[CER_SHA256_LEN];
	size_t len = 0;
	char hex[2 * CER_SHA256_LEN + 1], msg[300];
	int ret = cer_qr_join_finish(join, &data, &len), ch;

	if (ret == CER_OK)
		ret = cer_sha256(data, len, md);
	free(data);
	if (ret != CER_OK)
		return ret;
	cer_hex_encode(md, sizeof md, hex);
	snprintf(msg, sizeof msg,
	         "[OK] all %u parts read: %zu bytes.\nSHA-256 %s\nCompare it with the "
	         "SHA-256 shown on the other side.",
	         cer_qr_join_total(join), len, hex);
	wtimeout(v->win, -1);
	for (;;) {
		draw(v, join, msg);
		ch = wgetch(v->win);
		if (ch == KEY_RESIZE) {
			wresize(v->win, LINES, COLS);
			clearok(v->win, TRUE);
			continue;
		}
		if (ch == ERR && terminal_gone())
			return cer_fail(CER_EIO, "the terminal is gone");
		if (ch != ERR)
			return CER_OK;
	}
}

int ui_qrscan_view(struct cer_qr_join *join, const char *what)
{
	struct view v = {.what = what};
	bool started = false, resumed = false;
	int ret, cursor = ERR;

	if (stdscr == NULL) {
		if (!ui_interactive())
			return cer_fail(CER_EUSAGE,
			                "the scan view needs a terminal (use 'qr scan')");
		if (initscr() == NULL)
			return cer_fail(CER_EINTERNAL, "cannot start the terminal screen");
		started = true;
		cbreak();
		noecho();
		nonl();
		set_escdelay(50);
	} else if (isendwin()) {
		refresh();
		resumed = true;
	}
	v.win = newwin(0, 0, 0, 0);
	if (v.win == NULL) {
		ret = cer_fail(CER_EINTERNAL, "cannot create a window for the scan");
		goto out;
	}
	keypad(v.win, TRUE);
	wtimeout(v.win, 0);
	cursor = curs_set(0);
	ret = scan_loop(&v, join);
	if (ret == CER_OK && !cer_qr_join_complete(join)) {
		uint8_t *data = NULL;
		size_t len;

		ret = cer_qr_join_finish(join, &data, &len);
		free(data);
		if (ret == CER_OK)
			ret = cer_fail(CER_EINTERNAL, "scan ended without a complete set");
		else
			cer_fail_context(ret, "the frames ended");
	} else if (ret == CER_OK) {
		ret = show_done(&v, join);
	}
	if (cursor != ERR)
		curs_set(cursor);
out:
	if (v.win != NULL)
		delwin(v.win);
	if (started || resumed) {
		endwin();
	} else {
		touchwin(stdscr);
		wnoutrefresh(stdscr);
	}
	return ret;
}
