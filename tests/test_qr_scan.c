#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony/cer.h"
#include "ceremony/qr.h"
#include "ceremony/qr_scan.h"

/*
 * The scan loop and the zbar decoder, fed by a frame source of the test's
 * own: grey frames drawn in memory from cer_qr_encode's modules.
 */

#define PX 3u
#define QUIET 4u

struct canvas {
	uint8_t *grey;
	unsigned w, h;
};

static void canvas_new(struct canvas *c, unsigned w, unsigned h, uint8_t shade)
{
	c->w = w;
	c->h = h;
	c->grey = malloc((size_t)w * h);
	assert_non_null(c->grey);
	memset(c->grey, shade, (size_t)w * h);
}

/* Draws text's code with its top left quiet-zone corner at x, y. */
static void canvas_code(struct canvas *c, const char *text, unsigned x, unsigned y)
{
	struct cer_qr_code code;
	unsigned i, j, side;

	assert_int_equal(cer_qr_encode(text, CER_QR_EC_L, &code), CER_OK);
	side = (code.width + 2 * QUIET) * PX;
	assert_true(x + side <= c->w && y + side <= c->h);
	for (j = 0; j < side; j++)
		for (i = 0; i < side; i++) {
			unsigned mx = i / PX, my = j / PX;
			bool dark = mx >= QUIET && my >= QUIET && mx < QUIET + code.width &&
			            my < QUIET + code.width &&
			            code.modules[(my - QUIET) * code.width + (mx - QUIET)];

			c->grey[(size_t)(y + j) * c->w + x + i] = dark ? 0 : 255;
		}
	cer_qr_code_free(&code);
}

/* A scripted source: frames in order, NULL grey = a wait, then the end. */
struct script {
	struct canvas *frames;
	unsigned count, next, closed;
	int fail_at; /* index that fails with CER_EIO, or -1 */
};

static int script_next(void *ctx, struct cer_qr_frame *f)
{
	struct script *s = ctx;

	if ((int)s->next == s->fail_at)
		return cer_fail(CER_EIO, "scripted device gone at frame %u", s->next + 1);
	if (s->next >= s->count) {
		f->end = true;
		return CER_OK;
	}
	f->grey = s->frames[s->next].grey;
	f->width = s->frames[s->next].w;
	f->height = s->frames[s->next].h;
	snprintf(f->name, sizeof f->name, "frame %u", s->next + 1);
	s->next++;
	return CER_OK;
}

static void script_close(void *ctx)
{
	((struct script *)ctx)->closed++;
}

struct seen {
	unsigned calls, waits, frames, codes, added_total, stop_after;
	unsigned count_at[16];
};

static int on_frame(void *ctx, const struct cer_qr_scan_state *st)
{
	struct seen *s = ctx;

	if (s->calls < 16)
		s->count_at[s->calls] = cer_qr_join_count(st->join);
	s->calls++;
	s->waits += st->waiting;
	s->frames = st->frames;
	s->codes = st->codes;
	s->added_total += st->added;
	if (s->stop_after != 0 && s->calls == s->stop_after)
		return cer_fail(CER_EUSAGE, "stopped by the test");
	return CER_OK;
}

static struct cer_qr_set split_of(size_t len, uint32_t seed, size_t max_bytes)
{
	struct cer_qr_set set;
	uint8_t *data = malloc(len), s[randombytes_SEEDBYTES] = {0};

	assert_non_null(data);
	memcpy(s, &seed, sizeof seed);
	randombytes_buf_deterministic(data, len, s);
	assert_int_equal(cer_qr_split(data, len, max_bytes, CER_QR_EC_L, &set), CER_OK);
	free(data);
	return set;
}

static void free_frames(struct canvas *f, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		free(f[i].grey);
}

static int run(struct script *sc, struct cer_qr_join *join, struct seen *seen)
{
	struct cer_qr_frames src = {script_next, script_close, sc};
	struct cer_qr_decoder *dec;
	int ret;

	assert_int_equal(cer_qr_decoder_new(&dec), CER_OK);
	ret = cer_qr_scan(&src, dec, join, on_frame, seen);
	cer_qr_frames_close(&src);
	assert_int_equal(sc->closed, 1);
	cer_qr_decoder_free(dec);
	return ret;
}

/* Waits, an empty frame, a repeat and a frame with two codes: complete, stops at once. */
static void test_scan_complete(void **state)
{
	struct cer_qr_set set = split_of(500, 1, 200);
	struct canvas f[6];
	struct script sc = {f, 6, 0, 0, -1};
	struct seen seen = {0};
	struct cer_qr_join *join;
	uint8_t *out;
	size_t len;

	(void)state;
	assert_int_equal(set.count, 3);
	canvas_new(&f[0], 400, 300, 128); /* empty */
	canvas_new(&f[1], 400, 400, 200);
	canvas_code(&f[1], set.parts[1], 20, 20);
	canvas_new(&f[2], 400, 400, 200); /* part 2 again */
	canvas_code(&f[2], set.parts[1], 40, 10);
	canvas_new(&f[3], 800, 400, 90); /* parts 1 and 3 side by side */
	canvas_code(&f[3], set.parts[0], 10, 10);
	canvas_code(&f[3], set.parts[2], 410, 10);
	canvas_new(&f[4], 400, 400, 200); /* never read: the set is complete */
	canvas_new(&f[5], 10, 10, 0);
	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	cer_qr_join_set_lenient(join, true);
	assert_int_equal(run(&sc, join, &seen), CER_OK);
	assert_true(cer_qr_join_complete(join));
	assert_int_equal(sc.next, 4);
	assert_int_equal(seen.calls, 4);
	assert_int_equal(seen.frames, 4);
	assert_int_equal(seen.codes, 4);
	assert_int_equal(seen.added_total, 3);
	assert_int_equal(seen.count_at[0], 0);
	assert_int_equal(seen.count_at[1], 1);
	assert_int_equal(seen.count_at[2], 1);
	assert_int_equal(seen.count_at[3], 3);
	assert_int_equal(cer_qr_join_finish(join, &out, &len), CER_OK);
	assert_int_equal(len, 500);
	free(out);
	cer_qr_join_free(join);
	free_frames(f, 6);
	cer_qr_set_free(&set);
}

/* The source ends first: CER_OK, and finish names what is missing. */
static void test_scan_source_ends(void **state)
{
	struct cer_qr_set set = split_of(500, 2, 200);
	struct canvas f[1];
	struct script sc = {f, 1, 0, 0, -1};
	struct seen seen = {0};
	struct cer_qr_join *join;
	uint8_t *out;
	size_t len;

	(void)state;
	canvas_new(&f[0], 400, 400, 255);
	canvas_code(&f[0], set.parts[2], 0, 0);
	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	assert_int_equal(run(&sc, join, &seen), CER_OK);
	assert_int_equal(cer_qr_join_count(join), 1);
	assert_int_equal(cer_qr_join_finish(join, &out, &len), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "missing parts 1-2 of 3"));
	cer_qr_join_free(join);
	free_frames(f, 1);
	cer_qr_set_free(&set);
}

/* A part of another file, a device error, a stop from the callback. */
static void test_scan_refusals(void **state)
{
	struct cer_qr_set a = split_of(500, 3, 200), b = split_of(600, 4, 200);
	struct canvas f[3];
	struct script sc = {f, 3, 0, 0, -1};
	struct seen seen = {0};
	struct cer_qr_join *join;

	(void)state;
	canvas_new(&f[0], 400, 400, 255);
	canvas_code(&f[0], a.parts[0], 0, 0);
	canvas_new(&f[1], 400, 400, 255);
	canvas_code(&f[1], b.parts[1], 0, 0);
	canvas_new(&f[2], 400, 400, 255);
	canvas_code(&f[2], a.parts[1], 0, 0);

	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	assert_int_equal(run(&sc, join, &seen), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "frame 2: part 2/"));
	assert_non_null(strstr(cer_errmsg(), "two files are mixed"));
	assert_int_equal(sc.next, 2);
	assert_int_equal(seen.calls, 1);
	cer_qr_join_free(join);

	sc = (struct script){f, 3, 0, 0, 1};
	seen = (struct seen){0};
	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	assert_int_equal(run(&sc, join, &seen), CER_EIO);
	assert_string_equal(cer_errmsg(), "scripted device gone at frame 2");
	assert_int_equal(cer_qr_join_count(join), 1);
	cer_qr_join_free(join);

	sc = (struct script){f, 3, 0, 0, -1};
	seen = (struct seen){.stop_after = 1};
	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	assert_int_equal(run(&sc, join, &seen), CER_EUSAGE);
	assert_string_equal(cer_errmsg(), "stopped by the test");
	assert_int_equal(sc.next, 1);
	cer_qr_join_free(join);

	free_frames(f, 3);
	cer_qr_set_free(&a);
	cer_qr_set_free(&b);
}

/* A frame larger than the limit is refused before zbar sees it. */
static void test_decode_limits(void **state)
{
	struct cer_qr_decoder *dec;
	struct cer_qr_join *join;
	struct cer_qr_frame f = {.width = CER_QR_FRAME_MAX_SIDE + 1, .height = 1};
	static const uint8_t px[1];
	unsigned codes, added;

	(void)state;
	snprintf(f.name, sizeof f.name, "wide");
	f.grey = px;
	assert_int_equal(cer_qr_decoder_new(&dec), CER_OK);
	assert_int_equal(cer_qr_join_new(&join), CER_OK);
	assert_int_equal(cer_qr_decode_frame(dec, &f, join, &codes, &added), CER_EINPUT);
	assert_non_null(strstr(cer_errmsg(), "wide: a frame of 8193 x 1 pixels"));
	f.grey = NULL;
	assert_int_equal(cer_qr_decode_frame(dec, &f, join, &codes, &added), CER_OK);
	assert_int_equal(codes, 0);
	cer_qr_join_free(join);
	cer_qr_decoder_free(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_scan_complete),
	        cmocka_unit_test(test_scan_source_ends),
	        cmocka_unit_test(test_scan_refusals),
	        cmocka_unit_test(test_decode_limits),
	};

	if (cer_init() != CER_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
