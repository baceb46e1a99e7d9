#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ceremony/io.h"
#include "ceremony/qr.h"
#include "ceremony/qr_scan.h"
#include "ceremony/report.h"
#include "ceremony/transcript.h"
#include "ui/qrview.h"
#include "ui/ui.h"

static void help(FILE *f)
{
	fprintf(f,
	        "Usage: %s qr split FILE --out DIR [--max-bytes N] [--ec L|M|Q|H]\n"
	        "                          [--force] [--transcript FILE]\n"
	        "       %s qr show [--ec L|M|Q|H] FILE | DIR\n"
	        "       %s qr join --out FILE [--force] [--transcript FILE] [PARTFILE...]\n"
	        "       %s qr scan --out FILE [--force] [--transcript FILE] [--device "
	        "/dev/videoN]\n"
	        "       %s qr scan --out FILE [--force] [--transcript FILE] --images PNG...\n"
	        "\n"
	        "Carries a file across the air gap as QR codes.  Each part is one line of text,\n"
	        "  SDC2:<n>/<total>:<file id>:<data>:<check>\n"
	        "in the QR alphanumeric set (data in Base45, zlib-compressed; SDC1 when\n"
	        "compression does not make it smaller); part 1 also carries the file's\n"
	        "length and SHA-256, which join checks.  Compare the SHA-256 printed at both\n"
	        "ends out of band: the codes themselves are not authenticated.\n"
	        "\n"
	        "split FILE --out DIR\n"
	        "  Writes DIR/NN.png (one code per part, %u pixels a module, %u-module quiet\n"
	        "  zone), DIR/NN.txt (the text inside that code) and DIR/index.html (a page,\n"
	        "  no network needed, that shows the codes full-screen one after another:\n"
	        "  space pauses, arrows step, +/- change the pace, c camera pace (4 codes\n"
	        "  a second), m only the parts a receiver names as missing, a all again,\n"
	        "  f full screen).  DIR is created atomically; an existing non-empty DIR\n"
	        "  is refused.  A private key (PEM, DER or PKCS#12) is refused: keys never\n"
	        "  cross the air gap.\n"
	        "  --max-bytes N  stream bytes per part, %u..%u (default 800 at level L,\n"
	        "                 600 at M, 440 at Q, 320 at H: QR version 20 or below,\n"
	        "                 which phones read off a screen)\n"
	        "  --ec L|M|Q|H   error correction level (default L, for screens); higher\n"
	        "                 levels make larger codes for the same part size\n"
	        "  --force        replace DIR if it holds only a previous split's files\n"
	        "  --transcript FILE  append a record to FILE (split, join, scan): the file,\n"
	        "                 its SHA-256 and the number of parts, or the failure\n"
	        "\n"
	        "show FILE | DIR\n"
	        "  Shows the codes in the terminal with Unicode half blocks, one per screen:\n"
	        "  a FILE is split in memory into parts that fit the window; a DIR written by\n"
	        "  split is shown part by part, or split again when its codes do not fit.\n"
	        "  An intro gives the file's SHA-256, the number of codes and how to get\n"
	        "  fewer; Enter starts.  Keys: Right/Left step, Home/End, space pauses\n"
	        "  auto-advance, + and - change its pace, i inverts, q quits.  Needs a\n"
	        "  terminal with a UTF-8 locale.\n"
	        "  --ec L|M|Q|H   error correction level of the codes drawn (default L)\n"
	        "\n"
	        "join --out FILE [PARTFILE...]\n"
	        "  Reads part texts from the PARTFILEs, or from standard input when none is\n"
	        "  given, e.g.\n"
	        "    zbarimg --raw -q --nodbus -Sdisable -Sqrcode.enable DIR/*.png |\n"
	        "        %s qr join --out FILE\n"
	        "  in any order, duplicates allowed; blank lines, white space around a part\n"
	        "  and text before its SDC1: or SDC2: marker are ignored; so are lines with no "
	        "marker\n"
	        "  at all (other barcodes a scanner saw), with a note.  Standard input is\n"
	        "  read line by line and join stops as soon as every part is in, so\n"
	        "    zbarcam --raw --nodbus | %s qr join --out FILE\n"
	        "  ends by itself; with standard error on a terminal one line shows the\n"
	        "  parts held, the total and the missing numbers.  Ctrl-C writes nothing.\n"
	        "  FILE is written atomically only when every part is present and the\n"
	        "  SHA-256 matches;\n"
	        "  otherwise names the missing parts, the corrupted part or the mix of two\n"
	        "  files, and writes nothing.\n"
	        "  --out FILE     the joined file; an existing FILE is refused\n"
	        "  --force        replace an existing FILE\n"
	        "\n"
	        "scan --out FILE\n"
	        "  Reads the codes with a camera (libzbar), as join reads lines: the same\n"
	        "  checks, the same live line on a terminal, the same SHA-256 at the end;\n"
	        "  it stops by itself once every part is in.  Ctrl-C writes nothing.\n"
	        "  --device DEV   the camera, a V4L2 device (default %s)\n"
	        "  --images       decode the PNG files given instead of camera frames\n"
	        "                 (photos or screenshots of the codes, split's NN.png; the\n"
	        "                 tests feed frames this way), one frame a file\n"
	        "\n"
	        "Exit status: 0 success, 2 usage error, no terminal for show, join or scan\n"
	        "interrupted, 3 bad or missing parts, a file too large (limit %zu bytes)\n"
	        "or an image that is not a PNG, 5 I/O error, output exists or no camera,\n"
	        "1 internal error.\n",
	        ui_progname, ui_progname, ui_progname, ui_progname, ui_progname,
	        CER_QR_PNG_MODULE_PX, CER_QR_PNG_QUIET, CER_QR_MIN_MAX_BYTES, CER_QR_MAX_MAX_BYTES,
	        ui_progname, ui_progname, CER_QR_CAMERA_DEFAULT, CER_QR_MAX_FILE);
}

enum {
	OPT_OUT = 'o',
	OPT_EC = 'e',
	OPT_MAX = 'm',
	OPT_FORCE = 'f',
	OPT_HELP = 'h',
	OPT_DEVICE = 'd',
	OPT_IMAGES = 'i',
	OPT_TRANSCRIPT = 'R'
};

static const struct option long_opts[] = {
        {"out", required_argument, NULL, OPT_OUT},
        {"ec", required_argument, NULL, OPT_EC},
        {"max-bytes", required_argument, NULL, OPT_MAX},
        {"force", no_argument, NULL, OPT_FORCE},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"images", no_argument, NULL, OPT_IMAGES},
        {"transcript", required_argument, NULL, OPT_TRANSCRIPT},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
};

struct qr_opts {
	const char *out, *device, *transcript;
	enum cer_qr_ec ec;
	size_t max_bytes;
	bool force, help, images;
};

/* --transcript: opened just before the one write it records. */
static int transcript_open(const struct qr_opts *o, struct cer_transcript **t)
{
	*t = NULL;
	return o->transcript == NULL ? CER_OK : cer_transcript_open(o->transcript, t);
}

/*
 * Closes the transcript and prints what was written.  Written is written: a
 * split or joined file is said even when its record was lost (exit 5 then).
 */
static int finish(struct cer_transcript *t, int ret, struct cer_report *rep)
{
	int closed = cer_transcript_close(t);

	if (ret == CER_OK)
		ret = closed;
	if (rep != NULL) {
		int printed = ui_print_report(rep, false);

		if (ret == CER_OK)
			ret = printed;
		cer_report_free(rep);
	}
	return ret;
}

static int parse(const char *cmd, int argc, char **argv, struct qr_opts *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->ec = CER_QR_EC_L;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", long_opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case OPT_OUT: o->out = optarg; break;
		case OPT_EC:
			if (cer_qr_ec_parse(optarg, &o->ec) != CER_OK)
				return ui_usage_error(cmd, "%s", cer_errmsg());
			break;
		case OPT_MAX:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    v < CER_QR_MIN_MAX_BYTES || v > CER_QR_MAX_MAX_BYTES)
				return ui_usage_error(cmd,
				                      "--max-bytes must be a number from %u to %u, "
				                      "not '%s'",
				                      CER_QR_MIN_MAX_BYTES, CER_QR_MAX_MAX_BYTES,
				                      optarg);
			o->max_bytes = v;
			break;
		case OPT_FORCE: o->force = true; break;
		case OPT_DEVICE: o->device = optarg; break;
		case OPT_IMAGES: o->images = true; break;
		case OPT_TRANSCRIPT: o->transcript = optarg; break;
		case OPT_HELP: o->help = true; break;
		case ':': return ui_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		default: return ui_bad_option(cmd, argv, long_opts);
		}
	}
	return CER_OK;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int qr_split(int argc, char **argv)
{
	struct qr_opts o;
	struct cer_transcript *t = NULL;
	struct cer_report *rep = NULL;
	const char *file = NULL;
	int ret, i;

	ret = parse("qr split", argc, argv, &o);
	if (ret != CER_OK)
		return ret;
	if (!o.help && (o.device != NULL || o.images))
		return ui_usage_error("qr split", "--device and --images are for scan");
	if (o.help) {
		help(stdout);
		return CER_OK;
	}
	for (i = optind; i < argc; i++) {
		if (file != NULL)
			return ui_usage_error("qr split", "one FILE only ('%s' is extra)", argv[i]);
		file = argv[i];
	}
	if (file == NULL)
		return ui_usage_error("qr split", "which FILE to split?");
	if (o.out == NULL)
		return ui_usage_error("qr split", "--out DIR is required");
	if (o.max_bytes == 0)
		o.max_bytes = cer_qr_default_max_bytes(o.ec);
	ret = transcript_open(&o, &t);
	if (ret == CER_OK)
		ret = cer_qr_split_dir(file, o.out, o.max_bytes, o.ec, o.force, &ui_stderr_progress,
		                       t, &rep);
	ret = finish(t, ret, rep);
	return ret == CER_OK ? CER_OK : ui_report(ret);
}

static int qr_show(int argc, char **argv)
{
	struct qr_opts o;
	struct cer_qr_set set = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	const char *what;
	int ret = parse("qr show", argc, argv, &o);

	if (ret != CER_OK)
		return ret;
	if (o.help) {
		help(stdout);
		return CER_OK;
	}
	if (optind + 1 != argc)
		return ui_usage_error("qr show", "give one FILE or DIR to show");
	if (o.out != NULL || o.force || o.max_bytes != 0 || o.device != NULL || o.images ||
	    o.transcript != NULL)
		return ui_usage_error("qr show", "show takes only --ec");
	what = argv[optind];
	if (!ui_interactive())
		return ui_usage_error("qr show",
		                      "needs a terminal; to carry %s without one, use "
		                      "'qr split' and open index.html",
		                      what);
	if (is_dir(what)) {
		ret = cer_qr_set_load_dir(what, o.ec, &set, &data, &len);
		if (ret == CER_OK)
			ret = ui_qr_view_split(&set, data, len, what);
		if (ret == CER_OK)
			printf("%s: %u parts shown, the file's SHA-256 %s\n", what, set.count,
			       set.sha256_hex);
	} else {
		char hex[65];

		ret = cer_file_read(what, CER_QR_MAX_FILE, &data, &len);
		if (ret == CER_OK)
			ret = ui_qr_view_data(data, len, o.ec, what);
		if (ret == CER_OK && cer_file_sha256_hex(what, hex) == CER_OK)
			printf("sha256sum: %s  %s\n", hex, what);
	}
	cer_qr_set_free(&set);
	free(data);
	return ret == CER_OK ? CER_OK : ui_report(ret);
}

static atomic_int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&interrupted, 1);
}

/* Ctrl-C, hangup or termination while parts are read: stop, write nothing.
 * No SA_RESTART, so that a blocked read returns at once. */
static void catch_signals(bool on)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	static struct sigaction saved[4];
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++) {
		if (on)
			sigaction(sigs[i], &sa, &saved[i]);
		else
			sigaction(sigs[i], &saved[i], NULL);
	}
}

/* While the output is written: a signal waits until the file is in place. */
static void block_signals(bool on, sigset_t *saved)
{
	sigset_t set;

	if (!on) {
		sigprocmask(SIG_SETMASK, saved, NULL);
		return;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, saved);
}

struct live {
	bool on;
	bool shown;
	unsigned count;
};

static void live_update(struct live *l, const struct cer_qr_join *join, bool force)
{
	char status[512];
	struct winsize ws;
	int width = 80;

	if (!l->on || (!force && l->shown && cer_qr_join_count(join) == l->count))
		return;
	l->count = cer_qr_join_count(join);
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	cer_qr_join_status(join, status, sizeof status);
	fprintf(stderr, "\r\033[K%.*s", width - 1, status);
	fflush(stderr);
	l->shown = true;
}

static void live_end(struct live *l)
{
	if (l->on && l->shown)
		fputs("\r\033[K", stderr);
	l->shown = false;
}

/*
 * Reads standard input a line at a time and adds each line at once, so that
 * a scanner's endless output (zbarcam --raw) ends as soon as the set is
 * complete.  A line longer than a part can be is cut short, and refused; at
 * most limit bytes are read, as from a file.
 */
static int join_stream(struct cer_qr_join *join, struct live *live)
{
	enum { CAP = CER_QR_MAX_PART_TEXT + 2 };
	static char line[CAP], buf[4096];
	const size_t limit = CER_QR_MAX_FILE * 3;
	size_t used = 0, total = 0;
	unsigned lineno = 0;
	int ret = CER_OK;

	live_update(live, join, true);
	while (!cer_qr_join_complete(join)) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		ssize_t i;

		if (atomic_load(&interrupted))
			return cer_fail(CER_EUSAGE, "interrupted: nothing written");
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cer_fail(CER_EIO, "standard input: %s", strerror(errno));
		total += (size_t)n;
		if (total > limit)
			return cer_fail(CER_EINPUT,
			                "standard input: more than %zu bytes of parts "
			                "without a complete set",
			                limit);
		if (n == 0) {
			if (used > 0) {
				lineno++;
				ret = cer_qr_join_add_line(join, "standard input", lineno, line,
				                           used);
			}
			break;
		}
		for (i = 0; i < n && ret == CER_OK && !cer_qr_join_complete(join); i++) {
			if (buf[i] != '\n') {
				if (used < CAP)
					line[used++] = buf[i];
				continue;
			}
			lineno++;
			ret = cer_qr_join_add_line(join, "standard input", lineno, line, used);
			used = 0;
			live_update(live, join, false);
		}
		if (ret != CER_OK)
			break;
	}
	live_update(live, join, false);
	return ret;
}

static int qr_join(int argc, char **argv)
{
	struct qr_opts o;
	struct cer_transcript *t = NULL;
	struct cer_qr_join *join = NULL;
	struct cer_report *rep = NULL;
	struct live live = {0};
	const char *first;
	unsigned skipped;
	sigset_t saved;
	int ret = parse("qr join", argc, argv, &o), i;

	if (ret != CER_OK)
		return ret;
	if (o.help) {
		help(stdout);
		return CER_OK;
	}
	if (o.out == NULL)
		return ui_usage_error("qr join", "--out FILE is required");
	if (o.max_bytes != 0)
		return ui_usage_error("qr join", "--max-bytes is for split");
	if (o.device != NULL || o.images)
		return ui_usage_error("qr join", "--device and --images are for scan");
	if (!o.force && cer_path_exists(o.out))
		return ui_report(cer_fail_exists(o.out));
	ret = cer_qr_join_new(&join);
	if (ret != CER_OK)
		return ui_report(ret);
	cer_qr_join_set_lenient(join, true);
	catch_signals(true);
	if (optind == argc) {
		live.on = isatty(STDERR_FILENO) == 1;
		ret = join_stream(join, &live);
		live_end(&live);
	}
	for (i = optind; i < argc && ret == CER_OK; i++)
		ret = cer_qr_join_add_file(join, argv[i]);
	skipped = cer_qr_join_skipped(join, &first);
	if (skipped > 0)
		fprintf(stderr, "%s: note: ignored %u line%s with no QR part (first: %s)\n",
		        ui_progname, skipped, skipped > 1 ? "s" : "", first);
	block_signals(true, &saved);
	if (ret == CER_OK && atomic_load(&interrupted))
		ret = cer_fail(CER_EUSAGE, "interrupted: nothing written");
	if (ret == CER_OK)
		ret = transcript_open(&o, &t);
	if (ret == CER_OK)
		ret = cer_qr_join_write(join, o.out, o.force, t, &rep);
	ret = finish(t, ret, rep);
	cer_qr_join_free(join);
	block_signals(false, &saved);
	catch_signals(false);
	return ret == CER_OK ? CER_OK : ui_report(ret);
}

struct scan_ctx {
	struct live *live;
};

static int scan_step(void *ctx, const struct cer_qr_scan_state *st)
{
	struct scan_ctx *sc = ctx;

	if (atomic_load(&interrupted))
		return cer_fail(CER_EUSAGE, "interrupted: nothing written");
	live_update(sc->live, st->join, false);
	return CER_OK;
}

static int qr_scan(int argc, char **argv)
{
	struct qr_opts o;
	struct cer_transcript *t = NULL;
	struct cer_qr_join *join = NULL;
	struct cer_report *rep = NULL;
	struct cer_qr_decoder *dec = NULL;
	struct cer_qr_frames src = {0};
	struct live live = {0};
	struct scan_ctx sc = {.live = &live};
	const char *first;
	unsigned skipped;
	sigset_t saved;
	int ret = parse("qr scan", argc, argv, &o);

	if (ret != CER_OK)
		return ret;
	if (o.help) {
		help(stdout);
		return CER_OK;
	}
	if (o.out == NULL)
		return ui_usage_error("qr scan", "--out FILE is required");
	if (o.max_bytes != 0)
		return ui_usage_error("qr scan", "--max-bytes is for split");
	if (o.images && o.device != NULL)
		return ui_usage_error("qr scan", "--images or --device, not both");
	if (o.images && optind == argc)
		return ui_usage_error("qr scan", "--images needs the PNG files to decode");
	if (!o.images && optind < argc)
		return ui_usage_error("qr scan", "unexpected '%s' (PNG files need --images)",
		                      argv[optind]);
	if (!o.force && cer_path_exists(o.out))
		return ui_report(
		        cer_fail(CER_EIO, "%s: already exists (use --force to replace it)", o.out));
	ret = cer_qr_join_new(&join);
	if (ret == CER_OK)
		ret = cer_qr_decoder_new(&dec);
	if (ret == CER_OK)
		ret = o.images ? cer_qr_png_frames_open((const char *const *)argv + optind,
		                                        (unsigned)(argc - optind), &src)
		               : cer_qr_camera_open(o.device, &src);
	if (ret != CER_OK)
		goto out;
	cer_qr_join_set_lenient(join, true);
	catch_signals(true);
	live.on = isatty(STDERR_FILENO) == 1;
	live_update(&live, join, true);
	ret = cer_qr_scan(&src, dec, join, scan_step, &sc);
	/* A signal can also fail the frame being read (an interrupted open or read). */
	if (atomic_load(&interrupted))
		ret = cer_fail(CER_EUSAGE, "interrupted: nothing written");
	live_end(&live);
	cer_qr_frames_close(&src);
	skipped = cer_qr_join_skipped(join, &first);
	if (skipped > 0)
		fprintf(stderr, "%s: note: ignored %u code%s with no QR part (first: %s)\n",
		        ui_progname, skipped, skipped > 1 ? "s" : "", first);
	block_signals(true, &saved);
	if (ret == CER_OK && atomic_load(&interrupted))
		ret = cer_fail(CER_EUSAGE, "interrupted: nothing written");
	if (ret == CER_OK)
		ret = transcript_open(&o, &t);
	if (ret == CER_OK)
		ret = cer_qr_join_write(join, o.out, o.force, t, &rep);
	ret = finish(t, ret, rep);
	block_signals(false, &saved);
	catch_signals(false);
out:
	cer_qr_frames_close(&src);
	cer_qr_decoder_free(dec);
	cer_qr_join_free(join);
	return ret == CER_OK ? CER_OK : ui_report(ret);
}

int ui_qr_main(int argc, char **argv)
{
	ui_exists_hint = "use --force to replace it";
	if (argc < 2)
		return ui_usage_error("qr", "which subcommand: split, show, join or scan?");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		help(stdout);
		return CER_OK;
	}
	if (strcmp(argv[1], "split") == 0)
		return qr_split(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return qr_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "join") == 0)
		return qr_join(argc - 1, argv + 1);
	if (strcmp(argv[1], "scan") == 0)
		return qr_scan(argc - 1, argv + 1);
	return ui_usage_error("qr", "unknown subcommand '%s' (split, show, join or scan)", argv[1]);
}
