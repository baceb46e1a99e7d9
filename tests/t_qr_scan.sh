#!/usr/bin/env bash
# qr scan: the camera's decode path (libzbar on grey frames) fed with PNG
# frames instead of a device (--images).  Frames are made from split's PNGs
# with ImageMagick the way a camera sees a screen: smaller, tilted, soft, on a
# grey surround, one at an angle, one noisy; some blurred or covered past
# reading, some empty, one with two codes; shuffled and repeated.  The file must come back byte for byte;
# mixed, corrupted and incomplete sets are refused as `qr join` refuses them,
# old SDC1 parts still scan, and Ctrl-C leaves nothing.  Only opening a real
# camera is left to the by-hand check in docs/qr.md.
. tests/lib.sh

need() { command -v "$1" >/dev/null || { not_ok "$1 is installed ($2)"; done_testing; exit; }; }
need convert imagemagick
need qrencode qrencode
need zbarimg zbar-tools

# A fixed random source: the same shuffles on every run.
SEED="$TMP/seed"
head -c 100000 /dev/zero | tr '\0' '7' >"$SEED"
mix() { shuf --random-source="$SEED" "$@"; }
# convert without its own randomness or a clock in the output.
im() { convert "${@:1:$#-1}" -define png:exclude-chunks=date,time "${@: -1}"; }
decode() { zbarimg --raw -q --nodbus -Sdisable -Sqrcode.enable "$@" 2>/dev/null; }

FILE="$VEC/sd/q4_n5.json"
expect_exit "split the 21 KB security-domain vector" 0 "$SDC" qr split "$FILE" --out "$TMP/qr"
total=$(ls "$TMP"/qr/*.png | wc -l)
check "it takes at least 10 parts ($total)" test "$total" -ge 10

# ---- frames as a camera would see them ---------------------------------
F="$TMP/frames"
mkdir -p "$F"
i=0
for png in "$TMP"/qr/*.png; do
	i=$((i + 1))
	n=$(basename "$png" .png)
	angle=$(( (i % 7) - 3 ))
	scale=$(( 55 + (i * 7) % 25 ))
	im "$png" -resize "$scale%" -background white -rotate "$angle" -background gray72 \
		-gravity center -extent 760x700 -blur 0x0.8 "$F/cam-$n.png"
done
im "$TMP/qr/01.png" -blur 0x7 "$F/blurred-01.png"
im "$TMP/qr/02.png" -blur 0x7 "$F/blurred-02.png"
im "$TMP/qr/03.png" -fill gray40 -draw "rectangle 10,10 260,260" "$F/covered-03.png"
im "$TMP/qr/04.png" -fill gray40 -draw "rectangle 0,300 630,420" "$F/covered-04.png"
im "$TMP/qr/05.png" -fill gray40 -draw "rectangle 300,300 336,336" "$F/spot-05.png"
im "$TMP/qr/06.png" "$TMP/qr/07.png" +append "$F/two-06-07.png"
im "$TMP/qr/08.png" -virtual-pixel white \
	-distort Perspective '0,0 20,12  629,0 615,0  0,629 5,629  629,629 629,610' \
	-background gray72 -gravity center -extent 760x700 "$F/oblique-08.png"
im "$TMP/qr/09.png" -seed 5 -attenuate 0.6 +noise Gaussian -colorspace gray "$F/noisy-09.png"
im -size 640x480 xc:gray60 "$F/empty-1.png"
im -size 640x480 gradient:white-gray20 "$F/empty-2.png"

expect_exit "blurred and covered frames alone give no part (3)" 3 \
	"$SDC" qr scan --out "$TMP/none.out" --images "$F"/blurred-*.png "$F"/covered-*.png "$F"/empty-*.png
expect_err "and are refused as join refuses no part" "no QR part given"
expect_exit "a code with a small spot still reads (level L corrects it)" 3 \
	"$SDC" qr scan --out "$TMP/none.out" --images "$F/spot-05.png"
expect_err "as part 5" "missing parts 1-4, 6-$total of $total"
expect_exit "a frame with two codes gives both" 3 \
	"$SDC" qr scan --out "$TMP/none.out" --images "$F/two-06-07.png"
expect_err "parts 6 and 7" "missing parts 1-5, 8-$total of $total"
expect_exit "a code seen at an angle and a noisy code read" 3 \
	"$SDC" qr scan --out "$TMP/none.out" --images "$F/oblique-08.png" "$F/noisy-09.png"
expect_err "as parts 8 and 9" "missing parts 1-7, 10-$total of $total"
check "nothing written for those" test ! -e "$TMP/none.out"

ls "$F"/*.png | mix >"$TMP/order"
ls "$F"/cam-*.png | mix -n 6 >>"$TMP/order"
mapfile -t frames < <(mix "$TMP/order")
expect_exit "scan of ${#frames[@]} shuffled frames, some repeated, blurred or covered" 0 \
	"$SDC" qr scan --out "$TMP/scan.out" --images "${frames[@]}"
cp "$TMP/.out" "$TMP/scan.log"
check "rebuilds the file byte for byte" cmp "$FILE" "$TMP/scan.out"
check "prints the sha256sum line" \
	grep -qxF -- "sha256sum: $(sha256sum "$FILE" | cut -c1-64)  $TMP/scan.out" "$TMP/scan.log"
check "and the number of parts" grep -qF -- "joined from $total parts" "$TMP/scan.log"

# It stops once the set is complete: a bad frame after that is never read.
mapfile -t cams < <(ls "$F"/cam-*.png)
echo "not a png" >"$TMP/junk.png"
expect_exit "scan stops at the last part (a bad frame after it is not read)" 0 \
	"$SDC" qr scan --out "$TMP/early.out" --images "${cams[@]}" "$TMP/junk.png"
check "to the same file" cmp "$FILE" "$TMP/early.out"

expect_exit "an existing output is refused (5)" 5 \
	"$SDC" qr scan --out "$TMP/scan.out" --images "${cams[@]}"
expect_err "naming --force" "scan.out: already exists .*--force"
expect_exit "--force replaces it" 0 "$SDC" qr scan --force --out "$TMP/scan.out" --images "${cams[@]}"

# A transcript that can grow no more: the file is written and said so, the
# lost record fails the scan (5).
head -c 1000000 /dev/zero >"$TMP/full.log"
expect_exit "a lost record fails scan (5)" 5 size_capped 1000000 \
	"$SDC" qr scan --out "$TMP/full.out" --transcript "$TMP/full.log" --images "${cams[@]}"
cp "$TMP/.out" "$TMP/full-scan.log"
expect_err "... naming the transcript" "transcript .*full.log: write failed"
check "... and says what it wrote" \
	grep -qxF -- "sha256sum: $(sha256sum "$FILE" | cut -c1-64)  $TMP/full.out" "$TMP/full-scan.log"
check "... the file stays" cmp "$FILE" "$TMP/full.out"

# ---- refusals: as join refuses them ----------------------------------------
expect_exit "missing parts are refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "${cams[@]:0:5}" "${cams[@]:6}"
expect_err "and named" "missing part 6 of $total"

"$SDC" qr split "$VEC/sd/exchange/exchange.cer" --out "$TMP/x" >/dev/null 2>&1
expect_exit "frames of two files are refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "${cams[@]:0:3}" "$TMP/x/01.png" "${cams[@]:3}"
expect_err "naming the frame and the mix" "x/01.png: part 1/[0-9]+ is from a different file .*two files are mixed"

"$SDC" qr split "$FILE" --max-bytes 500 --out "$TMP/small" >/dev/null 2>&1
expect_exit "two splits of one file are refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "${cams[@]:0:2}" "$TMP/small/03.png"
expect_err "as such" "small/03.png: part 3/[0-9]+ of file .* two different splits of the file are mixed"

part=$(cat "$TMP/qr/02.txt")
bad=${part:0:40}$([ "${part:40:1}" = A ] && echo B || echo A)${part:41}
qrencode -l L -s 6 -o "$TMP/corrupt.png" "$bad"
check "the corrupted code decodes to the altered text" test "$(decode "$TMP/corrupt.png")" = "$bad"
expect_exit "a corrupted part is refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "${cams[0]}" "$TMP/corrupt.png" "${cams[@]:1}"
expect_err "naming the frame and the part" "corrupt.png: part 2/$total .*corrupted: check value"

qrencode -l L -s 6 -o "$TMP/url.png" "HTTPS://EXAMPLE.ORG/NOT-A-PART"
expect_exit "a code that is no part is skipped" 0 \
	"$SDC" qr scan --out "$TMP/url.out" --images "$TMP/url.png" "${cams[@]}"
expect_err "with a note naming its frame" "ignored 1 code with no QR part .first: .*url.png"
check "and the file still rebuilt" cmp "$FILE" "$TMP/url.out"
check "nothing written for any refusal" test ! -e "$TMP/bad.out"

expect_exit "a file that is not a PNG is refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "$TMP/junk.png"
expect_err "and named" "junk.png: not a PNG image"
expect_exit "a missing frame file is an I/O error (5)" 5 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "$TMP/nope.png"
expect_err "named" "nope.png: cannot read"
im -size 9000x10 xc:white "$TMP/huge.png"
expect_exit "a frame over 8192 pixels a side is refused (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "$TMP/huge.png"
expect_err "with the limit" "huge.png: an image of 9000 x 10 pixels .limit 8192"

# ---- SDC1 parts (the first format) still scan --------------------------------
i=0
sdc1=()
while IFS= read -r line; do
	i=$((i + 1))
	qrencode -l M -s 5 -o "$TMP/sdc1-$i.png" "$line"
	sdc1+=("$TMP/sdc1-$i.png")
done <"$VEC/qr/exchange-sdc1.txt"
expect_exit "old SDC1 codes scan" 0 "$SDC" qr scan --out "$TMP/sdc1.out" --images "${sdc1[@]}"
check "to the file byte for byte" cmp "$VEC/sd/exchange/exchange.cer" "$TMP/sdc1.out"
expect_exit "SDC1 and SDC2 codes of one file are refused together (3)" 3 \
	"$SDC" qr scan --out "$TMP/bad.out" --images "${sdc1[0]}" "$TMP"/x/*.png
expect_err "as two splits" "is SDC2 but the parts before it are SDC1"

# ---- the live line, on a terminal ----------------------------------------------
if command -v script >/dev/null; then
	SDC="$SDC" TMPD="$TMP" script -qec '"$SDC" qr scan --out "$TMPD/pty.out" --images "$TMPD"/qr/0[1-5].png "$TMPD"/qr/1*.png' \
		"$TMP/pty.log" >/dev/null 2>&1
	check "on a terminal, the live line counts the parts" grep -qF -- "have 1 of $total parts" "$TMP/pty.log"
	check "and names the missing numbers as ranges" grep -qF -- "; missing 6-9" "$TMP/pty.log"
	check "redrawn in place" grep -qF -- $'\r\033[K' "$TMP/pty.log"
	check "nothing written for the incomplete set" test ! -e "$TMP/pty.out"
else
	skip "live progress line" "script (util-linux) not installed"
fi

# ---- Ctrl-C while a frame is awaited (a FIFO stands for a slow camera) -------
mkfifo "$TMP/slow.png"
"$SDC" qr scan --out "$TMP/int.out" --images "${cams[@]:0:3}" "$TMP/slow.png" >/dev/null 2>"$TMP/int.err" &
pid=$!
catches_int() { local m; m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null); [ -n "$m" ] && (( 0x$m & 2 )); }
for _ in $(seq 1 200); do catches_int "$pid" && break; sleep 0.05; done
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
check "Ctrl-C stops scan with a usage status (exit $rc)" test "$rc" -eq 2
check "saying nothing was written" grep -qF -- "interrupted: nothing written" "$TMP/int.err"
check "no output and no temporary left" \
	test ! -e "$TMP/int.out" -a -z "$(find "$TMP" -maxdepth 1 -name '.*int.out*')"

# ---- the command line ------------------------------------------------------------
expect_exit "--out is required (2)" 2 "$SDC" qr scan --images "${cams[0]}"
expect_exit "--images with no file (2)" 2 "$SDC" qr scan --out "$TMP/u" --images
expect_exit "--images and --device together (2)" 2 \
	"$SDC" qr scan --out "$TMP/u" --device /dev/video0 --images "${cams[0]}"
expect_exit "a PNG without --images (2)" 2 "$SDC" qr scan --out "$TMP/u" "${cams[0]}"
expect_err "says what is missing" "PNG files need --images"
expect_exit "a device that does not exist (5)" 5 "$SDC" qr scan --out "$TMP/u" --device "$TMP/nodev"
expect_err "is named" "nodev: no camera .No such file"
expect_exit "a character device that is no camera (5)" 5 "$SDC" qr scan --out "$TMP/u" --device /dev/null
expect_err "is named, and libv4l says nothing" "^sdceremony: /dev/null: no camera .not a video device.$"
check "one line only" test "$(wc -l <"$TMP/.err")" -eq 1
expect_exit "--device is for scan only (2)" 2 "$SDC" qr join --out "$TMP/u" --device /dev/video0
check "qr --help documents scan" bash -c '"$0" qr --help | grep -qF -- "qr scan --out FILE [--force] [--transcript FILE] [--device /dev/videoN]"' "$SDC"
check "no stray output files" test ! -e "$TMP/u"

done_testing
