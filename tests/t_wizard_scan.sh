#!/usr/bin/env bash
# The wizard's recovery taking its files in by camera, through a real
# terminal (tmux): the security-domain file and the exchange key are read
# off PNG frames pushed through the camera's decode path (the hidden
# --scan-images DIR stands in for the device, one stream of frames as a
# camera gives).  Each scan shows its progress and, at the end, the file's
# SHA-256 to compare; a code of another file is refused on screen and the
# scan goes on; frames that end before the set is complete are told.
. tests/lib.sh

need() { command -v "$1" >/dev/null || { not_ok "$1 is installed ($2)"; done_testing; exit; }; }
need tmux tmux
need convert imagemagick

SOCK="$TMP/tmux.sock"
PANE=scan
WORK="$TMP/work"
WAIT=${SDC_WIZ_WAIT:-30}
sanitized && WAIT=120
trap 'tmux -S "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
. tests/wizlib.sh

SD="$VEC/sd/q2_n3.json"
X="$VEC/sd/exchange/exchange.cer"
sdhex=$(sha256sum "$SD" | cut -c1-64)
xhex=$(sha256sum "$X" | cut -c1-64)
mkdir -p "$WORK" "$TMP/frames"
"$SDC" qr split "$SD" --out "$TMP/sd" >/dev/null 2>&1 || not_ok "qr split of the security domain"
"$SDC" qr split "$X" --max-bytes 400 --out "$TMP/x" >/dev/null 2>&1 || not_ok "qr split of the exchange key"
"$SDC" qr split "$VEC/sd/q4_n5.json" --out "$TMP/other" >/dev/null 2>&1

# cam SRC NAME: SRC as a camera sees it (smaller, softer, a grey surround).
cam() { convert "$1" -resize 70% -blur 0x0.7 -background gray70 -gravity center -extent 700x640 \
	-define png:exclude-chunks=date,time "$TMP/frames/$2.png"; }
# The stream: the security domain's codes in reverse order with a repeat and
# an empty frame, then the exchange key's, with another file's code among them.
# The last security-domain frame completes its set, so the exchange key's
# scan starts after it.
n=0
for f in $(ls "$TMP"/sd/*.png | sort -r); do n=$((n + 1)); cam "$f" "$(printf 'a%03d' "$n")"; done
cam "$TMP/sd/03.png" a000
convert -size 640x480 xc:gray50 "$TMP/frames/a500.png"
cam "$TMP/x/02.png" b001
cam "$TMP/other/03.png" b002
cam "$TMP/x/03.png" b003
cam "$TMP/x/02.png" b004
cam "$TMP/x/01.png" b005
nsd=$(ls "$TMP"/sd/*.png | wc -l)
nx=$(ls "$TMP"/x/*.png | wc -l)

tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 32 -c "$WORK" \
	"env LANG=C.UTF-8 '$SDC' wizard --scan-images '$TMP/frames'; echo \"wizard exited \$?\"; sleep 600"
screen "start screen" "Air-gap check"
keys Enter
wait_for "Go on anyway|What are we doing" || true
grep -q "Go on anyway" "$TMP/pane" && keys y
screen "menu" "What are we doing"

keys 2
screen "the recovery form offers the camera for the security-domain file" "Security-domain file \(empty: camera\)"
check "... and for the exchange key" grep -qF -- "Exchange key (empty: camera or QR parts)" "$TMP/pane"
field ""
field ""
field ""
keys Enter
field ""
keys Enter
screen "an empty security-domain path scans it" "Scanning the security-domain file from test frames"
screen "... to the end, with the file's SHA-256" "all $nsd parts read: $(stat -c %s "$SD") bytes"
check "... the SHA-256 in full, on a line of its own" grep -qxE -- " *SHA-256 $sdhex *" "$TMP/pane"
keys Enter
screen "then the exchange key is scanned" "Scanning the exchange key from test frames"
screen "... to the end" "all $nx parts read: $(stat -c %s "$X") bytes"
check "... telling another file's code it refused on the way" grep -qF -- "Refused on the way, not used: [FAIL]" "$TMP/pane"
check "... naming its frame and why" bash -c 'tr -d "\n" <"$0" | tr -s " " | grep -qE -- "frames/b002.png: part [0-9]+/[0-9]+ is from a different file"' "$TMP/pane"
check "... its SHA-256 shown to compare" grep -qxE -- " *SHA-256 $xhex *" "$TMP/pane"
keys Enter
screen "the exchange key's facts are shown for confirmation" "Do the SHA-256, CN and thumbprint match"
check "with the scanned key's SHA-256" grep -qF -- "$xhex" "$TMP/pane"
keys y
screen "recovery hands over to the first custodian" "Shares in: 0 of the 2 required"
T="$WORK/sdceremony-transcript.txt"
check "the transcript names the scanned security domain and its SHA-256" \
	grep -qE -- "recovery start: sd_file \(scanned security-domain file\) sha256 $sdhex" "$T"
check "... how it came in" grep -qF -- "security-domain file scanned from test frames" "$T"
check "... and the exchange key joined from its scanned parts" \
	grep -qF -- "exchange key joined from $nx QR parts" "$T"
check "nothing scanned is written to a file" test -z "$(ls "$WORK" | grep -v sdceremony-transcript)"
tm kill-server

# Frames that end before a part: told, and the form is back.
mkdir -p "$TMP/few"
convert -size 640x480 xc:gray50 "$TMP/few/empty.png"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 32 -c "$WORK" \
	"env LANG=C.UTF-8 '$SDC' wizard --scan-images '$TMP/few' --transcript '$TMP/few.txt'; echo \"wizard exited \$?\"; sleep 600"
screen "second wizard" "Air-gap check"
keys Enter
wait_for "Go on anyway|What are we doing" || true
grep -q "Go on anyway" "$TMP/pane" && keys y
screen "menu again" "What are we doing"
keys 2
screen "recovery form again" "Security-domain file"
field ""
field "$X"
field ""
keys Enter
field ""
keys Enter
screen "frames that end before a part are told" "frames ended"
check "... as no part" grep -qF -- "no QR part given" "$TMP/pane"
keys Enter
screen "... and the form is back" "Security-domain file"
check "the transcript tells it too" grep -qF -- "security-domain file by camera: [FAIL] the frames ended: no QR part given" "$TMP/few.txt"
expect_exit "--scan-images names a directory it cannot read (5)" 5 "$SDC" wizard --scan-images "$TMP/nope"
tm kill-server

done_testing
