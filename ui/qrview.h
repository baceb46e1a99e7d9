#ifndef UI_QRVIEW_H
#define UI_QRVIEW_H

/*
 * The terminal QR viewer, used by `qr show` and by the wizard: one part per
 * screen, drawn with Unicode half blocks (white on black when the terminal
 * has colours; 'i' inverts), the part number and a help line.
 *
 * Keys: Right/Down/PgDn/n next part, Left/Up/PgUp/p previous, Home/End
 * first/last, space pauses or resumes auto-advance, + and - make it faster or
 * slower (0.5 s to 10 s a part, 2 s at start), i inverts, q or Esc leaves.
 * Every screen shows the file's SHA-256 (set->sha256_hex) under the part
 * number.  A resize redraws; a window too small for the code says how large
 * it must be, and auto-advance waits (never steps through codes it cannot
 * draw) until the window is large enough.
 *
 * Works whether or not curses is running:
 *  - not running (stdscr == NULL or after endwin()): the viewer sets the
 *    locale, starts curses, and ends it before returning;
 *  - running (the wizard): the viewer draws in its own full-screen window,
 *    reads keys from that window (so stdscr's timeout and keypad settings are
 *    untouched), deletes it before returning and touches stdscr so the
 *    caller's next refresh repaints.  The caller should redraw its screen.
 * It needs a UTF-8 locale (the caller's setlocale(LC_ALL, "")); it uses colour
 * pair UI_QRVIEW_PAIR, which the wizard must not use for anything else.
 *
 * Returns CER_OK when the user leaves, CER_EUSAGE (message set) when stdin or
 * stdout is not a terminal or the locale cannot show half blocks,
 * CER_EINTERNAL on failure.
 */

#include <curses.h>
#include <stddef.h>
#include <stdint.h>

#include "ceremony/qr.h"

#define UI_QRVIEW_PAIR 63

/*
 * Before the first code an intro screen names the file and shows its
 * SHA-256 and length, the number of parts at this window size and, when
 * there could be fewer, how (a larger window or smaller font, with the size
 * that shows the fewest; index.html of 'qr split'); Enter starts, and a
 * resize there splits again for the new size.  In a window too small for
 * the three text lines, one line is kept: the part number and as much of the
 * SHA-256 as fits.
 */

/*
 * Shows a split's parts (a directory's NN.txt) as they are when their codes
 * fit the window, else the file (data, len: what the parts join to) split
 * again to fit, which the intro says.  data may be NULL: parts shown as
 * they are.
 */
int ui_qr_view_split(const struct cer_qr_set *parts, const uint8_t *data, size_t len,
                     const char *title);

/*
 * Splits data in memory into parts that fit the current window (at most the
 * default part size) with error correction level ec, and shows them.  title
 * names the file.
 */
int ui_qr_view_data(const uint8_t *data, size_t len, enum cer_qr_ec ec, const char *title);

/* Word-wrapped text from (y, x) with a margin of x on the right; the next free line. */
int ui_qr_wrap(WINDOW *win, int y, int x, const char *text);

#endif
