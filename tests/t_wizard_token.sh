#!/usr/bin/env bash
# Custodian keys on PKCS#11 tokens in the wizard, at 80x24 through tmux, on
# SoftHSM2 tokens (a real PKCS#11 module) in a private SOFTHSM2_CONF.
#   - key ceremony: alice and bob choose "key on a token" (F2; before the
#     tokens exist the list says so, and r looks again; alice first types a
#     wrong PIN; bob first picks alice's token), carol a key file;
#     pkcs11-tool then shows each private key sensitive and never
#     extractable, and the certificates are the tokens' own
#   - drill on a file made for those certificates: the token list names the
#     share each key opens; a wrong PIN then the right one; carol's file key
#     makes the quorum; the drill passes
#   - recovery with both token keys: the restore blob opens (test-side HSM)
#     to the very items
#   - a token whose PIN is locked is refused before any PIN is asked
#   - no four characters of a PIN or passphrase on any screen or in the
#     transcript, and no dialog open at a PIN prompt
. tests/lib.sh
. tests/lib_token.sh

need_softhsm
SOCK="$TMP/tmux.sock"
PANE=tokens
WORK="$TMP/work"
EXCH="$VEC/sd/exchange"
# Every four consecutive characters hold one that no word, path or
# thumbprint on the screens has.
PIN_A='Pq!7#zWa@9^k'
PIN_B='Lk&3%mN*x2=j'
WRONG='Wx!0#nG@pI%n'
PASS_C='Bx4!gTq#Zm7@Ek1^'
for t in sdforge blobopen; do
	[ -x "$TOOLS/$t" ] || { not_ok "test tool $TOOLS/$t is built"; done_testing; exit 1; }
done
. tests/wizlib.sh
wiz_session
# choose TEXT: the digit of the listed entry whose line, or detail line
# below it, holds TEXT.
choose() {
	local n
	pane >"$TMP/pane"
	n=$(awk -v want="$1" '
		match($0, /^ *>? *[0-9]\. /) { d = $0; sub(/^ *>? */, "", d); d = substr(d, 1, 1) }
		index($0, want) { print d; exit }' "$TMP/pane")
	if [ -z "$n" ]; then
		not_ok "an entry for $1 is listed"
		sed 's/^/# | /' "$TMP/pane"
		done_testing
		exit 1
	fi
	k "$n"
}

mkdir -p "$WORK/usb"
cp "$EXCH/exchange.cer" "$WORK/"

tm -f /dev/null new-session -d -s "$PANE" -x 80 -y 24 -c "$WORK" \
	"env LANG=C.UTF-8 SOFTHSM2_CONF='$SOFTHSM2_CONF' '$SDC' wizard --pkcs11-module '$SOFTHSM_MODULE'; echo \"wizard exited \$?\"; sleep 600"
shot "start screen" "Air-gap check"
k Enter
wait_for "Go on anyway|What are we doing" && grep -q "Go on anyway" "$TMP/pane" && k y
shot "menu" "What are we doing"

# ---- key ceremony: two custodians on tokens, one with a key file ----
k 1
shot "key ceremony parameters" "Number of custodians"
keys Enter Enter Left Enter Enter
f ceremony
f "alice,bob,carol"
shot "alice's hand-over offers a token" "F2: key on a token"
k F2
shot "no token yet: said, with how to look again" "No token is present.*press r"
token_init alice "$PIN_A"
token_init bob "$PIN_B"
token_init locked 12345678
token_import locked 12345678 "$VEC/sd/keys/cert_1.key" - 01 sd-wrap "$VEC/sd/keys/cert_1.cer" ||
	not_ok "a key imported into the token 'locked'"
k r
shot "alice: r shows the tokens plugged in meanwhile" "token 'alice'"
check "... all three tokens are listed" bash -c 'grep -qF -- "token '"'"'bob'"'"'" "$0" &&
	grep -qF -- "token '"'"'locked'"'"'" "$0"' "$TMP/pane"
choose "token 'alice'"
shot "alice: the PIN prompt stands alone" "Type the user PIN of token 'alice'"
check "... with no other field on the screen" bash -c '! grep -qE -- "Write your key to|Passphrase" "$0"' "$TMP/pane"
f "$WRONG"
shot "alice: a wrong PIN is refused, named, asked again" "That PIN does not open the token"
f "$PIN_A"
shot "bob's hand-over screen" "Custodian 2 of 3: bob"
k F2
shot "bob: the tokens" "token 'bob'"
choose "token 'alice'"
shot "bob: alice's token is refused" "Custodian 1 has this token already"
choose "token 'bob'"
shot "bob: his PIN prompt" "Type the user PIN of token 'bob'"
f "$PIN_B"
shot "carol's hand-over screen" "Custodian 3 of 3: carol"
k Enter
f "$WORK/usb/carol.key"
f "$PASS_C"
f "$PASS_C"
shot "summary: keys on tokens" "Ready to generate 3 RSA-2048 keys"
check "... alice's key goes to her token" grep -qF -- "pkcs11:token=alice" "$TMP/pane"
k Enter
shot "confirmation" "Generate the keys and write"
k y
shot "keys generated" "\[OK\] 3 keys generated"
if grep -qF -- "key       on the token" "$TMP/pane" &&
	grep -qF -- "pkcs11:token=alice;serial=" "$TMP/pane"; then
	ok "the summary says alice's key is on her token"
else
	not_ok "the summary says alice's key is on her token"
	sed 's/^/# | /' "$TMP/pane"
fi
k Enter
shot "menu after the ceremony" "What are we doing"

for who in alice:"$PIN_A" bob:"$PIN_B"; do
	label=${who%%:*} pin=${who#*:}
	p11tool --token-label "$label" --login --pin "$pin" -O --type privkey >"$TMP/$label.objs" 2>/dev/null
	check "pkcs11-tool: $label's private key is sensitive" bash -c \
		'grep -F -- "Access:" "$0" | grep -qF -- sensitive' "$TMP/$label.objs"
	check "pkcs11-tool: ... never extractable" bash -c \
		'grep -F -- "Access:" "$0" | grep -qF -- "never extractable"' "$TMP/$label.objs"
done
p11tool --token-label alice -O --type cert >"$TMP/alice.certs" 2>/dev/null
check "the certificate is on alice's token" grep -qF -- "Certificate Object" "$TMP/alice.certs"
check "cert_0.cer holds alice's token key (openssl)" bash -c \
	'openssl x509 -in "$0" -noout -subject | grep -qF -- alice' "$WORK/ceremony/cert_0.cer"
check "the manifest names the tokens" grep -qF -- '"label": "alice"' "$WORK/ceremony/ceremony.json"
check "no key file for a token custodian" test ! -e "$WORK/ceremony/cert_0.key"

"$TOOLS/sdforge" --certs "$WORK"/ceremony/cert_{0,1,2}.cer --required 2 --alg RSA-OAEP \
	--out "$WORK/sd.json" --items-out "$TMP/items.json" >"$TMP/.out" 2>&1 ||
	{ not_ok "sdforge made a security domain for the new certificates"; cat "$TMP/.out"; }

# ---- drill: a token key and a key file ----
k 3
f "sd.json"
k Enter
shot "drill: hand-over screen offers a token" "F2: key on a token"
k F2
shot "drill: the token keys with the share each opens" "certificate alice: share 1"
check "... and bob's" grep -qF -- "certificate bob: share 2" "$TMP/pane"
check "... and the key of no share in this file" grep -qF -- "no share in this file" "$TMP/pane"
choose "certificate alice"
shot "drill: alice's PIN prompt names her" "Custodian: alice \\(certificate on the token\\)"
f "$WRONG"
shot "drill: a wrong PIN" "That PIN does not open the token"
f "$PIN_A"
shot "drill: alice's share is in" "Shares in: 1 of the 2 required"
k Enter
f "usb/carol.key"
shot "drill: carol's passphrase prompt" "Type your passphrase"
f "$PASS_C"
shot "drill: at the quorum the check runs, and passes" "\[OK\] DR drill passed"
k Enter
shot "menu after the drill" "What are we doing"

# ---- a locked token is refused before a PIN is asked ----
token_set_flags locked 40000 || not_ok "the token 'locked' marked locked"
k 3
f "sd.json"
k Enter
shot "drill again" "F2: key on a token"
k F2
shot "the tokens again" "token 'locked'"
choose "token 'locked'"
shot "a locked token: refused in plain words" "the user PIN is locked"
check "... with no PIN prompt" bash -c '! grep -qF -- "Type the user PIN" "$0"' "$TMP/pane"
k Escape
shot "Esc: the hand-over screen" "F2: key on a token"
k Escape
shot "Esc again asks to abandon" "Abandon this session"
k y
k Escape
shot "menu after the abandoned drill" "What are we doing"

# ---- recovery with both token keys ----
k 2
f "sd.json"
f "exchange.cer"
f ""
k Enter
f ""
k Enter
shot "recovery: the exchange key's facts" "Do the SHA-256, CN and thumbprint match"
k y
shot "recovery: hand-over screen" "Shares in: 0 of the 2 required"
k F2
shot "recovery: the token keys" "certificate bob: share 2"
choose "certificate bob"
f "$PIN_B"
shot "recovery: bob's share is in" "Shares in: 1 of the 2 required"
k C-t
shot "recovery: the token keys again" "certificate alice: share 1"
choose "certificate alice"
f "$PIN_A"
shot "recovery: quorum, the blob path" "Write the restore blob to"
f "restore-blob.json"
shot "recovery: asks before writing" "Write the restore blob to restore-blob.json\?"
k y
shot "recovery: blob written" "\[OK\] restore blob written"
check "the blob opens to the very items (test-side HSM)" \
	"$TOOLS/blobopen" --blob "$WORK/restore-blob.json" --exchange-key-private "$EXCH/exchange.key" \
	--exchange-cert "$EXCH/exchange.der" --expect "$TMP/items.json"
k Escape
shot "menu after the recovery" "What are we doing"
k q
shot "wizard exits with status 0" "wizard exited 0"

# ---- the same token keys in batch mode ----
(
	umask 077
	printf '%s\n' "$PIN_A" >"$TMP/pin-a"
	printf '%s\n' "$PIN_B" >"$TMP/pin-b"
)
expect_exit "batch verify with the two token keys the wizard made" 0 \
	"$SDC" verify --sd-file "$WORK/sd.json" --pkcs11-module "$SOFTHSM_MODULE" \
	--sd-wrapping-keys 'pkcs11:token=alice' 'pkcs11:token=bob' \
	--pin-file "$TMP/pin-a" "$TMP/pin-b" </dev/null

# ---- what was typed never showed ----
T="$WORK/sdceremony-transcript.txt"
check "the transcript exists" test -s "$T"
check "the transcript records the token keys' shares" grep -qF -- "key pkcs11:" "$T"
never_shown "$T" "$PIN_A" "$PIN_B" "$WRONG" "$PASS_C"
done_testing
