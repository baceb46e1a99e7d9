#!/usr/bin/env bash
# QR codes across the air gap, checked with a real decoder (zbarimg): split a
# 64 KiB random file and a ~20 KB restore blob, decode every PNG, shuffle and
# duplicate the lines, join, compare byte for byte; a missing part, a
# corrupted part and parts of two files are each refused with no output.
# `qr show` is driven in tmux: the half-block code on screen is decoded too.
. tests/lib.sh

need() { command -v "$1" >/dev/null || { not_ok "$1 is installed ($2)"; done_testing; exit; }; }
need zbarimg zbar-tools
need python3 python3
need tmux tmux

SOCK="sdcqr$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT

# zbarimg prints D-Bus noise on stderr without --nodbus.  It reads
# every barcode type by default and, now and then, a stray 1-D DataBar in a
# QR image: decode() asks for QR codes only; join copes with both.
decode() { zbarimg --raw -q --nodbus -Sdisable -Sqrcode.enable "$@" 2>/dev/null; }

# png_width FILE: the width field of the PNG header.
png_width() { od -An -tu1 -j16 -N4 "$1" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }'; }

# ---- a 64 KiB random file ----------------------------------------------
head -c 65536 /dev/urandom >"$TMP/rand.bin"
expect_exit "split a 64 KiB file" 0 "$SDC" qr split "$TMP/rand.bin" --out "$TMP/rand"
cp "$TMP/.out" "$TMP/split.out"
n=$(find "$TMP/rand" -name '*.png' | wc -l)
want=$(( (65536 + 36 + 799) / 800 ))
check "one PNG and one .txt per part ($n, want $want) and index.html" \
	test "$n" -eq "$want" -a "$(find "$TMP/rand" -name '*.txt' | wc -l)" -eq "$want" \
	-a -f "$TMP/rand/index.html"
check "split reports the parts and the QR version on stdout" grep -qE -- \
	"^$TMP/rand: $want parts of $TMP/rand.bin \(65536 bytes, SHA-256 [0-9a-f]{64}\), QR version 20 or below at level L$" \
	"$TMP/split.out"
check "... and the file's SHA-256 as sha256sum prints it" \
	grep -qxF -- "sha256sum: $(sha256sum "$TMP/rand.bin")" "$TMP/split.out"
widest=0
for f in "$TMP"/rand/*.png; do w=$(png_width "$f"); [ "$w" -gt "$widest" ] && widest=$w; done
check "largest PNG is version 20 at 6 px a module, 4-module quiet zone ($widest px)" \
	test "$widest" -eq $(( (17 + 4 * 20 + 8) * 6 ))
decode "$TMP"/rand/*.png >"$TMP/rand.scan"
zbarimg --raw -q --nodbus "$TMP"/rand/01.png 2>"$TMP/zbar.err" >/dev/null
check "zbarimg --nodbus, as the README has it, prints nothing on stderr" test ! -s "$TMP/zbar.err"
check "zbarimg reads every PNG as exactly its NN.txt" \
	cmp <(sort "$TMP/rand.scan") <(cat "$TMP"/rand/*.txt | sort)
{ shuf "$TMP/rand.scan"; echo; shuf -n 30 "$TMP/rand.scan" | sed 's/^/  /'; } >"$TMP/rand.mixed"
expect_exit "join shuffled, duplicated scans from stdin" 0 \
	"$SDC" qr join --out "$TMP/rand.out" <"$TMP/rand.mixed"
grep -qF -- "$(sha256sum "$TMP/rand.bin" | cut -c1-64)" "$TMP/.out" && ok "join prints the SHA-256" ||
	not_ok "join prints the SHA-256"
check "joined file equals the original byte for byte" cmp "$TMP/rand.bin" "$TMP/rand.out"
expect_exit "join refuses an existing output" 5 \
	"$SDC" qr join --out "$TMP/rand.out" "$TMP"/rand/*.txt
expect_err "existing output names --force" "already exists .*--force"
expect_exit "join from part files with --force" 0 \
	"$SDC" qr join --force --out "$TMP/rand.out" "$TMP"/rand/*.txt
check "joined from files equals the original" cmp "$TMP/rand.bin" "$TMP/rand.out"
zbarimg -q --nodbus "$TMP"/rand/[0-4]*.png "$TMP"/rand/[5-9]*.png 2>/dev/null |
	shuf >"$TMP/rand.prefixed"
check "zbarimg output with its QR-Code: prefixes is accepted" \
	grep -q '^QR-Code:SDC1:' "$TMP/rand.prefixed"
expect_exit "join prefixed lines" 0 "$SDC" qr join --out "$TMP/rand.out2" <"$TMP/rand.prefixed"
check "joined from prefixed lines equals the original" cmp "$TMP/rand.bin" "$TMP/rand.out2"

# ---- join on a stream that stays open (a camera: zbarcam --raw) ----------
# The writer keeps the FIFO open after the last part: join must end by itself.
mkfifo "$TMP/fifo"
timeout 20 "$SDC" qr join --out "$TMP/stream.out" <"$TMP/fifo" >"$TMP/stream.log" 2>&1 &
jpid=$!
exec 3>"$TMP/fifo"
shuf "$TMP/rand.scan" >&3
wait "$jpid"
rc=$?
exec 3>&-
check "join on an open stream ends once the set is complete (exit $rc)" test "$rc" -eq 0
check "the file joined from the stream equals the original" cmp "$TMP/rand.bin" "$TMP/stream.out"
check "and the sha256sum line is printed" \
	grep -qF -- "sha256sum: $(sha256sum "$TMP/rand.bin" | cut -c1-64)  $TMP/stream.out" "$TMP/stream.log"

# With stderr on a terminal (script gives a pty): one live line of progress.
grep -vE '^SDC1:(7|9|10|11)/' "$TMP/rand.scan" >"$TMP/gaps"
if command -v script >/dev/null; then
	SDC="$SDC" TMPD="$TMP" script -qec '"$SDC" qr join --out "$TMPD/gaps.out" <"$TMPD/gaps"' \
		"$TMP/pty.log" >/dev/null 2>&1
	check "on a terminal, the live line counts the parts" grep -qF -- "have 1 of $want parts" "$TMP/pty.log"
	check "and names the missing numbers as ranges" \
		grep -qF -- "have $((want - 4)) of $want parts; missing 7, 9-11" "$TMP/pty.log"
	check "the line is redrawn in place" grep -qF -- $'\r\033[K' "$TMP/pty.log"
	check "nothing written for the incomplete set" test ! -e "$TMP/gaps.out"
else
	skip "live progress line" "script (util-linux) not installed"
fi
expect_exit "without a terminal there is no live line" 3 "$SDC" qr join --out "$TMP/gaps.out" <"$TMP/gaps"
check "stderr holds only the refusal" test "$(grep -c -- 'have ' "$TMP/.err")" -eq 1

# Ctrl-C while waiting for parts: nothing left behind.
# It is interrupted once it catches SIGINT (SigCgt in /proc), so never too early.
"$SDC" qr join --out "$TMP/int.out" <"$TMP/fifo" >/dev/null 2>"$TMP/int.err" &
jpid=$!
exec 3>"$TMP/fifo"
head -3 "$TMP/rand.scan" >&3
catches_int() { local m; m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null); [ -n "$m" ] && (( 0x$m & 2 )); }
for i in $(seq 1 200); do catches_int "$jpid" && break; sleep 0.05; done
kill -INT "$jpid"
wait "$jpid"
rc=$?
exec 3>&-
check "Ctrl-C stops join with a usage status (exit $rc)" test "$rc" -eq 2
check "and says nothing was written" grep -qF -- "interrupted: nothing written" "$TMP/int.err"
check "no output and no temporary after Ctrl-C" \
	test ! -e "$TMP/int.out" -a -z "$(find "$TMP" -maxdepth 1 -name '.*int.out*')"

# ---- a restore blob (about 20 KB) ---------------------------------------
SD="$VEC/sd"
BLOB="$TMP/restore-blob.json"
if ! "$SDC" restore-blob --sd-file "$SD/q2_n3.json" --sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$SD/keys/cert_0.key" "$SD/keys/cert_1.key" \
	--sd-file-restore-blob "$BLOB" </dev/null >/dev/null 2>&1; then
	diag "restore-blob unavailable: using a committed security-domain file of the same shape"
	cp "$SD/q4_n5.json" "$BLOB"
fi
size=$(stat -c %s "$BLOB")
check "restore blob is realistic in size ($size bytes)" test "$size" -gt 10000
expect_exit "split the restore blob" 0 "$SDC" qr split "$BLOB" --out "$TMP/blob"
decode "$TMP"/blob/*.png | shuf >"$TMP/blob.scan"
nb_png=$(ls "$TMP"/blob/*.png | wc -l)
cat "$TMP/blob.scan" <(head -5 "$TMP/blob.scan") | shuf >"$TMP/blob.mixed"
expect_exit "join the blob's scans" 0 "$SDC" qr join --out "$TMP/blob.out" <"$TMP/blob.mixed"
check "joined blob equals the original byte for byte" cmp "$BLOB" "$TMP/blob.out"
check "index.html inlines every code and needs no network" bash -c '
	n=$(grep -o "src=\"data:image/png;base64," "$1/index.html" | wc -l)
	[ "$n" -eq "$(ls "$1"/*.png | wc -l)" ] && ! grep -qiE "https?:|<script src|<link" "$1/index.html"
' _ "$TMP/blob"

# The page's script, run in node against a minimal stand-in for the DOM.
if command -v node >/dev/null; then
	sed -n '/^<script>$/,/^<\/script>$/p' "$TMP/blob/index.html" | sed '1d;$d' >"$TMP/page.js"
	cat >"$TMP/drive.js" <<'JS'
const fs = require('fs');
const n = +process.argv[3];
const figs = Array.from({ length: n }, () => ({ className: '' }));
const bar = { textContent: '' };
let handler = null, timer = null, answer = '', alerts = [];
global.document = {
	title: 'blob', body: { className: '' }, documentElement: {},
	getElementsByTagName: () => figs, getElementById: () => bar,
	addEventListener: (t, fn) => { handler = fn; },
};
global.window = { prompt: () => answer, alert: (m) => alerts.push(m) };
global.setTimeout = (fn) => { timer = fn; return 1; };
global.clearTimeout = () => { timer = null; };
const key = (k) => handler({ key: k, preventDefault() {} });
const shown = () => figs.findIndex((f) => f.className === 'on') + 1;
const out = [];
const note = () => out.push(shown() + '|' + bar.textContent);
eval(fs.readFileSync(process.argv[2], 'utf8'));
note();                 // part 1, running
timer(); note();        // auto-advance: part 2
key(' '); note();       // paused
key('ArrowRight'); note();
key('ArrowLeft'); key('ArrowLeft'); key('ArrowLeft'); note();
key('Home'); note();
key(' '); key('+'); note();
key('c'); note();       // camera pace
timer(); note();
key('c'); note();       // back to the pace before
key('c');
answer = 'have 15 of 18 parts; missing 3, 7-8';
key('m'); note();       // only the missing ones, as join names them
timer(); note(); timer(); note(); timer(); note();
key('ArrowLeft'); note();
answer = '0, 99'; key('m'); note();   // refused: the set stays
out.push('alerts ' + alerts.length);
answer = '5'; key('m'); note();
out.push('timer armed with one part: ' + (timer !== null));
key('a'); note();       // all again
key('End'); note();
console.log(out.join('\n'));
JS
	node "$TMP/drive.js" "$TMP/page.js" "$nb_png" >"$TMP/page.out" 2>&1
	cat >"$TMP/page.want" <<TXT
1|blob — part 1 of $nb_png — next in 2 s
2|blob — part 2 of $nb_png — next in 2 s
2|blob — part 2 of $nb_png — paused
3|blob — part 3 of $nb_png — paused
$nb_png|blob — part $nb_png of $nb_png — paused
1|blob — part 1 of $nb_png — paused
1|blob — part 1 of $nb_png — next in 1.5 s
1|blob — part 1 of $nb_png — next in 0.25 s
2|blob — part 2 of $nb_png — next in 0.25 s
2|blob — part 2 of $nb_png — next in 1.5 s
3|blob — part 3 of $nb_png — only 3, 7-8 — next in 0.25 s
7|blob — part 7 of $nb_png — only 3, 7-8 — next in 0.25 s
8|blob — part 8 of $nb_png — only 3, 7-8 — next in 0.25 s
3|blob — part 3 of $nb_png — only 3, 7-8 — next in 0.25 s
8|blob — part 8 of $nb_png — only 3, 7-8 — next in 0.25 s
8|blob — part 8 of $nb_png — only 3, 7-8 — next in 0.25 s
alerts 1
5|blob — part 5 of $nb_png — only 5 — next in 0.25 s
timer armed with one part: false
5|blob — part 5 of $nb_png — next in 0.25 s
$nb_png|blob — part $nb_png of $nb_png — next in 0.25 s
TXT
	check "index.html: auto-advance, space, arrows, Home, +, camera pace (c), only the missing parts (m), all (a)" \
		diff "$TMP/page.want" "$TMP/page.out"
	check "its help line names the camera pace and the missing parts" \
		grep -qF -- "c: camera pace (4 a second) &middot; m: only the missing parts" "$TMP/blob/index.html"
else
	skip "index.html script run in node" "node is not installed"
fi

# ---- committed fixtures (tests/vectors/qr/make.py) -------------------------
QV="$VEC/qr"
expect_exit "old SDC1 parts still join" 0 "$SDC" qr join --out "$TMP/sdc1.out" <<<"$(shuf "$QV/exchange-sdc1.txt")"
check "to the file byte for byte" cmp "$VEC/sd/exchange/exchange.cer" "$TMP/sdc1.out"
expect_exit "SDC2 parts with a truncated zlib stream are refused (3)" 3 \
	"$SDC" qr join --out "$TMP/z.out" "$QV/sdc2-truncated.txt"
expect_err "and named" "compressed data is truncated"
expect_exit "SDC2 parts with a corrupted zlib stream are refused (3)" 3 \
	"$SDC" qr join --out "$TMP/z.out" "$QV/sdc2-corrupted.txt"
expect_err "and named" "compressed data is corrupted"
expect_exit "a decompression bomb (8 MiB of zeros declared as 1174 bytes) is refused (3)" 3 \
	"$SDC" qr join --out "$TMP/z.out" "$QV/sdc2-bomb.txt"
expect_err "as inflating beyond the declared length" "inflates to more than the 1174 bytes"
check "nothing written for bad compressed parts" test ! -e "$TMP/z.out"

# ---- the goal of docs/qr.md: a 21 KB security-domain file in 20 codes ----
expect_exit "split the 21 KB vector with the defaults" 0 "$SDC" qr split "$VEC/sd/q4_n5.json" --out "$TMP/goal"
ng=$(ls "$TMP"/goal/*.png | wc -l)
check "at most 20 codes ($ng)" test "$ng" -le 20
check "every part is SDC2 (compressed)" test "$(grep -c '^SDC2:' "$TMP"/goal/*.txt | grep -c ':1$')" -eq "$ng"
widest=0
for f in "$TMP"/goal/*.png; do w=$(png_width "$f"); [ "$w" -gt "$widest" ] && widest=$w; done
check "each at most version 20 ($widest px)" test "$widest" -le $(( (17 + 4 * 20 + 8) * 6 ))
decode "$TMP"/goal/*.png >"$TMP/goal.scan"
check "zbarimg decodes every PNG" test "$(wc -l <"$TMP/goal.scan")" -eq "$ng"
expect_exit "and they join" 0 "$SDC" qr join --out "$TMP/goal.out" <"$TMP/goal.scan"
check "to the original byte for byte" cmp "$VEC/sd/q4_n5.json" "$TMP/goal.out"

# ---- refusals: missing, corrupted, mixed ---------------------------------
{ grep -v '^SDC1:7/' "$TMP/rand.scan"; grep -v '^SDC1:7/' "$TMP/rand.scan" | shuf -n 9; } >"$TMP/missing"
expect_exit "a missing part is refused (3)" 3 "$SDC" qr join --out "$TMP/bad.out" <"$TMP/missing"
expect_err "the missing part is named" "missing part 7 of $want"
check "nothing written for a missing part" test ! -e "$TMP/bad.out"

awk -v p="SDC1:9/$want:" 'index($0, p) == 1 && !done {
	c = substr($0, 40, 1); $0 = substr($0, 1, 39) (c == "A" ? "B" : "A") substr($0, 41); done = 1 }
	{ print }' "$TMP/rand.scan" >"$TMP/corrupt"
check "the corrupted copy differs in one line" test "$(diff "$TMP/rand.scan" "$TMP/corrupt" | grep -c '^>')" -eq 1
expect_exit "a corrupted part is refused (3)" 3 "$SDC" qr join --out "$TMP/bad.out" <"$TMP/corrupt"
expect_err "the corrupted part is named" "part 9/$want .*corrupted"
check "nothing written for a corrupted part" test ! -e "$TMP/bad.out"

{ head -40 "$TMP/rand.scan"; cat "$TMP/blob.scan"; } | shuf >"$TMP/twofiles"
expect_exit "parts of two files are refused (3)" 3 "$SDC" qr join --out "$TMP/bad.out" <"$TMP/twofiles"
expect_err "the mix is named" "different file .*two files are mixed"
check "nothing written for a mix" test ! -e "$TMP/bad.out"

{ echo "0140733477122095"; cat "$TMP/rand.scan"; } >"$TMP/stray"
expect_exit "a line with no part (a stray barcode) is skipped" 0 \
	"$SDC" qr join --out "$TMP/stray.out" <"$TMP/stray"
expect_err "with a note naming it" "ignored 1 line with no QR part .first: standard input line 1"
check "joined despite the stray line" cmp "$TMP/rand.bin" "$TMP/stray.out"
expect_exit "only lines with no part: refused (3)" 3 \
	"$SDC" qr join --out "$TMP/bad.out" <<<"https://example.org/not-a-part"
expect_err "as no part at all" "no QR part given"
expect_exit "a marker with a bad part is refused (3)" 3 \
	"$SDC" qr join --out "$TMP/bad.out" <<<"SDC1:1/1:0123"
expect_err "and named with its line" "standard input line 1: part 1/1 .*corrupted"
expect_exit "no part at all is refused (3)" 3 "$SDC" qr join --out "$TMP/bad.out" </dev/null
check "no temporary files left in the output directory" \
	test -z "$(find "$TMP" -maxdepth 1 \( -name '.*tmp*' -o -name '*.tmp-*' \))"

# ---- split's own refusals ---------------------------------------------------
expect_exit "split into a non-empty directory is refused (5)" 5 \
	"$SDC" qr split "$BLOB" --out "$TMP/rand"
expect_err "and says why" "not empty"
expect_exit "--force replaces a previous split" 0 \
	"$SDC" qr split "$BLOB" --out "$TMP/rand" --force
check "stale parts of the previous split are gone" \
	test "$(ls "$TMP"/rand/*.png | wc -l)" -eq "$(ls "$TMP"/blob/*.png | wc -l)"
: >"$TMP/rand/keep.me"
expect_exit "--force never replaces a directory with other files (5)" 5 \
	"$SDC" qr split "$BLOB" --out "$TMP/rand" --force
check "the other file is still there" test -f "$TMP/rand/keep.me"
expect_exit "bad --ec is a usage error" 2 "$SDC" qr split "$BLOB" --out "$TMP/x" --ec Z
expect_exit "too small --max-bytes is a usage error" 2 \
	"$SDC" qr split "$BLOB" --out "$TMP/x" --max-bytes 10
expect_exit "a missing input is an I/O error" 5 "$SDC" qr split "$TMP/nope" --out "$TMP/x"
head -c $((1024 * 1024 + 1)) /dev/zero >"$TMP/big"
expect_exit "a file over 1 MiB is refused (3)" 3 "$SDC" qr split "$TMP/big" --out "$TMP/x"
expect_exit "a private key is never made QR codes (3)" 3 \
	"$SDC" qr split "$VEC/sd/keys/cert_2.key" --out "$TMP/x"
expect_err "and the refusal says so" "private key"
check "no output directory after refusals" test ! -e "$TMP/x"
check "no temporary directory left beside the output" \
	test -z "$(find "$TMP" -maxdepth 1 -name '*.tmp-*')"
expect_exit "--max-bytes 1200 --ec L" 0 \
	"$SDC" qr split "$BLOB" --out "$TMP/big-parts" --max-bytes 1200 --ec L
decode "$TMP"/big-parts/*.png >"$TMP/big.scan"
expect_exit "larger parts still decode and join" 0 \
	"$SDC" qr join --out "$TMP/big.out" <"$TMP/big.scan"
check "joined large parts equal the original" cmp "$BLOB" "$TMP/big.out"
check "--help documents split, show, join and exit status" bash -c \
	'"$0" qr --help | grep -q -- "--max-bytes" && "$0" qr join --help | grep -q "Exit status"' "$SDC"

# ---- show ---------------------------------------------------------------------
expect_exit "show without a terminal is refused (2)" 2 "$SDC" qr show "$BLOB" </dev/null
expect_err "and says it needs a terminal" "needs a terminal"

# Half-block text -> PBM (the glyphs paint the light modules), for zbarimg.
cat >"$TMP/hb2pbm.py" <<'EOF'
import sys
rows = [l.rstrip('\n') for l in sys.stdin if any(c in l for c in '\u2580\u2584\u2588')]
if not rows:
    sys.exit(1)
left = min(len(l) - len(l.lstrip(' ')) for l in rows)
w = max(len(l) for l in rows) - left
grid = []
for l in rows:
    l = l[left:].ljust(w)
    grid.append([c in '\u2580\u2588' for c in l])
    grid.append([c in '\u2584\u2588' for c in l])
s, m = 4, 4
W, H = (w + 2 * m) * s, (len(grid) + 2 * m) * s
print('P1\n%d %d' % (W, H))
for y in range(H):
    gy = y // s - m
    print(' '.join('0' if gy < 0 or gy >= len(grid) or not (0 <= x // s - m < w)
                   or grid[gy][x // s - m] else '1' for x in range(W)))
EOF

T() { tmux -L "$SOCK" "$@"; }
PANE=qr1
screen() { T capture-pane -p -t "$PANE"; }
# wait_for REGEX: polls the screen for up to 10 s.
wait_for() {
	local i
	for i in $(seq 1 100); do screen | grep -qE -- "$1" && return 0; sleep 0.1; done
	return 1
}
# screen_part: the part text of the code on screen, decoded by zbarimg.
# Retried for up to 2 s, in case the screen was captured half drawn.
screen_part() {
	local i out
	for i in $(seq 1 10); do
		out=$(screen | python3 "$TMP/hb2pbm.py" 2>/dev/null >"$TMP/screen.pbm" &&
			decode "$TMP/screen.pbm")
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.2
	done
	return 1
}

env_cmd="env LANG=C.UTF-8 LC_ALL=C.UTF-8 ASAN_OPTIONS=detect_leaks=0"
T new-session -d -s qr1 -x 200 -y 60 "$env_cmd $SDC qr show $TMP/blob; echo VIEWER-EXIT \$?; sleep 60"
nb=$(ls "$TMP"/blob/*.txt | wc -l)
check "show DIR starts with an intro naming the file" wait_for "Show $TMP/blob as QR codes"
check "with its SHA-256" wait_for "SHA-256 $(sha256sum "$BLOB" | cut -c1-64) \($(stat -c %s "$BLOB") bytes\)"
check "and the number of parts: the split's own, which fit" wait_for "^  $nb parts at this window size \(200 x 60\)"
check "no advice for fewer codes when there cannot be fewer" bash -c '! tmux -L "$0" capture-pane -p -t qr1 | grep -q "For fewer codes"' "$SOCK"
T send-keys -t "$PANE" Enter
check "Enter draws part 1 in the terminal" wait_for "^part 1 of $nb"
check "with the file's SHA-256 on the screen" wait_for "sha256 $(sha256sum "$BLOB" | cut -c1-64)"
T send-keys -t "$PANE" Space
check "space pauses auto-advance" wait_for "part 1 of $nb - paused"
check "the half-block code on screen decodes to part 1" test "$(screen_part)" = "$(cat "$TMP/blob/01.txt")"
T send-keys -t "$PANE" Right
check "Right steps to part 2" wait_for "part 2 of $nb - paused"
check "the code on screen is now part 2" test "$(screen_part)" = "$(cat "$TMP/blob/02.txt")"
T send-keys -t "$PANE" Left Left
check "Left steps back, wrapping to the last part" wait_for "part $nb of $nb - paused"
T send-keys -t "$PANE" Home
check "Home goes to part 1" wait_for "part 1 of $nb - paused"
T send-keys -t "$PANE" + + + Space
check "+ speeds auto-advance up to 0.5 s" wait_for "part [0-9]+ of $nb - next in 0.5 s"
check "auto-advance moves on by itself" wait_for "part [3-9] of $nb - next in"
T send-keys -t "$PANE" Space
T resize-window -t "$PANE" -x 90 -y 30
check "a window too small for the code says so" wait_for "too small for this code"
check "and that auto-advance waits" wait_for "Auto-advance waits until the code fits"
T resize-window -t "$PANE" -x 200 -y 60
check "growing it again draws the code" wait_for "█"
check "the redrawn code decodes" screen_part
T send-keys -t "$PANE" q
check "q leaves the viewer with status 0" wait_for "VIEWER-EXIT 0"
check "and show prints the SHA-256 on exit" wait_for "SHA-256 $(sha256sum "$BLOB" | cut -c1-64)"

# show FILE splits in memory to fit the window; step through and join what is seen.
# A second session (killing the first, the last one, would stop the server).
PANE=qr2
T new-session -d -s qr2 -x 160 -y 50 "$env_cmd $SDC qr show $BLOB; echo VIEWER-EXIT \$?; sleep 60"
check "show FILE's intro says how many parts" wait_for "Enter shows part 1 of [0-9]+"
T send-keys -t "$PANE" Enter
check "show FILE draws part 1" wait_for "^part 1 of [0-9]+"
T send-keys -t "$PANE" Space
wait_for "paused" >/dev/null
total=$(screen | sed -n 's/.*part 1 of \([0-9]*\).*/\1/p' | head -1)
: >"$TMP/seen"
for i in $(seq 1 "${total:-0}"); do
	wait_for "part $i of $total - paused" >/dev/null && screen_part >>"$TMP/seen"
	T send-keys -t "$PANE" Right
done
expect_exit "parts read off the terminal join to the original" 0 \
	"$SDC" qr join --out "$TMP/seen.out" "$TMP/seen"
check "file from the terminal equals the original byte for byte" cmp "$BLOB" "$TMP/seen.out"
T send-keys -t "$PANE" Escape
check "Esc leaves the viewer" wait_for "VIEWER-EXIT 0"

# --ec applies to FILE too: in the same window, level H holds less a code, so
# the same file takes more parts than at M, and what is seen still joins.
PANE=qr3
T new-session -d -s qr3 -x 160 -y 50 "$env_cmd $SDC qr show --ec H $BLOB; echo VIEWER-EXIT \$?; sleep 60"
check "show --ec H FILE's intro" wait_for "Enter shows part 1 of [0-9]+"
T send-keys -t "$PANE" Enter
check "show --ec H FILE draws part 1" wait_for "^part 1 of [0-9]+"
T send-keys -t "$PANE" Space
wait_for "paused" >/dev/null
total_h=$(screen | sed -n 's/.*part 1 of \([0-9]*\).*/\1/p' | head -1)
check "--ec H splits FILE into more parts than the default L (${total_h:-?} > ${total:-?})" \
	test "${total_h:-0}" -gt "${total:-0}"
: >"$TMP/seen_h"
for i in $(seq 1 "${total_h:-0}"); do
	wait_for "part $i of $total_h - paused" >/dev/null && screen_part >>"$TMP/seen_h"
	T send-keys -t "$PANE" Right
done
expect_exit "level H parts read off the terminal join" 0 \
	"$SDC" qr join --out "$TMP/seen_h.out" "$TMP/seen_h"
check "and equal the original byte for byte" cmp "$BLOB" "$TMP/seen_h.out"
T send-keys -t "$PANE" q
check "q leaves the level H viewer" wait_for "VIEWER-EXIT 0"

# show DIR at 80 x 24: the split's version-20 codes cannot be drawn, so the
# file is split again for the window, which the intro says before it starts.
PANE=qr4
id=$(cut -d: -f3 "$TMP/goal/01.txt")
T new-session -d -s qr4 -x 80 -y 24 "$env_cmd $SDC qr show $TMP/goal; echo VIEWER-EXIT \$?; sleep 60"
check "80 x 24: the intro counts the parts for this window" wait_for "^  [0-9]+ parts at this window size \(80 x 24\)"
n80=$(screen | sed -n 's/^  \([0-9]*\) parts at this window size.*/\1/p' | head -1)
check "more than the split's $ng, at most 160 ($n80)" test "${n80:-0}" -gt "$ng" -a "${n80:-999}" -le 160
check "it says the split's codes need a larger window" wait_for "The $ng codes of $TMP/goal need a window of 101 x 52"
check "and how to get fewer" wait_for "For fewer codes: a larger window or a smaller font"
check "naming index.html" bash -c 'tmux -L "$0" capture-pane -p -t qr4 | tr -s " \n" "  " | grep -qF -- "$1/index.html in a browser"' "$SOCK" "$TMP/goal"
check "the full SHA-256 is on the intro" wait_for "SHA-256 $(sha256sum "$VEC/sd/q4_n5.json" | cut -c1-64)"
T send-keys -t "$PANE" Enter
check "Enter shows part 1, one status line with the SHA-256" wait_for "^part 1 of $n80 - sha256 $(sha256sum "$VEC/sd/q4_n5.json" | cut -c1-40)"
T send-keys -t "$PANE" Space
wait_for "^part 1 of $n80 - paused" >/dev/null
p1=$(screen_part)
check "the code drawn at 80 x 24 is part 1 of the new split of the same file" \
	bash -c '[[ "$0" == SDC2:1/$1:$2:* ]]' "$p1" "$n80" "$id"
T send-keys -t "$PANE" End
wait_for "^part $n80 of $n80 - paused" >/dev/null
check "and the last code is part $n80" bash -c '[[ "$(cat)" == SDC2:$0/$0:$1:* ]]' "$n80" "$id" < <(screen_part)
T send-keys -t "$PANE" q
check "q leaves the 80 x 24 viewer" wait_for "VIEWER-EXIT 0"
T kill-server 2>/dev/null

# --transcript: split, join and a refusal each leave one record.
head -c 65536 /dev/urandom >"$TMP/tr.bin"
expect_exit "split --transcript" 0 "$SDC" qr split "$TMP/tr.bin" --out "$TMP/tr" \
	--transcript "$TMP/qr.log"
cp "$TMP/.out" "$TMP/split2.out"
check "split's printed lines are the transcript's record" \
	bash -c 'diff <(sed "s/^/  /" "$0") <(grep -A2 -F -- "qr split: " "$1" | tail -2 | sed "s/^[^ ]* //")' \
	"$TMP/split2.out" "$TMP/qr.log"
rsha=$(sha256sum "$TMP/tr.bin" | cut -c1-64)
check "split --transcript: the file's SHA-256 and the parts" grep -qE -- \
	"Z qr split: $TMP/tr.bin \(65536 bytes, sha256 $rsha\) into $TMP/tr: \[OK\] [0-9]+ parts$" "$TMP/qr.log"
expect_exit "join --transcript" 0 "$SDC" qr join --out "$TMP/tr.joined" --transcript "$TMP/qr.log" \
	"$TMP"/tr/*.txt
cp "$TMP/.out" "$TMP/join.out"
check "join --transcript: the joined file's SHA-256" grep -qF -- \
	"qr join: $(ls "$TMP"/tr/*.txt | wc -l) parts into $TMP/tr.joined: [OK] 65536 bytes, sha256 $rsha" "$TMP/qr.log"
# One report, two renderings: what join printed is what the transcript holds.
check "join's printed lines are the transcript's record" \
	bash -c 'diff <(sed "s/^/  /" "$0") <(grep -A2 -F -- "qr join: " "$1" | tail -2 | sed "s/^[^ ]* //")' \
	"$TMP/join.out" "$TMP/qr.log"
expect_exit "a refused split is recorded" 5 "$SDC" qr split "$TMP/tr.bin" --out "$TMP/tr" \
	--transcript "$TMP/qr.log"
check "... as a failure" grep -qF -- "qr split: $TMP/tr.bin into $TMP/tr: [FAIL] $TMP/tr: exists and is not empty" "$TMP/qr.log"
rm -f "$TMP/tr.joined"
# A transcript that can grow no more: what was written stays and is said, the
# lost record fails the command (5).
head -c 1000000 /dev/zero >"$TMP/full.log" # above any file the split writes
expect_exit "a lost record fails split (5)" 5 size_capped 1000000 "$SDC" qr split "$TMP/tr.bin" \
	--out "$TMP/tr-full" --transcript "$TMP/full.log"
cp "$TMP/.out" "$TMP/split-full.out"
expect_err "... naming the transcript" "transcript .*full.log: write failed"
check "... and says what it wrote" cmp "$TMP/split2.out" <(sed "s|$TMP/tr-full|$TMP/tr|" "$TMP/split-full.out")
check "... the split stays" test -s "$TMP/tr-full/index.html"
expect_exit "a lost record fails join (5)" 5 size_capped 1000000 "$SDC" qr join --out "$TMP/tr-full.joined" \
	--transcript "$TMP/full.log" "$TMP"/tr-full/*.txt
cp "$TMP/.out" "$TMP/join-full.out"
expect_err "... naming the transcript" "transcript .*full.log: write failed"
check "... and says what it wrote" grep -qF -- "$TMP/tr-full.joined: joined from $(ls "$TMP"/tr-full/*.txt | wc -l) parts, SHA-256 $rsha" "$TMP/join-full.out"
check "... the file stays" cmp "$TMP/tr.bin" "$TMP/tr-full.joined"

done_testing
