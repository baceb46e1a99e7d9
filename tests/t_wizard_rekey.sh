#!/usr/bin/env bash
# The wizard's rekey at 80x24 through tmux.  Three current custodians
# (keygen batch) hold a 2-of-3 file (sdforge).  First the refusals: the
# output is the input, the output exists (not replaced when the operator
# says no), too few current custodians (one share in, then abandoned).
# Then a rekey to four new certificates from a directory with quorum 3:
# the new file passes `verify` with three new keys, the old keys get "no
# share", one new key alone is not a quorum; both SHA-256s are on the
# screen and in the transcript with the destroy-the-old-file instruction;
# a drill offered from the result screen marks its custodian.  Then a
# second rekey whose new certificates come from a key ceremony run in the
# same flow.  Every captured screen and the transcript are searched for
# any four consecutive characters of a passphrase typed at a prompt, and
# no dialog may be open at a key-file or passphrase prompt.
. tests/lib.sh

SOCK="$TMP/tmux.sock"
PANE=rekey
WORK="$TMP/work"
# Every four consecutive characters hold one (!#@^%&*=) that no file name,
# thumbprint or word on the wizard's screens has.
PASS_A='Qz8!vKp#Lm2@Rt5^'
PASS_B='Hy3%wNc&Jd6*Fs9='
PASS_C='Bx4!gTq#Zm7@Ek1^'
PASS_N1='Uv5#rWq!Ty8%Pl3&'
PASS_N2='Gh2*kLm=Xc4@Vb6!'
PASS_N3='Ro7^sDf#Nj9&Qw2*'
PASS_N4='Ez1@tYu%Ik5=Op8#'
PASS_K1='Ma3!zXc#Vb7@Nm1%'
PASS_K2='Lo4&pKj*Hg6=Fd2^'
PASS_K3='Sw9#eRt!Yu3%Io5@'
[ -x "$TOOLS/sdforge" ] || { not_ok "test tool $TOOLS/sdforge is built"; done_testing; exit 1; }
. tests/wizlib.sh
wiz_session
# unlock KEY PASS: a current or new custodian's key, then (once its prompt
# shows: a slow machine must not get the passphrase in the key field) the
# passphrase.
unlock() {
	f "$1"
	screen "$1: the passphrase prompt" "Type your passphrase"
	f "$2"
	screen "$1: unlocked" "the share of .* is in|shares in, [0-9]+ required"
}
# newkey DIR PASS: a custodian of the key ceremony: where the key goes, the
# passphrase twice, each prompt waited for.
newkey() {
	f "$1"
	screen "the passphrase prompt" "Type a passphrase of at least 12"
	f "$2"
	screen "the passphrase again" "Type the same passphrase again"
	f "$2"
	screen "the next step" "Custodian [0-9]+ of|Ready to generate"
}

# ---- the current and the new custodians (batch), the current file ----
mkdir -p "$WORK/p" "$WORK/usb2"
i=0
for p in "$PASS_A" "$PASS_B" "$PASS_C" "$PASS_N1" "$PASS_N2" "$PASS_N3" "$PASS_N4"; do
	printf '%s\n' "$p" >"$WORK/p/$i"
	i=$((i + 1))
done
check "three current custodians' keys (keygen batch)" \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --names alice,bob,carol --out "$WORK/old" \
	--passphrase-file "$WORK/p/0" "$WORK/p/1" "$WORK/p/2"
check "four new custodians' keys (keygen batch)" \
	"$SDC" keygen --count 4 --quorum 3 --bits 2048 --names gina,hugo,ines,jack --out "$WORK/newset" \
	--passphrase-file "$WORK/p/3" "$WORK/p/4" "$WORK/p/5" "$WORK/p/6"
"$TOOLS/sdforge" --certs "$WORK"/old/cert_{0,1,2}.cer --required 2 \
	--out "$WORK/sd.json" --items-out "$TMP/items.json" >"$TMP/.out" 2>&1 ||
	{ not_ok "sdforge made the current 2-of-3 file"; cat "$TMP/.out"; done_testing; exit 1; }
cp "$WORK/sd.json" "$TMP/sd.copy"
echo "keep me" >"$WORK/exists.json"
OLD_HEX=$(sha256sum "$WORK/sd.json" | cut -c1-64)

tm -f /dev/null new-session -d -s "$PANE" -x 80 -y 24 -c "$WORK" \
	"env LANG=C.UTF-8 '$SDC' wizard; echo \"wizard exited \$?\"; sleep 600"
shot "start screen" "Air-gap check"
k Enter
wait_for "Go on anyway|What are we doing" && grep -q "Go on anyway" "$TMP/pane" && k y
shot "menu" "Rekey: new custodians or quorum"

# ---- refusals ----
k 6
shot "rekey: the files" "Write the new file to"
f "sd.json"
f ""
f "sd.json"
shot "output = input is refused in plain words" "is the input security-domain file"
k Enter
f "exists.json"
shot "an existing output: asked before it is replaced" "exists.json already exists. Replace it"
k n
shot "... no: still on the files" "Write the new file to"
check "... and it is untouched" grep -qxF -- "keep me" "$WORK/exists.json"
f "new.json"
shot "the source of the new certificates" "Where do the new custodians"
k 1
shot "the new certificates" "New certificates"
f "newset"
f "11"
shot "a quorum out of range is refused" "Not accepted|[Qq]uorum"
k Enter
f "3"
shot "the current custodians' turn" "Shares in: 0 of the 2 required"
k Enter
unlock "old/cert_0.key" "$PASS_A"
shot "alice's share is in" "Shares in: 1 of the 2 required"
check "one share is not offered as enough" bash -c '! grep -qF -- "Enter: check and write" "$0"' "$TMP/pane"
k Escape
shot "abandon asks" "Abandon this rekey"
k y
shot "too few current custodians, in plain words" "too few current custodians"
check "nothing was written" test ! -e "$WORK/new.json"

# ---- rekey to new certificates from files ----
k Enter
k Enter
k Enter
shot "again: the source" "Where do the new custodians"
k 1
k Enter
k Enter
shot "the turn again" "Shares in: 0 of the 2 required"
k Enter
unlock "old/cert_0.key" "$PASS_A"
k Enter
unlock "old/cert_1.key" "$PASS_B"
shot "the confirmation lists the new shares" "x=4 jack"
k Enter
shot "asks before writing" "Write the new security-domain file to new.json\?"
k y
shot "new file written" "\[OK\] New security-domain file written: new.json"
NEW_HEX=$(sha256sum "$WORK/new.json" | cut -c1-64)
check "the new file's SHA-256 on the screen" grep -qF -- "SHA-256 $NEW_HEX" "$TMP/pane"
check "the old file's SHA-256 on the screen" grep -qF -- "SHA-256 $OLD_HEX" "$TMP/pane"
check "the screen says to destroy every copy of the old file" \
	grep -qF -- "DESTROY EVERY COPY OF THE OLD FILE" "$TMP/pane"
check "no drill yet for the new custodians" grep -qE -- "x=2 hugo +no drill yet" "$TMP/pane"
check "the input file is unchanged" cmp "$WORK/sd.json" "$TMP/sd.copy"
check "the replaced-file candidate is untouched" grep -qxF -- "keep me" "$WORK/exists.json"

# A drill offered for a new custodian: gina checks her key alone.
k d
shot "the drill on the new file, preselected" "Security-domain file +new.json"
k Enter
k Enter
shot "drill: the new file's shares" "Shares in: 0 of the 3 required"
k Enter
unlock "newset/cert_0.key" "$PASS_N1"
shot "drill: gina's share is in" "Shares in: 1 of the 3 required"
k f
k y
shot "drill: her key is good" "every key given is good"
k Enter
shot "back on the rekey's result: gina passed" "x=1 gina +\[OK\] drill passed"
k Enter
shot "menu after the rekey" "What are we doing"

# ---- the new file, checked by the batch command ----
expect_exit "verify: three new keys recover the new file" 0 \
	"$SDC" verify --sd-file "$WORK/new.json" \
	--sd-wrapping-keys "$WORK"/newset/cert_{0,1,2}.key --password-files "$WORK"/p/{3,4,5}
expect_exit "verify: an old key gets no share in the new file" 4 \
	"$SDC" verify --sd-file "$WORK/new.json" --sd-wrapping-keys "$WORK/old/cert_0.key" \
	--password-files "$WORK/p/0"
check "... said plainly" grep -qF -- "no share" "$TMP/.out" "$TMP/.err"
expect_exit "verify: two new keys are not the new quorum" 6 \
	"$SDC" verify --sd-file "$WORK/new.json" \
	--sd-wrapping-keys "$WORK"/newset/cert_{1,3}.key --password-files "$WORK"/p/{4,6}

# ---- a second rekey: new certificates from a key ceremony in the same flow ----
k 6
f "sd.json"
f ""
f "new2.json"
shot "second rekey: the source" "Where do the new custodians"
k 2
shot "the key ceremony, for the rekey" "For the rekey of sd.json"
k Escape
shot "Esc from the key ceremony comes back to the rekey" "The key ceremony was left"
k 2
shot "the key ceremony again" "For the rekey of sd.json"
keys Enter Enter Left Enter Enter
f "ceremony-rekey"
f "kim, lea, max"
shot "kim's hand-over screen" "Custodian 1 of 3: kim"
k Enter
newkey "$WORK/usb2" "$PASS_K1"
shot "lea's hand-over screen" "Custodian 2 of 3: lea"
k Enter
newkey "$WORK/usb2" "$PASS_K2"
k Enter
newkey "$WORK/usb2" "$PASS_K3"
shot "ready to generate" "Ready to generate 3 RSA-2048 keys"
k Enter
k y
shot "keys generated, for the rekey" "press Enter to go back; these certificates"
check "no download command is offered for the rekey's keys" \
	bash -c '! grep -qF -- "security-domain download" "$0"' "$TMP/pane"
k Enter
shot "back in the rekey with the new certificates" "the key ceremony made 3 keys"
check "... and their directory" grep -qE -- "New certificates +ceremony-rekey" "$TMP/pane"
k Enter
shot "second rekey: the turn" "Shares in: 0 of the 2 required"
k Enter
unlock "old/cert_2.key" "$PASS_C"
k Enter
unlock "old/cert_0.key" "$PASS_A"
shot "second rekey: the confirmation" "x=3 max"
k Enter
k y
shot "second new file written" "\[OK\] New security-domain file written: new2.json"
NEW2_HEX=$(sha256sum "$WORK/new2.json" | cut -c1-64)
check "its SHA-256 on the screen" grep -qF -- "SHA-256 $NEW2_HEX" "$TMP/pane"
k Escape
shot "menu" "What are we doing"
k 7
shot "wizard exits with status 0" "wizard exited 0"

printf '%s\n' "$PASS_K1" >"$WORK/p/k1"
printf '%s\n' "$PASS_K2" >"$WORK/p/k2"
expect_exit "verify: two of the key ceremony's keys recover the second new file" 0 \
	"$SDC" verify --sd-file "$WORK/new2.json" \
	--sd-wrapping-keys "$WORK/usb2/cert_0.key" "$WORK/usb2/cert_1.key" \
	--password-files "$WORK/p/k1" "$WORK/p/k2"
check "the key ceremony's directory holds no private key" \
	bash -c '! ls "$0"/*.key' "$WORK/ceremony-rekey"

# ---- the transcript ----
T="$WORK/sdceremony-transcript.txt"
check "the transcript exists" test -s "$T"
check "it records the refusal of the input as output" \
	grep -qF -- "is the input security-domain file" "$T"
check "it records the abandoned rekey with too few custodians" \
	grep -qF -- "rekey: abandoned, nothing written: too few current custodians" "$T"
check "it records the rekey report with both SHA-256s" \
	grep -qF -- "rekey sd.json (sha256 $OLD_HEX) -> new.json (sha256 $NEW_HEX): 3 of 4" "$T"
check "... the destroy instruction" grep -qF -- "THEN: destroy every copy of sd.json" "$T"
check "... the second rekey's" grep -qF -- "-> new2.json (sha256 $NEW2_HEX): 2 of 3" "$T"
check "... the keys that opened the old file" grep -qF -- "opened with old/cert_1.key" "$T"
check "... and the drill on the new file" grep -qF -- "rekey: a drill on the new file new.json" "$T"

# ---- what the custodians typed never showed ----
never_shown "$T" "$PASS_A" "$PASS_B" "$PASS_C" "$PASS_N1" "$PASS_K1" "$PASS_K2" "$PASS_K3"
done_testing
