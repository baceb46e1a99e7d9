#!/usr/bin/env bash
# A hurried custodian at 80x24: every flow of the wizard (key ceremony,
# drill, recovery) with a known passphrase typed wherever one is asked and
# the slips people make around it: keys typed on the hand-over screen, Enter
# on empty fields, Esc in the middle of a passphrase and typing on, Ctrl-D,
# a certificate or a directory given as the key, a duplicate key, a wrong
# passphrase then the right one, passphrases that differ or repeat another
# custodian's, a window resize mid-passphrase.
#
# The pane is captured after every step.  The test fails if any four
# consecutive characters of a passphrase typed at a prompt show on any
# captured screen or in the transcript, or if a dialog (a question that
# could take the next keys) is open on a key-file or passphrase screen.
. tests/lib.sh

SOCK="$TMP/tmux.sock"
PANE=slips
WORK="$TMP/work"
EXCH="$VEC/sd/exchange"
# Every four consecutive characters hold one that no file name, thumbprint
# (base64url, hex) or word on the wizard's screens has.
PASS_A='Qz8!vKp#Lm2@Rt5^'
PASS_B='Hy3%wNc&Jd6*Fs9='
PASS_C='Bx4!gTq#Zm7@Ek1^'
WRONG='Wr0!ng#Pa5@sX7%'
[ -x "$TOOLS/sdforge" ] || { not_ok "test tool $TOOLS/sdforge is built"; done_testing; exit 1; }
. tests/wizlib.sh
wiz_session

# t TEXT: literal text, then a snapshot.
t() { text "$1"; snap; }
# A passphrase typed in two halves around ACTION (a command run between).
halves() {
	local p=$1
	shift
	t "${p:0:7}"
	"$@"
	t "${p:7}"
}

mkdir -p "$WORK/usb"
tm -f /dev/null new-session -d -s "$PANE" -x 80 -y 24 -c "$WORK" \
	"env LANG=C.UTF-8 '$SDC' wizard; echo \"wizard exited \$?\"; sleep 600"
shot "start screen" "Air-gap check"
k Enter
wait_for "Go on anyway|What are we doing" && grep -q "Go on anyway" "$TMP/pane" && k y
shot "menu" "What are we doing"

# ---- key ceremony ----
k 1
shot "key ceremony form" "Number of custodians"
keys Enter Enter Left Enter Enter
field "ceremony"
field "alice, bob, carol"
shot "alice's hand-over screen" "Custodian 1 of 3: alice"
t "$PASS_A"                  # typed before her turn started: ignored
k C-d
k Enter
shot "alice: where the key goes" "Write your key to"
k Enter                      # Enter on the empty field
shot "... an empty path is explained" "Keys never go in the"
k Enter
field "$WORK/nosuch/x.key"
shot "... a missing directory is refused" "cannot use the"
k Enter
field "$WORK/usb"
shot "alice: passphrase prompt" "Type a passphrase of at least 12"
halves "$PASS_A" k Escape    # Esc mid-passphrase; she types on
shot "Esc mid-passphrase: wiped, and keys are ignored until Enter" "keys typed now are ignored"
k Escape
k Enter
shot "... Enter: the hand-over screen again" "Enter: start"
k Enter
shot "... the key path is kept" "Write your key to +$WORK/usb/cert_0.key"
k Enter
shot "alice: passphrase prompt again" "Type a passphrase of at least 12"
halves "$PASS_A" tm resize-window -t "$PANE" -x 100 -y 30
tm resize-window -t "$PANE" -x 80 -y 24
k Enter
shot "alice: asked again" "Type the same passphrase again"
halves "$PASS_A" k C-d       # Ctrl-D mid-passphrase changes nothing
k Enter
shot "bob's hand-over screen" "Custodian 2 of 3: bob"
k Enter
field "$WORK/usb/cert_0.key"
shot "bob: alice's key path is refused" "the same key path"
k Enter
field "$WORK/usb/bob.key"
field "$PASS_B"
field "${PASS_B}="
shot "bob: passphrases that differ" "passphrases differ"
field "$PASS_A"
shot "bob: alice's passphrase is refused" "same as another custodian"
field "$PASS_B"
field "$PASS_B"
shot "carol's hand-over screen" "Custodian 3 of 3: carol"
k Enter
field "$WORK/usb/carol.key"
field "$PASS_C"
field "$PASS_C"
shot "summary before generating" "Ready to generate 3 RSA-2048 keys"
k Enter
shot "confirmation" "Generate the keys and write"
k y
shot "keys generated" "\[OK\] 3 keys generated"
check "alice's key opens with her passphrase" \
	openssl pkey -in "$WORK/usb/cert_0.key" -passin "pass:$PASS_A" -noout
check "bob's key opens with his" openssl pkey -in "$WORK/usb/bob.key" -passin "pass:$PASS_B" -noout
check "carol's key opens with hers" \
	openssl pkey -in "$WORK/usb/carol.key" -passin "pass:$PASS_C" -noout
check "the output directory holds no private key" bash -c '! ls "$0"/*.key' "$WORK/ceremony"
k Enter
shot "menu after the ceremony" "What are we doing"

"$TOOLS/sdforge" --certs "$WORK"/ceremony/cert_{0,1,2}.cer --required 2 \
	--out "$WORK/sd.json" --items-out "$TMP/items.json" >"$TMP/.out" 2>&1 ||
	{ not_ok "sdforge made a security domain for the new certificates"; cat "$TMP/.out"; }

# ---- drill ----
k 3
field "sd.json"
k Enter
shot "drill: hand-over screen" "Shares in: 0 of the 2 required"
t "$PASS_A"                  # typed before the turn started: ignored
k C-d
k Enter
k Enter                      # Enter on the empty key field
shot "drill: Enter on an empty key field opens nothing" "Type the path of your key file"
k Enter
field "usb/cert_0.cer"
shot "drill: a certificate given as the key" "FAIL"
k Enter
field "usb"
shot "drill: a directory given as the key" "FAIL.*usb"
k Enter
field "usb/cert_0.key"
shot "drill: alice's passphrase prompt names her" "Custodian: alice"
field "$WRONG"
shot "drill: a wrong passphrase" "does not open"
field "$PASS_A"
shot "drill: alice's share is in" "Shares in: 1 of the 2 required"
k Enter
field "usb/cert_0.key"
shot "drill: her key again is refused before any passphrase" "already in"
k Escape
shot "drill: after a refusal the key prompt takes only Enter (Esc ignored)" "Keys typed now are ignored"
k Enter
field "usb/bob.key"
shot "drill: bob's prompt" "Custodian: bob"
halves "$PASS_B" k Escape
shot "drill: Esc mid-passphrase: keys ignored until Enter" "keys typed now are ignored"
k Enter
k Enter
shot "drill: the key path is kept" "Your key file +usb/bob.key"
k Enter
halves "$PASS_B" tm resize-window -t "$PANE" -x 100 -y 30
tm resize-window -t "$PANE" -x 80 -y 24
k Enter
shot "drill: at the quorum the check runs by itself, and passes despite the slips" "\[OK\] DR drill passed"
cp "$TMP/pane" "$TMP/drill-report"
k Escape
shot "menu after the drill" "What are we doing"

# ---- recovery ----
cp "$EXCH/exchange.cer" "$WORK/"
k 2
field "sd.json"
field "exchange.cer"
field ""
k Enter
field ""
k Enter
shot "recovery: the exchange key's facts" "Do the SHA-256, CN and thumbprint match"
k y
shot "recovery: hand-over screen" "Shares in: 0 of the 2 required"
# A hurried custodian types a wrong key path and, without waiting, the
# passphrase: the refusal drops what was typed ahead, so nothing of the
# passphrase lands in the visible key-file field.
k Enter
keys C-u; text "usb/carol.cer"; keys Enter; text "$PASS_C"; keys Enter
shot "recovery: a key refused with a passphrase typed ahead" "FAIL"
sleep 1
snap
if grep -qF -- "Keys typed now are ignored" "$TMP/snap"; then k Enter; fi
field "usb/carol.key"
field "$WRONG"
shot "recovery: a wrong passphrase" "does not open"
halves "$PASS_C" tm resize-window -t "$PANE" -x 100 -y 30
tm resize-window -t "$PANE" -x 80 -y 24
k Enter
shot "recovery: carol's share is in" "Shares in: 1 of the 2 required"
k Enter
field "usb/cert_0.key"
field "$PASS_A"
shot "recovery: quorum, the blob path" "Write the restore blob to"
k Escape
shot "recovery: Esc: the hand-over screen offers the blob" "Enter: write the restore blob"
k Enter
k Enter
shot "recovery: asks before writing" "Write the restore blob to restore-blob.json\?"
k y
shot "recovery: blob written" "\[OK\] restore blob written"
k Escape
shot "menu after the recovery" "What are we doing"
k 7
shot "wizard exits with status 0" "wizard exited 0"

# ---- one result, two faces: the same drill in batch mode ----
# The same attempts in the same order (the certificate, the directory, the
# wrong passphrase, the right one, the key again, bob's): verify's report
# lines in its transcript are the wizard's, word for word.
(
	umask 077
	printf '%s\n' "$WRONG" >"$TMP/pw"
	printf '%s\n' "$PASS_A" >"$TMP/pa"
	printf '%s\n' "$PASS_B" >"$TMP/pb"
)
(cd "$WORK" && "$SDC" verify --sd-file sd.json --transcript "$TMP/batch.txt" \
	--sd-wrapping-keys usb/cert_0.cer usb usb/cert_0.key usb/cert_0.key usb/cert_0.key \
	usb/bob.key --password-files "$TMP/pa" "$TMP/pa" "$TMP/pw" "$TMP/pa" "$TMP/pa" "$TMP/pb" \
	>"$TMP/batch.out" 2>&1)
check "batch: the same drill passes (exit 0)" test $? = 0
# report TRANSCRIPT: the report's lines, without the time stamps.
report() { sed -n 's/^[^ ]* //; /^verify sd.json (SHA-256/,/^  Result:/p' "$1"; }
report "$WORK/sdceremony-transcript.txt" >"$TMP/wizard-report"
report "$TMP/batch.txt" >"$TMP/batch-report"
check "the wizard's drill report has the attempts ($(grep -c '^  Key ' "$TMP/wizard-report") keys)" \
	test "$(grep -c '^  Key ' "$TMP/wizard-report")" = 6
if cmp -s "$TMP/wizard-report" "$TMP/batch-report"; then
	ok "batch and wizard give the same report lines, word for word"
else
	not_ok "batch and wizard give the same report lines, word for word"
	diff "$TMP/wizard-report" "$TMP/batch-report" | sed 's/^/# /' | head -20
fi

# The audit record does not depend on the face: ceremony/ writes the drill's
# records (start, each attempt as it is made, the report, the result) in
# both, so the records match too once the time stamps are stripped.
records() { sed -n 's/^[^ ]* //; /^drill start: /,/^drill result: /p' "$1"; }
records "$WORK/sdceremony-transcript.txt" >"$TMP/wizard-records"
records "$TMP/batch.txt" >"$TMP/batch-records"
check "the wizard's drill records have each attempt ($(grep -c '^drill key ' "$TMP/wizard-records") attempts)" \
	test "$(grep -c '^drill key ' "$TMP/wizard-records")" = 6
check "... and end with the result" grep -qxF -- "drill result: verified (exit 0)" "$TMP/wizard-records"
if cmp -s "$TMP/wizard-records" "$TMP/batch-records"; then
	ok "batch and wizard write the same transcript records, word for word"
else
	not_ok "batch and wizard write the same transcript records, word for word"
	diff "$TMP/wizard-records" "$TMP/batch-records" | sed 's/^/# /' | head -20
fi

# ---- what the custodians typed never showed ----
T="$WORK/sdceremony-transcript.txt"
check "the transcript exists" test -s "$T"
never_shown "$T" "$PASS_A" "$PASS_B" "$PASS_C" "$WRONG"
check "the transcript records the wrong passphrase" grep -qF -- "wrong_password" "$T"
done_testing
