#!/usr/bin/env bash
# The wizard end to end through a real terminal (tmux): a key ceremony of 3
# keys with quorum 2, a recovery with two of those keys to a restore blob
# that blobopen unwraps with the exchange private key, and drills (a wrong
# passphrase told to that custodian; one custodian alone; a full drill).
. tests/lib.sh

SOCK="$TMP/tmux.sock"
PANE=wiz
WORK="$TMP/work"
EXCH="$VEC/sd/exchange"
PASS_A="alice passphrase 1"
PASS_B="bob's passphrase 22"
PASS_C="carol: a third one"
WAIT=${SDC_WIZ_WAIT:-30}
sanitized && WAIT=120

# Wizards that outlive their terminal (if the stop tests below fail) are killed.
kill_leftovers() {
	local f pid
	for f in "$TMP"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		grep -q sdceremony "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid" &&
			sleep 0.5 # its survivor.sh then writes its status
	done
}
kill_servers() {
	local s
	for s in "$TMP"/*.sock; do
		[ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null
	done
}
trap 'kill_servers; kill_leftovers; rm -rf "$TMP"' EXIT

expect_exit "wizard refuses without a terminal" 2 "$SDC" wizard </dev/null
expect_err "the refusal points to the batch commands" "use the batch commands"
check "wizard --help documents the transcript" bash -c '"$0" wizard --help | grep -q transcript' "$SDC"
check "wizard --help gives the statuses of an abandoned session" bash -c \
	'"$0" wizard --help | tr "\n" " " | grep -q "2 .*when stopped by SIGINT, SIGTERM or SIGQUIT, 5 when the terminal was lost"' "$SDC"

if ! command -v tmux >/dev/null; then
	not_ok "tmux is installed (Debian package tmux; needed by this test)"
	done_testing
	exit 1
fi
for t in sdforge blobopen; do
	if [ ! -x "$TOOLS/$t" ]; then
		not_ok "test tool $TOOLS/$t is built"
		done_testing
		exit 1
	fi
done

mkdir -p "$WORK/usb"
. tests/wizlib.sh

tm -f /dev/null new-session -d -s dumb -x 100 -y 30 -c "$WORK" \
	"env TERM=dumb '$SDC' wizard; echo \"wizard exited \$?\"; sleep 600"
PANE=dumb screen "a terminal without cursor addressing is refused" "cannot position the cursor"
PANE=dumb screen "... with a usage status" "wizard exited 2"
tm new-session -d -s piped -x 100 -y 30 -c "$WORK" \
	"'$SDC' wizard >'$TMP/piped.out' 2>&1; echo \"wizard exited \$?\"; sleep 600"
PANE=piped screen "wizard refuses when only stdout is not a terminal" "wizard exited 2"
check "... pointing to the batch commands" grep -q "use the batch commands" "$TMP/piped.out"

tm new-session -d -s notr -x 100 -y 30 -c "$WORK" \
	"'$SDC' wizard --transcript /nonexistent/t.txt 2>'$TMP/notr.err'; echo \"wizard exited \$?\"; sleep 600"
PANE=notr screen "start screen with an unwritable transcript" "Air-gap check"
tm send-keys -t notr Enter
PANE=notr wait_for "Go on anyway|cannot open" && grep -q "Go on anyway" "$TMP/pane" &&
	tm send-keys -t notr y
PANE=notr screen "an unwritable transcript is told at once" "transcript /nonexistent/t.txt: cannot open"
check "... and that the wizard stops" grep -qF -- "the wizard stops now" "$TMP/pane"
tm send-keys -t notr Enter
PANE=notr screen "... it stops, with exit status 5" "wizard exited 5"
check "... and says why on stderr" grep -qF -- "the transcript /nonexistent/t.txt could not be written; the session was stopped" "$TMP/notr.err"

# With no command on a terminal, sdceremony starts the wizard.
tm new-session -d -s "$PANE" -x 100 -y 30 -c "$WORK" \
	"env LANG=C.UTF-8 TERM=screen '$SDC'; echo \"wizard exited \$?\"; sleep 600"

screen "start screen shows the air-gap check" "Air-gap check"
screen "start screen shows the binary's SHA-256" "^ +[0-9a-f]{64}"
keys Enter
wait_for "Go on anyway|What are we doing" || true
if grep -q "Go on anyway" "$TMP/pane"; then
	ok "not air-gapped: the warning asks for confirmation"
	keys y
fi
screen "menu" "What are we doing"

# ---- key ceremony ----
keys 1
screen "key ceremony form" "Number of custodians"
keys Enter Enter Left Enter Enter
field "$WORK/ceremony"
field "alice, bob, carol"
screen "custodian 1's turn starts on a hand-over screen" "Custodian 1 of 3: alice"
check "... that has no field to type into" bash -c '! grep -qE "Passphrase|Write your key" "$0"' "$TMP/pane"
keys Enter
screen "custodian 1 is asked where the key goes" "Write your key to"
keys Enter
screen "an empty key path is explained, never defaulted to the output directory" \
	"Keys never go in the"
keys Enter
field "$WORK/nosuchdir/a.key"
screen "a key path in a missing directory is refused at once" "cannot use the directory"
keys Enter
field "$WORK/usb"
screen "a directory as key path means cert_0.key in it" "Key file: $WORK/usb/cert_0.key"
text "x"
wait_for "Passphrase +\(hidden"
grep -E "^ +Passphrase " "$TMP/pane" >"$TMP/pane1"
text "yyyyyyyyyyyyyyyyyyyyz"
wait_for "Passphrase +\(hidden"
grep -E "^ +Passphrase " "$TMP/pane" >"$TMP/pane2"
check "the passphrase field shows the same marker whatever its length" cmp "$TMP/pane1" "$TMP/pane2"
check "... and no characters" bash -c '! grep -qE "xy|z|\*" "$0"' "$TMP/pane2"
field "$PASS_A"
screen "the passphrase is asked again, alone" "Passphrase again"
field "$PASS_A"
if pane | grep -qF -- "$PASS_A"; then not_ok "passphrase never shown"; else ok "passphrase never shown"; fi
screen "custodian 2" "Custodian 2 of 3: bob"
keys Escape
screen "Esc goes back to the previous custodian" "Custodian 1 of 3: alice"
screen "... whose key path and passphrase are kept" "key to $WORK/usb/cert_0.key, passphrase set"
keys Enter
screen "custodian 2 again" "Custodian 2 of 3: bob"
keys Enter
field "$WORK/usb/cert_0.key"
screen "another custodian's key path is refused at once" "the same key path"
keys Enter
field "$WORK/usb/bob.key"
field "$PASS_B"
field "${PASS_B}x"
screen "mismatched passphrases are refused" "passphrases differ"
field "$PASS_A"
screen "a passphrase equal to another custodian's is refused" "same as another custodian"
field "$PASS_B"
field "$PASS_B"
screen "custodian 3" "Custodian 3 of 3: carol"
keys Enter
text "$WORK/us"; keys Tab
screen "Tab completes the key path" "Write your key to +$WORK/usb/ *$"
text "carol.key"; keys Enter
field "$PASS_C"
field "$PASS_C"
screen "summary before generating" "Ready to generate 3 RSA-2048 keys, quorum 2"
keys Enter
screen "confirmation before generating" "Generate the keys and write"
keys y
screen "keys generated" "\[OK\] 3 keys generated, quorum 2"
for i in 0 1 2; do
	hex=$(openssl x509 -in "$WORK/ceremony/cert_$i.cer" -outform DER | sha256sum | cut -c1-64)
	check "summary shows certificate $i's SHA-256 thumbprint" grep -qF -- "thumbprint (hex)       $hex" "$TMP/pane"
done
check "the download package exists" test -s "$WORK/ceremony/download-request.json"
screen "the summary shows the az command" "az keyvault security-domain download"
check "alice's key opens with her passphrase" \
	openssl pkey -in "$WORK/usb/cert_0.key" -passin "pass:$PASS_A" -noout
check "the output directory holds no private key" bash -c '! ls "$0"/*.key' "$WORK/ceremony"
check "carol's key was written where she chose" \
	openssl pkey -in "$WORK/usb/carol.key" -passin "pass:$PASS_C" -noout
check "carol's key is mode 0600" test "$(stat -c %a "$WORK/usb/carol.key")" = 600
keys Enter
screen "back at the menu" "What are we doing"

"$TOOLS/sdforge" --certs "$WORK"/ceremony/cert_{0,1,2}.cer --required 2 \
	--out "$WORK/sd.json" --items-out "$TMP/items.json" >"$TMP/.out" 2>&1 ||
	{ not_ok "sdforge made a security domain for the new certificates"; cat "$TMP/.out"; }

# ---- recovery, the exchange key brought in as QR part texts ----
"$SDC" qr split "$EXCH/exchange.cer" --max-bytes 400 --out "$TMP/qrx" >"$TMP/.out" 2>&1 ||
	{ not_ok "qr split of the exchange key"; cat "$TMP/.out"; }
keys 2
screen "recovery form" "Exchange key"
screen "the form asks for the new HSM's name" "New HSM's name"
field "sd.json"
field ""
field ""
keys Enter
field ""
keys Enter
screen "an empty exchange key path asks for QR parts" "Parts: no part yet"
field "$(cat "$TMP/qrx/02.txt")"
screen "a part is accepted" "missing 1, 3"
field "$(sed 's/^\(SDC[12]\):2/\1:3/' "$TMP/qrx/02.txt")"
screen "a corrupted part is refused" "corrupted"
keys Enter
field "QR-Code:$(cat "$TMP/qrx/03.txt")"
field "$(cat "$TMP/qrx/01.txt")"
screen "the exchange key's facts are shown for confirmation" \
	"Do the SHA-256, CN and thumbprint match"
xhex=$(sha256sum "$EXCH/exchange.cer" | cut -c1-64)
check "the screen shows the joined exchange key's SHA-256" grep -qF -- "$xhex" "$TMP/pane"
check "... its CN" grep -qF -- "Subject CN: sdceremony test HSM exchange key" "$TMP/pane"
check "... and that it is not attested" grep -qF -- "NOT ATTESTED" "$TMP/pane"
check "no custodian was asked for a key yet" bash -c '! grep -q "Your key file" "$0"' "$TMP/pane"
keys y
screen "recovery hands over to the first custodian" "Shares in: 0 of the 2 required"
check "the transcript has the joined parts and the exchange key's SHA-256 (the original's)" \
	grep -q "exchange key joined from 3 QR parts, [0-9]* bytes" "$WORK/sdceremony-transcript.txt"
check "... its facts" grep -qF -- "exchange key (joined QR parts): sha256 $xhex" \
	"$WORK/sdceremony-transcript.txt"
check "... and the operator's confirmation" grep -qF -- \
	"exchange key (joined QR parts) confirmed by the operator: sha256 $xhex" \
	"$WORK/sdceremony-transcript.txt"
check "the joined exchange key is not written to a file" \
	bash -c '! ls "$0"/exchange-key-from-qr* >/dev/null 2>&1' "$WORK"
keys Enter
field "usb/cert_0.key"
screen "the key's share is named before the passphrase is asked" "Custodian: alice"
field "$PASS_A"
screen "first share accepted" "Shares in: 1 of the 2 required"
check "... and alice's share is marked in" grep -qE -- "\[in\] +alice" "$TMP/pane"
keys Enter
field "usb/carol.key"
field "$PASS_C"
screen "quorum reached" "2 shares in, 2 required: the quorum is reached"
keys Escape
screen "Esc on the blob path goes back to the hand-over screen" "Enter: write the restore blob"
keys Enter
screen "... from which Enter comes back to the blob path" "Write the restore blob to"
keys Enter
screen "confirmation before writing the blob" "Write the restore blob to restore-blob.json\?"
printf 'half a blob' >"$WORK/.restore-blob.json.tmp-Zz9Yy8" # a killed run's
keys y
screen "a killed run's temporary beside the blob: named, removal offered" \
	"An interrupted run left files behind"
keys y
screen "restore blob written" "\[OK\] restore blob written: restore-blob.json"
check "... and the temporary is gone" test ! -e "$WORK/.restore-blob.json.tmp-Zz9Yy8"
hex=$(sha256sum "$WORK/restore-blob.json" | cut -c1-64)
check "the blob's SHA-256 is shown" grep -q "SHA-256 $hex" "$TMP/pane"
check "blobopen unwraps the blob with the exchange private key" "$TOOLS/blobopen" \
	--blob "$WORK/restore-blob.json" --exchange-key-private "$EXCH/exchange.key" \
	--expect "$TMP/items.json"
keys q
screen "the blob is offered as QR codes" "part 1 of [0-9]+"
keys q
screen "back from the QR viewer" "\[OK\] restore blob written"
keys Escape
screen "menu after recovery" "What are we doing"

# ---- recovery: exchange keys that must be refused ----
cp "$VEC/real-service/transfer-key-2025.jwk.json" "$VEC/attest/copied_extension.pem" "$WORK/"
cp "$VEC/real-service/exchange-2020.pem" "$WORK/"
openssl req -new -x509 -key "$WORK/usb/cert_0.key" -passin "pass:$PASS_A" \
	-subj "/CN=not-a-custodian" -days 30 -out "$WORK/recert.cer" 2>/dev/null ||
	not_ok "a second certificate for alice's key"
# recovery_files EXCHANGE HSM-NAME [require] [MRSIGNER]: fills the recovery
# form and submits it.
recovery_files() {
	keys 2
	screen "recovery form ($1)" "Exchange key"
	field "sd.json"
	field "$1"
	field "$2"
	[ "${3:-}" = require ] && keys Right
	keys Enter
	field "${4:-}"
	keys Enter
}
recovery_files ceremony/cert_1.cer ""
# (Dialog text wraps: the patterns below are single words of the message.)
screen "a custodian's certificate as exchange key is refused" "custodian's"
check "... naming the share it is" grep -qF -- "#2" "$TMP/pane"
keys Enter
screen "... and the form is back" "Exchange key"
check "... before any custodian was asked" bash -c '! grep -q "Your key file" "$0"' "$TMP/pane"
keys Escape
recovery_files transfer-key-2025.jwk.json ContosoHSM2
screen "an exchange key for another HSM is refused" "'ContosoHSM2.managedhsm.azure.net'"
keys Enter Escape
recovery_files copied_extension.pem ""
screen "a certificate with a copied attestation is refused" "attestation\\?\\)"
keys Enter Escape
recovery_files transfer-key-2025.jwk.json test-mhsm-sd2q2avldvp4tl
screen "the service's 2025 key is shown attested" "Attestation: VERIFIED"
check "... with its MRSIGNER" grep -qF -- \
	"MRSIGNER  db55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a" "$TMP/pane"
check "... its CN" grep -qF -- "Subject CN: test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net" "$TMP/pane"
keys n
screen "n: the exchange key is not confirmed" "was not confirmed"
keys Escape
recovery_files exchange-2020.pem "" require
screen "an unattested key is refused when attestation is required" "required"
keys Enter Escape
recovery_files transfer-key-2025.jwk.json "" "" \
	5986123b3a753671389708d2c8fc9be4080c95146fba37a0adbc66676e49fb36
screen "an enclave of another MRSIGNER is refused" "db55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a,"
keys Enter Escape
recovery_files recert.cer ""
screen "a custodian's key under another certificate: facts shown" "Subject CN: not-a-custodian"
keys y
screen "... the first custodian is asked" "Shares in: 0 of the 2 required"
keys Enter
field "usb/cert_0.key"
field "$PASS_A"
screen "... and the custodian whose key it is ends the session" "exchange key is a custodian's"
keys Enter
screen "... back at the form, told why" "the session was ended"
check "... and the transcript says so" grep -qF -- "[FAIL] exchange_key: exchange key recert.cer has the public key of the custodian's certificate usb/cert_0.cer" "$WORK/sdceremony-transcript.txt"
check "... and the transcript says so" grep -qF -- \
	"does not match what the online administrators read out" "$WORK/sdceremony-transcript.txt"
check "... with the facts the operator saw" grep -qF -- \
	"exchange key transfer-key-2025.jwk.json: sha256 $(sha256sum "$WORK/transfer-key-2025.jwk.json" | cut -c1-64), CN test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net" \
	"$WORK/sdceremony-transcript.txt"
keys Escape
screen "menu after the refusals" "What are we doing"

# ---- drill: a wrong passphrase, then a full drill ----
keys 3
screen "drill form" "DR drill: custodians prove"
field "sd.json"
keys Enter
screen "drill hands over to a custodian" "Shares in: 0 of the 2 required"
keys Enter
keys Enter
screen "Enter on an empty key path opens nothing, it says what to type" "Type the path of your key file"
keys Enter
field "usb/bob.key"
screen "bob's share is named before his passphrase" "Custodian: bob"
field "wrong passphrase!!"
screen "a wrong passphrase is told to that custodian" "does not open"
check "the note names the key" grep -qF -- "usb/bob.key" "$TMP/pane"
field "$PASS_B"
screen "the right passphrase is accepted" "Shares in: 1 of the 2 required"
keys Escape
screen "Esc asks before abandoning the collected shares" "Abandon this session"
keys n
screen "not abandoned" "Shares in: 1 of the 2 required"
keys Enter
field "usb/bob.key"
screen "a key whose share is in is refused before its passphrase" "already in"
keys Enter
field "usb/cert_0.key"
field "$PASS_A"
screen "the drill runs by itself at the quorum, and passes despite the retries" "\[OK\] DR drill passed"
keys Escape
screen "menu after the drill" "What are we doing"

# ---- one custodian checks their own key alone ----
keys 3
screen "second drill" "DR drill: custodians prove"
field "sd.json"
keys Enter
keys Enter
field "usb/carol.key"
field "$PASS_C"
screen "carol's share is good" "Shares in: 1 of the 2 required"
keys f
screen "f asks before checking with fewer shares" "Check the keys now"
keys y
screen "a single good key: quorum not reached, key good" "every key given is good"
keys Escape

# ---- inspect: errors as in batch mode; resize; quit ----
keys 4
field "nosuch.json"
keys Enter
(cd "$WORK" && "$SDC" inspect --sd-file nosuch.json) >/dev/null 2>"$TMP/batch.err"
msg=$(sed -n '1s/^sdceremony: //p' "$TMP/batch.err")
screen "an error is shown in a dialog titled in plain words" "A file cannot be read or written"
check "the dialog says what batch mode says ($msg)" grep -qF -- "$msg" "$TMP/pane"
keys Enter C-u
field "sd.json"
keys Enter
screen "inspect shows the report" "Required: 2 of 3"
tm resize-window -t "$PANE" -x 80 -y 24
screen "redraws at 80x24" "Required: 2 of 3"
tm resize-window -t "$PANE" -x 60 -y 20
screen "says when the window is too small" "needs at least 80x24"
tm resize-window -t "$PANE" -x 100 -y 30
screen "redraws after growing again" "Required: 2 of 3"
keys m
screen "menu after inspect" "What are we doing"
# One result, two faces: the wizard records what batch records, line for line.
(cd "$WORK" && "$SDC" inspect --sd-file nosuch.json --transcript "$TMP/inspect-batch.txt"
	"$SDC" inspect --sd-file sd.json --transcript "$TMP/inspect-batch.txt") >/dev/null 2>&1
check "the wizard's inspect records are batch's (the failure, then the report)" python3 -c '
import sys
strip = lambda p: [l.rstrip("\n").split(" ", 1)[1] for l in open(p)]
batch, wiz = strip(sys.argv[1]), strip(sys.argv[2])
assert len(batch) > 3, batch
start = wiz.index(batch[0])
assert wiz[start:start + len(batch)] == batch, (wiz[start:start + len(batch)], batch)
' "$TMP/inspect-batch.txt" "$WORK/sdceremony-transcript.txt"
# ... and a drill that stops at its file is recorded as batch's verify records it.
keys 3
field "nosuch.json"
keys Enter
screen "drill: a missing file is told in a dialog" "A file cannot be read or written"
keys Enter Escape
screen "menu after the refused drill" "What are we doing"
(cd "$WORK" && "$SDC" verify --sd-file nosuch.json --sd-wrapping-keys usb/cert_0.key \
	--transcript "$TMP/drill-batch.txt") >/dev/null 2>&1
check "the refused drill's record is batch's" bash -c \
	'grep -qxF -- "$(sed "s/^[^ ]* //" "$0")" <(sed "s/^[^ ]* //" "$1")' \
	"$TMP/drill-batch.txt" "$WORK/sdceremony-transcript.txt"

keys 5
screen "QR display form" "File to show"
field "usb/cert_0.key"
screen "a private key is never shown as QR codes" "holds a PEM private key"
(cd "$WORK" && "$SDC" qr split usb/cert_0.key --out "$TMP/qrkey") >/dev/null 2>"$TMP/batch.err"
msg=$(sed -n '1s/^sdceremony: //p' "$TMP/batch.err")
# The dialog's text, its lines joined: columns 8-93 of the 100-column pane,
# inside the box's border.
LC_ALL=C.UTF-8 sed 's/[│┌┐└┘─]/ /g' "$TMP/pane" | LC_ALL=C.UTF-8 cut -c8-93 | tr -s ' \n' '  ' >"$TMP/dialog"
check "... with batch mode's refusal ($msg)" grep -qF -- "$msg" "$TMP/dialog"
keys Enter Escape
screen "menu after the QR refusal" "What are we doing"

# ---- a second ceremony into the same directory moves the old one aside ----
cp "$WORK/ceremony/cert_0.cer" "$TMP/old_cert_0.cer"
# ... beside a killed run's temporary directory, with a key in it.
mkdir "$WORK/.ceremony.tmp-Kd9x2Q" && cp "$WORK/usb/cert_0.key" "$WORK/.ceremony.tmp-Kd9x2Q/"
keys 1
screen "second key ceremony" "Number of custodians"
keys Enter Enter Left Enter Enter
field "$WORK/ceremony"
keys Enter
mkdir -p "$WORK/usb2"
for p in "$PASS_A" "$PASS_B" "$PASS_C"; do
	keys Enter; field "$WORK/usb2"; field "$p"; field "$p"
done
screen "second summary" "Ready to generate 3 RSA-2048 keys"
keys Enter
screen "a used output directory is not silently reused" "exists and is not empty"
keys y
screen "a killed run's temporary beside it is named, and its removal offered" \
	"An interrupted run left files behind"
check "... naming it" grep -qF -- ".ceremony.tmp-Kd9x2Q" "$TMP/pane"
keys y
screen "confirmation before generating again" "Generate the keys and write"
check "... and it is gone" test ! -e "$WORK/.ceremony.tmp-Kd9x2Q"
check "... and the transcript says the operator removed it" \
	grep -qF -- "the operator removed what an interrupted run left" "$WORK/sdceremony-transcript.txt"
keys y
screen "the old directory was moved aside" "Old directory moved aside to"
check "the old certificates are kept" cmp "$TMP/old_cert_0.cer" "$WORK"/ceremony.old-*/cert_0.cer
keys Enter
screen "menu after the second ceremony" "What are we doing"
keys 7
screen "wizard exits with status 0" "wizard exited 0"

# ---- memcheck over a short drill (the sanitizer build runs all of the above) ----
if sanitized || ! command -v valgrind >/dev/null; then
	skip "wizard under valgrind" "sanitizer build or no valgrind"
else
	tm new-session -d -s vg -x 100 -y 30 -c "$WORK" \
		"valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file='$TMP/vg.log' '$SDC' wizard --transcript '$TMP/vg-transcript.txt'; \
		echo \"wizard exited \$?\"; sleep 600"
	PANE=vg screen "valgrind: start" "Air-gap check"
	tm send-keys -t vg Enter
	PANE=vg wait_for "Go on anyway|What are we doing" && grep -q "Go on anyway" "$TMP/pane" &&
		tm send-keys -t vg y
	PANE=vg screen "valgrind: menu" "What are we doing"
	tm send-keys -t vg 3 C-u; tm send-keys -t vg -l "sd.json"; tm send-keys -t vg Enter Enter
	PANE=vg screen "valgrind: drill" "Shares in: 0 of the 2"
	tm send-keys -t vg Enter
	tm send-keys -t vg -l "usb/carol.key"; tm send-keys -t vg Enter
	tm send-keys -t vg -l "$PASS_C"; tm send-keys -t vg Enter
	PANE=vg screen "valgrind: share accepted" "Shares in: 1 of the 2"
	tm send-keys -t vg f
	PANE=vg screen "valgrind: asks before checking" "Check the keys now"
	tm send-keys -t vg y
	PANE=vg screen "valgrind: report" "every key given is good"
	tm send-keys -t vg Escape
	PANE=vg screen "valgrind: menu again" "What are we doing"
	tm send-keys -t vg 7
	if PANE=vg wait_for "wizard exited"; grep -q "wizard exited 0" "$TMP/pane"; then
		ok "valgrind: no memory error, no leak"
	else
		not_ok "valgrind: no memory error, no leak"
		grep -v "unhandled amd64-linux syscall: 325\|own handler\|MISSING_SYSCALL\|a bug\.\|bug_reports" \
			"$TMP/vg.log" | sed 's/^/# /' | head -40
	fi
fi

T="$WORK/sdceremony-transcript.txt"
check "transcript exists" test -s "$T"
check "transcript records the binary's SHA-256" grep -qE "binary sha256 [0-9a-f]{64}" "$T"
check "transcript records the thumbprints" grep -qF -- "$(sed -n 's/.*"x5t#S256": *"\([^"]*\)".*/\1/p' \
	"$WORK/ceremony/download-request.json" | head -1)" "$T"
check "transcript records the blob's SHA-256" grep -qF -- "restore blob restore-blob.json: [OK] sha256 $hex" "$T"
check "transcript records the wrong passphrase" grep -q "FAIL.*wrong_password" "$T"
check "transcript records the drill report" grep -q "verify" "$T"
leak=0
for p in "$PASS_A" "$PASS_B" "$PASS_C" "wrong passphrase!!"; do
	grep -qF -- "$p" "$T" && leak=1
done
check "no passphrase in the transcript" test "$leak" = 0

# ---- stops: a lost terminal, signals, Ctrl-C while keys are generated ----
# Each in its own tmux server (SOCK), as some kill theirs.
tm kill-server 2>/dev/null
# survivor.sh NAME CMD...: CMD's pid goes to NAME.pid, its exit status to
# NAME.status.  This shell ignores SIGHUP and SIGINT and so outlives the
# terminal; as the kernel signals only the session leader when a terminal
# hangs up, CMD then gets no SIGHUP: only its reads and writes fail.
cat >"$TMP/survivor.sh" <<'EOF'
trap '' HUP INT
name=$1
shift
sh -c 'echo $$ >"$0.pid"; exec "$@"' "$name" "$@"
echo $? >"$name.status"
EOF
# gone_within SECONDS PIDFILE: true once the process has exited.
gone_within() {
	local i pid
	for ((i = 0; i < $1 * 10; i++)); do
		pid=$(cat "$2" 2>/dev/null) && ! kill -0 "$pid" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# status_is NAME STATUS: NAME.status (written by survivor.sh) says STATUS.
status_is() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -s "$TMP/$1.status" ] && break
		sleep 0.1
	done
	[ "$(cat "$TMP/$1.status" 2>/dev/null)" = "$2" ]
}
# to_menu: from the start screen to the menu.
to_menu() {
	screen "$PANE: start screen" "Air-gap check"
	keys Enter
	wait_for "Go on anyway|What are we doing" && grep -q "Go on anyway" "$TMP/pane" && keys y
	screen "$PANE: menu" "What are we doing"
}
mkdir -p "$TMP/stops"

# The terminal goes while a custodian types a passphrase, and no SIGHUP
# comes: the wizard notices its reads failing, wipes, and exits.
PANE=lost SOCK="$TMP/lost.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/lost' '$SDC' wizard --transcript '$TMP/lost.txt'"
to_menu
keys 1
screen "lost: key ceremony form" "Number of custodians"
keys Enter Enter Enter Enter Enter Enter
screen "lost: custodian 1's turn" "Custodian 1 of 3"
keys Enter
field "k0.key"
screen "lost: custodian 1 asked for a passphrase" "Type a passphrase"
text "half a passphrase"
screen "lost: a passphrase is being typed" "Passphrase +\(hidden"
tm kill-server
check "a wizard whose terminal is gone (no SIGHUP) exits within 5 s" gone_within 5 "$TMP/lost.pid"
check "... with status 5" status_is lost 5
check "... after wiping, and tells the transcript" \
	grep -q "wizard: terminal lost, session abandoned" "$TMP/lost.txt"

# The terminal goes (no SIGHUP) while the QR viewer shows a certificate.
PANE=qrlost SOCK="$TMP/qrlost.sock"
cp "$EXCH/exchange.cer" "$TMP/stops/x.cer"
tm -f /dev/null new-session -d -s "$PANE" -x 120 -y 50 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/qrlost' env LANG=C.UTF-8 '$SDC' wizard --transcript '$TMP/qrlost.txt'"
to_menu
keys 5
screen "qrlost: QR display form" "File to show"
field "x.cer"
screen "qrlost: the viewer shows the codes" "q quit"
tm kill-server
check "a wizard in the QR viewer whose terminal is gone exits within 5 s" gone_within 5 "$TMP/qrlost.pid"
check "... with status 5" status_is qrlost 5

# The terminal goes (SIGHUP) while a dialog is open.
PANE=hup SOCK="$TMP/hup.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"echo \$\$ >'$TMP/hup.pid'; exec '$SDC' wizard --transcript '$TMP/hup.txt'"
to_menu
keys 4
field "nosuch.json"
keys Enter
screen "hup: an error dialog is open" "A file cannot be read or written"
tm kill-server
check "a wizard hung up in a dialog exits within 5 s" gone_within 5 "$TMP/hup.pid"
check "... and tells the transcript" grep -q "wizard: terminal lost, session abandoned" "$TMP/hup.txt"

# Ctrl-C at a passphrase prompt quits at once, as wizard --help says: no
# question that a passphrase's next letter could answer.
PANE=ctrlc SOCK="$TMP/ctrlc.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/ctrlc' '$SDC' wizard --transcript '$TMP/ctrlc.txt'; sleep 600"
to_menu
keys 1
keys Enter Enter Enter Enter Enter Enter Enter
field "k1.key"
screen "ctrlc: a passphrase prompt" "Type a passphrase"
text "yes, half"
keys C-c
check "Ctrl-C quits the wizard at once" gone_within 5 "$TMP/ctrlc.pid"
check "... with status 2" status_is ctrlc 2
check "... and the transcript says so" grep -qF -- "stopped by SIGINT, session abandoned" "$TMP/ctrlc.txt"
tm kill-server

# The transcript fails in the middle of a session (the file may grow no
# more, as on a full disk): the wizard says so and stops, exit 5.  The first
# run measures what the start screen writes on this machine, so that the
# limit lets the start through and stops the drill's first record.
cp "$WORK/sd.json" "$TMP/stops/"
cat >"$TMP/fsize.sh" <<'EOF2'
trap '' XFSZ
exec prlimit --fsize="$1" "$2" wizard --transcript "$3"
EOF2
PANE=full SOCK="$TMP/full.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"'$SDC' wizard --transcript '$TMP/full0.txt'; sleep 600"
to_menu
keys q
tm kill-server
limit=$(($(stat -c %s "$TMP/full0.txt") + 40))
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/full' sh '$TMP/fsize.sh' $limit '$SDC' '$TMP/full.txt'; sleep 600"
to_menu
keys 3
field "sd.json"
keys Enter
screen "full: a transcript that cannot be written mid-session is told" "The transcript cannot be written"
keys Enter
check "... and the wizard stops" gone_within 5 "$TMP/full.pid"
check "... with status 5" status_is full 5
tm kill-server

# SIGTERM at the menu.
PANE=term SOCK="$TMP/term.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/term' '$SDC' wizard --transcript '$TMP/term.txt'; sleep 600"
to_menu
kill -TERM "$(cat "$TMP/term.pid")"
check "SIGTERM stops the wizard" gone_within 5 "$TMP/term.pid"
check "... with status 2, not 0" status_is term 2
check "... and the transcript says so" grep -q "stopped by SIGTERM, session abandoned" "$TMP/term.txt"

# Ctrl-C, then SIGTERM, while ten RSA-4096 keys are generated (seconds of
# work): each cancels generation at once, and nothing is written.
# ten_keys: from the key ceremony form, 10 RSA-4096 keys into kg/, the
# passphrases, the confirmation; generation starts.
ten_keys() {
	local i
	keys C-u; text 10; keys Enter Enter Right Enter Enter
	field "kg"
	field ""
	mkdir -p "$TMP/stops/keys"
	for ((i = 1; i <= 10; i++)); do
		keys Enter; field "keys"
		field "custodian passphrase $i"; field "custodian passphrase $i"
	done
	screen "$PANE: summary of 10 keys" "Ready to generate 10 RSA-4096 keys"
	keys Enter
	screen "$PANE: confirmation" "Generate the keys and write"
	keys y
	screen "$PANE: generating" "Generating 10 RSA-4096 keys"
}
PANE=cancel SOCK="$TMP/cancel.sock"
tm -f /dev/null new-session -d -s "$PANE" -x 100 -y 30 -c "$TMP/stops" \
	"sh '$TMP/survivor.sh' '$TMP/cancel' '$SDC' wizard --transcript '$TMP/cancel.txt'; sleep 600"
to_menu
keys 1
screen "cancel: key ceremony form" "Number of custodians"
ten_keys
keys 'C-\' # the quit key stays off: it must not end the wizard
keys C-c
WAIT=5 screen "Ctrl-C cancels key generation at once" "cancelled"
check "... and nothing is written" test ! -e "$TMP/stops/kg"
keys Enter
screen "... and the wizard goes on, back at the form" "Number of custodians"
keys Escape
screen "cancel: menu" "What are we doing"
keys 1
ten_keys
kill -TERM "$(cat "$TMP/cancel.pid")"
check "SIGTERM during key generation stops the wizard within 5 s" gone_within 5 "$TMP/cancel.pid"
check "... with status 2" status_is cancel 2
check "... writing nothing" test ! -e "$TMP/stops/kg"
check "... and the transcript says so" grep -q "stopped by SIGTERM" "$TMP/cancel.txt"
tm kill-server
done_testing
