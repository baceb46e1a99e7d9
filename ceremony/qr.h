#ifndef CER_QR_H
#define CER_QR_H

/*
 * Files across the air gap as QR codes.
 *
 * A file is framed as a stream, STREAM = LEN (4 bytes, big-endian) || SHA-256
 * of the file (32 bytes) || the file, and the stream is cut into parts of at
 * most max_bytes bytes.  Each part is one line of text that uses only the QR
 * alphanumeric set (0-9 A-Z space $ % * + - . / :), so that it is encoded in
 * alphanumeric mode:
 *
 *     SDC1:<n>/<total>:<id>:<data>:<check>
 *
 *   SDC1    format marker and version
 *   n/total part number (1..total) and number of parts, decimal, no leading 0
 *   id      the file's id: the first 8 bytes of its SHA-256, 16 uppercase hex
 *   data    this part's bytes of the stream in Base45 (RFC 9285); it may
 *           contain ':' and spaces, which is why check comes after it
 *   check   first 4 bytes of SHA-256 of everything before ":<check>",
 *           8 uppercase hex: a per-part check value that names a corrupted
 *           part (QR error correction aside, a scanner or a human editing a
 *           part can still alter it)
 *
 * Part 1 thus carries the length and full SHA-256 of the file; join checks
 * both.  None of this authenticates the file: whoever can show codes to the
 * scanner can make consistent parts.  Compare the SHA-256 out of band.
 *
 * Everything here is public data (certificates, packages, restore blobs are
 * encrypted); plain malloc is used.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/cer.h"

#define CER_QR_MAGIC "SDC1:"
/* Same part layout; the stream's file bytes are a zlib (RFC 1950) stream. */
#define CER_QR_MAGIC_ZLIB "SDC2:"
/* Largest file that split accepts (refused before reading it). */
#define CER_QR_MAX_FILE ((size_t)1 << 20)
#define CER_QR_MAX_PARTS 9999u
/* Stream bytes per part: the default keeps each code at version 20 or below
 * (see docs/qr.md): CER_QR_DEFAULT_MAX_BYTES at level M, and
 * cer_qr_default_max_bytes for each level; bounds for --max-bytes. */
#define CER_QR_DEFAULT_MAX_BYTES 600u
#define CER_QR_MIN_MAX_BYTES 16u
#define CER_QR_MAX_MAX_BYTES 2800u
/* Longest part text join accepts (longer lines are refused unparsed). */
#define CER_QR_MAX_PART_TEXT 8192u

/* PNG rendering: pixels per module and quiet zone in modules. */
#define CER_QR_PNG_MODULE_PX 6u
#define CER_QR_PNG_QUIET 4u

enum cer_qr_ec { CER_QR_EC_L, CER_QR_EC_M, CER_QR_EC_Q, CER_QR_EC_H };

/* Default part size for level ec: 800 (L), 600 (M), 440 (Q), 320 (H). */
size_t cer_qr_default_max_bytes(enum cer_qr_ec ec);
/* "L", "M", "Q", "H" (either case) -> *ec; CER_EUSAGE otherwise. */
int cer_qr_ec_parse(const char *s, enum cer_qr_ec *ec) CER_WUR;
/* 'L', 'M', 'Q' or 'H'. */
char cer_qr_ec_letter(enum cer_qr_ec ec);

/*
 * Base45 (RFC 9285).  encode: NUL-terminated malloc'ed string, NULL on out of
 * memory.  decode: malloc'ed buffer (plus a NUL byte after the data) or NULL
 * when text is not valid Base45 (a bad character, a dangling single
 * character, a triple or pair whose value is too large); no message set.
 */
char *cer_base45_encode(const uint8_t *data, size_t len);
uint8_t *cer_base45_decode(const char *text, size_t len, size_t *out_len);

/*
 * zlib for SDC2 (ceremony/qr_zlib.c).  deflate: *out malloc'ed.  inflate
 * parses hostile input: it writes at most want bytes (the file length part 1
 * declares, at most CER_QR_MAX_FILE) and fails (CER_EINPUT) unless the data
 * is one complete zlib stream, with nothing after it, that inflates to
 * exactly want bytes; a stream that would give more is refused as a bomb
 * without inflating further.  *out malloc'ed (want + 1 bytes, NUL after).
 */
int cer_qr_deflate(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len) CER_WUR;
int cer_qr_inflate(const uint8_t *in, size_t in_len, size_t want, uint8_t **out) CER_WUR;

/* A file split into parts.  parts[i] is the NUL-terminated text of part i+1. */
struct cer_qr_set {
	unsigned count;
	char **parts;
	enum cer_qr_ec ec;   /* level used when these parts are drawn */
	char id[17];         /* file id, 16 uppercase hex */
	char sha256_hex[65]; /* lowercase hex SHA-256 of the file */
	size_t file_len;
};

/* Frees the parts and zeroes *set; accepts a zeroed or already freed set. */
void cer_qr_set_free(struct cer_qr_set *set);

/*
 * Splits data into parts of at most max_bytes stream bytes (between
 * CER_QR_MIN_MAX_BYTES and CER_QR_MAX_MAX_BYTES; CER_EUSAGE otherwise).
 * len at most CER_QR_MAX_FILE (CER_EINPUT).  A file holding a PEM private
 * key ("PRIVATE KEY-----", encrypted or not), or that is a DER private key
 * (PKCS#8, encrypted PKCS#8, traditional) or a PKCS#12 file, is refused
 * (CER_EINPUT): keys never cross the air gap.  set->ec is set to ec.
 */
int cer_qr_split(const uint8_t *data, size_t len, size_t max_bytes, enum cer_qr_ec ec,
                 struct cer_qr_set *set) CER_WUR;

/*
 * As cer_qr_split with the largest part size whose codes (without quiet
 * zone) are at most max_width modules wide, capped at the default size.
 * CER_EUSAGE if even the smallest part does not fit (message gives the width
 * needed).  Used by the terminal viewer to fit a window.
 */
int cer_qr_split_fit(const uint8_t *data, size_t len, enum cer_qr_ec ec, unsigned max_width,
                     struct cer_qr_set *set) CER_WUR;

/*
 * Loads DIR/NN.txt (as written by cer_qr_split_dir) into set: every part of
 * one file must be present and consistent (the join checks, including the
 * SHA-256), else CER_EINPUT naming the problem; CER_EIO if DIR cannot be read.
 * When data is not NULL, *data gets the joined file (malloc'ed, a NUL byte
 * after it) and *len its length, so that it can be split again.
 */
int cer_qr_set_load_dir(const char *dir, enum cer_qr_ec ec, struct cer_qr_set *set, uint8_t **data,
                        size_t *len) CER_WUR;

/*
 * Splits the file at path and writes, into directory dir, for each part n of
 * T: NN.png (the code, CER_QR_PNG_MODULE_PX pixels a module, a quiet zone of
 * CER_QR_PNG_QUIET modules), NN.txt (the part text and a newline) and
 * index.html (a self-contained page showing every part in turn).  NN is n
 * zero-padded to at least two digits (as many as T has).
 *
 * Atomic: everything is built in a temporary directory beside dir, then
 * renamed into place.  An existing empty dir is replaced.  A non-empty dir
 * is refused (CER_EIO) unless replace is true; even then it is refused if it
 * holds anything other than a previous split's files (NN.png, NN.txt,
 * index.html).  On failure nothing is left behind.  progress->step is
 * called per part ("qr", n, T).
 *
 * On CER_OK *report (cer_report_free; report.h) describes the split:
 *   {"report": "qr_split", "file": path, "size": bytes, "sha256": hex,
 *    "dir": dir, "parts": T, "qr_version": the largest code's version,
 *    "ec": "L"|"M"|"Q"|"H"}
 * t (may be NULL) gets the report as its record ("qr split: ... [OK] T
 * parts"), or the failure.  A record lost after the split was written:
 * CER_EIO naming the transcript, the split and *report still produced (so
 * CER_EIO with a report means exactly that), as cer_inspect.
 */
struct cer_transcript;
struct cer_report;
int cer_qr_split_dir(const char *path, const char *dir, size_t max_bytes, enum cer_qr_ec ec,
                     bool replace, const struct cer_progress *progress, struct cer_transcript *t,
                     struct cer_report **report) CER_WUR;

/* A QR code's modules: width x width bytes, row-major, 1 = dark. */
struct cer_qr_code {
	int version;
	unsigned width;
	uint8_t *modules;
};

/*
 * Encodes text (a part: alphanumeric-mode characters only, CER_EINPUT
 * otherwise) at the smallest version that holds it at level ec.  CER_EINPUT
 * when it does not fit in version 40.  Free with cer_qr_code_free.
 */
int cer_qr_encode(const char *text, enum cer_qr_ec ec, struct cer_qr_code *code) CER_WUR;
void cer_qr_code_free(struct cer_qr_code *code);

/* A grayscale PNG of code: module_px pixels a module, quiet modules of margin. */
int cer_qr_png(const struct cer_qr_code *code, unsigned module_px, unsigned quiet, uint8_t **png,
               size_t *png_len) CER_WUR;

/*
 * The code drawn with Unicode half blocks (U+2580, U+2584, U+2588 and space),
 * two module rows per text line, one module per column, with a quiet zone of
 * quiet modules on each side: (width + 2 * quiet + 1) / 2 lines of
 * width + 2 * quiet columns.  The glyphs paint the LIGHT modules, so show the
 * lines with a light foreground on a dark background (light_fg true); with
 * light_fg false they paint the dark modules (for dark text on light).
 * Returns a malloc'ed array of *nlines malloc'ed UTF-8 strings; free with
 * cer_qr_lines_free.  Pure: no terminal I/O.
 */
int cer_qr_halfblock(const struct cer_qr_code *code, unsigned quiet, bool light_fg, char ***lines,
                     unsigned *nlines) CER_WUR;
void cer_qr_lines_free(char **lines, unsigned nlines);

/*
 * The self-contained index.html for a set: pngs[i] (png_lens[i] bytes) is
 * the image of part i+1, inlined as a data: URI.  No network, no external
 * script.  Keys: space pauses/resumes, arrows step, +/- change the pace.
 */
int cer_qr_html(const struct cer_qr_set *set, const char *title, uint8_t *const *pngs,
                const size_t *png_lens, char **html, size_t *html_len) CER_WUR;

/*
 * Joining parts.  Feed part texts in any order, duplicates allowed, from
 * files, stdin or a scanner: cer_qr_join_add takes one or more lines; blank
 * lines are skipped; white space around a part and anything before its
 * "SDC1:" marker (e.g. zbarimg's "QR-Code:" prefix) are ignored; the rest of
 * a line must be exactly one valid part.
 *
 * cer_qr_join_add returns CER_EINPUT, with a message naming the source, line
 * and part, for a line that is not a part, a corrupted part (check value
 * mismatch, bad Base45, bad header), a part from a different file (other id
 * or total), or a second copy of a part number with different data.  Parts
 * from the lines before the bad one are kept; the bad line is not, so an
 * interactive caller can report it and go on.
 */
struct cer_qr_join;

int cer_qr_join_new(struct cer_qr_join **join) CER_WUR;
void cer_qr_join_free(struct cer_qr_join *join);

/*
 * Lenient mode (off by default): a line with no "SDC" marker at all is
 * skipped and counted instead of refused.  Scanners also report other
 * barcode types (zbarimg can read a stray 1-D "DataBar" out of a QR image);
 * such lines cannot make a wrong file, since completeness and the SHA-256
 * are still checked.  Lines that carry a marker are always checked strictly.
 */
void cer_qr_join_set_lenient(struct cer_qr_join *join, bool lenient);
/* Lines skipped in lenient mode; *first_where names the first one ("" if none). */
unsigned cer_qr_join_skipped(const struct cer_qr_join *join, const char **first_where);

/* source names the input in messages ("FILE line 3: ..."); may be NULL. */
int cer_qr_join_add(struct cer_qr_join *join, const char *source, const char *text,
                    size_t len) CER_WUR;
/*
 * One line (no '\n' in it), as read from a stream: messages say "source line
 * lineno: ".  Lets a reader stop as soon as cer_qr_join_complete is true.
 * The parts held are bounded: their data together may not exceed what the
 * largest file needs (CER_EINPUT), whatever the stream brings.
 */
int cer_qr_join_add_line(struct cer_qr_join *join, const char *source, unsigned lineno,
                         const char *text, size_t len) CER_WUR;
/*
 * The text of one code as a scanner decoded it: messages start with
 * "where: " (where may be NULL).  Otherwise as cer_qr_join_add_line (a code
 * with a marker and a line break in it is refused as corrupted).
 */
int cer_qr_join_add_code(struct cer_qr_join *join, const char *where, const char *text,
                         size_t len) CER_WUR;
/* Reads path (up to CER_QR_MAX_FILE * 3 bytes) and adds its lines. */
int cer_qr_join_add_file(struct cer_qr_join *join, const char *path) CER_WUR;

/* Number of parts of the file (0 before the first part) and distinct parts held. */
unsigned cer_qr_join_total(const struct cer_qr_join *join);
unsigned cer_qr_join_count(const struct cer_qr_join *join);
bool cer_qr_join_complete(const struct cer_qr_join *join);

/*
 * A one-line summary for the user: "no part yet", "have 3 of 12 parts;
 * missing 2, 5-7, 9-12" or "all 12 parts present".  Truncated to size.
 */
void cer_qr_join_status(const struct cer_qr_join *join, char *buf, size_t size);

/*
 * Reassembles the file: CER_EINPUT naming the missing part numbers when
 * incomplete, or when the length or SHA-256 in part 1 does not match the
 * data.  *data is malloc'ed (plus a NUL byte after it) on success.
 */
int cer_qr_join_finish(const struct cer_qr_join *join, uint8_t **data, size_t *len) CER_WUR;

/*
 * The report of a finished join, data (len bytes) being what
 * cer_qr_join_finish gave: written to path, or (path NULL) held in memory
 * as what ("the exchange key"):
 *   {"report": "qr_join", "path": path|"", "what": what|"", "parts": T,
 *    "size": bytes, "sha256": hex}
 */
int cer_qr_join_report(const struct cer_qr_join *join, const char *path, const char *what,
                       const uint8_t *data, size_t len, struct cer_report **report) CER_WUR;

/*
 * cer_qr_join_finish, then an atomic write of path (replace: an existing
 * file is replaced); on CER_OK *report is cer_qr_join_report's.  t (may be
 * NULL) gets the report as its record ("qr join: T parts into path: [OK]
 * ..."), or the failure; a record lost after the file was written: CER_EIO
 * naming the transcript, the file and *report still produced, as
 * cer_inspect.
 */
int cer_qr_join_write(const struct cer_qr_join *join, const char *path, bool replace,
                      struct cer_transcript *t, struct cer_report **report) CER_WUR;

#endif
