#!/usr/bin/env bash
# Custodian keys on PKCS#11 tokens, for recovery and drills: SoftHSM2 as the
# token (keys imported with OpenSC's pkcs11-tool), security domains made by
# the test-side encoder (sdforge) for the keys' certificates.
#   - verify with two token URIs, the modules found through p11-kit and
#     through --pkcs11-module; restore-blob whose blob the test-side HSM
#     (blobopen) opens to the very items; a mixed quorum of a token key and a
#     key file; rekey from token keys
#   - both unwrap paths: RSA-OAEP (SHA-1) on the token; RSA-OAEP-256, which
#     SoftHSM cannot do, by raw RSA on the token and OAEP decoded here; the
#     raw path forced for SHA-1 too (SDCEREMONY_TEST_PKCS11_RAW=1); RSA1_5;
#     and a share that the token key does not open
#   - wrong PIN, locked PIN, final try, token absent, a URI matching no key
#     or two keys, a certificate in no share, no certificate: one line naming
#     the token and object, the documented exit status, nothing written
#   - the PIN typed at the terminal is in neither argv, the environment nor
#     the transcript while the process runs
. tests/lib.sh
. tests/lib_token.sh

need_softhsm
K="$VEC/sd/keys"
X="$VEC/sd/exchange"
FORGE="$TOOLS/sdforge"

# err_has NAME TEXT: the last expect_exit's standard error holds TEXT.
err_has() {
	if grep -qF -- "$2" "$TMP/.err"; then ok "$1"; else
		not_ok "$1"; sed 's/^/# stderr: /' "$TMP/.err" | head -10; fi
}

# out_has NAME TEXT: the last expect_exit's standard output holds TEXT.
out_has() {
	if grep -qF -- "$2" "$TMP/.out"; then ok "$1"; else
		not_ok "$1"; sed 's/^/# out: /' "$TMP/.out" | head -10; fi
}
BLOBOPEN="$TOOLS/blobopen"

# Tokens: alice (cert_0, certificate on the token), bob (cert_2, an encrypted
# key file, certificate on the token), carol (cert_7, no certificate on the
# token: found in --certs), multi (two keys), extra (cert_8, in no share).
mkdir -p "$TMP/pins" "$TMP/certs"
for t in alice:1111 bob:2222 carol:3333 multi:4444 extra:5555 lockme:6666 last:7777; do
	token_init "${t%%:*}" "${t#*:}"
	echo "${t#*:}" >"$TMP/pins/${t%%:*}"
done
echo 0000 >"$TMP/pins/wrong"
cp "$K/cert_7.cer" "$TMP/certs/"
imported=0
token_import alice 1111 "$K/cert_0.key" - 01 sd-wrap "$K/cert_0.cer" &&
	token_import bob 2222 "$K/cert_2.key" "$K/cert_2.pass" 02 sd-wrap "$K/cert_2.cer" &&
	token_import carol 3333 "$K/cert_7.key" - 07 sd-wrap &&
	token_import multi 4444 "$K/cert_1.key" - 11 one "$K/cert_1.cer" &&
	token_import multi 4444 "$K/cert_8.key" - 12 two "$K/cert_8.cer" &&
	token_import extra 5555 "$K/cert_8.key" - 08 sd-wrap "$K/cert_8.cer" &&
	token_import lockme 6666 "$K/cert_1.key" - 01 sd-wrap "$K/cert_1.cer" &&
	token_import last 7777 "$K/cert_1.key" - 01 sd-wrap "$K/cert_1.cer" && imported=1
check "keys imported into the tokens (pkcs11-tool)" test "$imported" = 1
check "pkcs11-tool reads the imported key on alice as sensitive" bash -c \
	'pkcs11-tool --module "$0" --token-label alice --login --pin 1111 -O --type privkey 2>/dev/null |
	grep -F -- "Access:" | grep -qF -- sensitive' "$SOFTHSM_MODULE"

CERTS=("$K/cert_0.cer" "$K/cert_2.cer" "$K/cert_7.cer" "$K/cert_1.cer" "$K/cert_4.cer")
for alg in RSA-OAEP-256 RSA-OAEP RSA1_5; do
	"$FORGE" --certs "${CERTS[@]}" --required 2 --alg "$alg" --shuffle \
		--out "$TMP/sd-$alg.json" --items-out "$TMP/items-$alg.json" ||
		not_ok "sdforge makes the $alg file"
done
SD="$TMP/sd-RSA-OAEP-256.json"
A='pkcs11:token=alice;object=sd-wrap'
B='pkcs11:token=bob;object=sd-wrap'
C='pkcs11:token=carol'

# --- recovery and drills -----------------------------------------------------

expect_exit "verify with two token URIs (modules through p11-kit)" 0 \
	"$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob" </dev/null
out_has "both shares are reported good" "Result: VERIFIED"
err_has "RSA-OAEP-256 (no SHA-256 OAEP in SoftHSM): raw RSA on the token, OAEP decoded here" \
	"RSA-OAEP-256 unwrap by CKM_RSA_X_509 on the token, OAEP (SHA-256) decoded on the host"
expect_exit "verify with --pkcs11-module" 0 \
	"$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob" --pkcs11-module "$SOFTHSM_MODULE" </dev/null
"$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$A" "$B" --pin-file "$TMP/pins/alice" \
	"$TMP/pins/bob" --json >"$TMP/v.json" 2>/dev/null </dev/null
check "verify --json names each token key by its URI and its certificate on the token" \
	python3 - "$TMP/v.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
keys = {k["key"]: k for k in j["keys"]}
assert j["result"] == "verified", j
a = keys["pkcs11:token=alice;object=sd-wrap"]
assert a["status"] == "good" and "token=alice" in a["certificate"], a
assert "type=cert" in a["certificate"] and "id=%01" in a["certificate"], a
EOF

expect_exit "RSA-OAEP (SHA-1) shares: verify" 0 \
	"$SDC" verify --sd-file "$TMP/sd-RSA-OAEP.json" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob" </dev/null
err_has "RSA-OAEP (SHA-1) is unwrapped by CKM_RSA_PKCS_OAEP on the token" \
	"RSA-OAEP unwrap by CKM_RSA_PKCS_OAEP (SHA-1) on the token"
SDCEREMONY_TEST_PKCS11_RAW=1 expect_exit "RSA-OAEP (SHA-1), raw path forced: verify" 0 \
	"$SDC" verify --sd-file "$TMP/sd-RSA-OAEP.json" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob" </dev/null
err_has "raw path forced: CKM_RSA_X_509 on the token, OAEP (SHA-1) decoded here" \
	"RSA-OAEP unwrap by CKM_RSA_X_509 on the token, OAEP (SHA-1) decoded on the host"
expect_exit "RSA1_5 shares: verify" 0 \
	"$SDC" verify --sd-file "$TMP/sd-RSA1_5.json" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob" </dev/null
err_has "RSA1_5 is unwrapped raw and decoded here (implicit rejection)" \
	"RSA1_5 unwrap by CKM_RSA_X_509 on the token, PKCS#1 v1.5 decoded on the host"

# A share encrypted to alice's certificate but not with her key: the share of
# cert_0 replaced by one wrapped to cert_1's key under cert_0's thumbprint.
for alg in RSA-OAEP-256 RSA-OAEP RSA1_5; do
	python3 - "$TMP/sd-$alg.json" "$TMP/swap-$alg.json" "$K/cert_0.cer" "$K/cert_1.cer" <<'EOF'
import base64, hashlib, json, ssl, sys
src, dst, c0, c1 = sys.argv[1:]
def x5t(p):
    der = ssl.PEM_cert_to_DER_cert(open(p).read())
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
j = json.load(open(src))
sh = j["SharedKeys"]["enc_shares"]
a = next(s for s in sh if s["x5t_256"] == x5t(c0))
b = next(s for s in sh if s["x5t_256"] == x5t(c1))
a["enc_key"], b["enc_key"] = b["enc_key"], a["enc_key"]
json.dump(j, open(dst, "w"))
EOF
	for raw in 0 1; do
		SDCEREMONY_TEST_PKCS11_RAW=$raw expect_exit \
			"$alg share not for this key (raw=$raw): verify fails (4)" 4 \
			"$SDC" verify --sd-file "$TMP/swap-$alg.json" --sd-wrapping-keys "$A" \
			--pin-file "$TMP/pins/alice" </dev/null
		out_has "$alg share not for this key (raw=$raw): the report names alice's key" \
			"Key 1: $A  [FAIL] "
	done
done

rm -f "$TMP/blob"*
expect_exit "restore-blob with two token keys" 0 \
	"$SDC" restore-blob --sd-file "$SD" --sd-exchange-key "$X/exchange.cer" \
	--sd-wrapping-keys "$A" "$B" --pin-file "$TMP/pins/alice" "$TMP/pins/bob" \
	--sd-file-restore-blob "$TMP/blob-tokens.json" </dev/null
check "the HSM opens the blob of two token keys to the very items" \
	"$BLOBOPEN" --blob "$TMP/blob-tokens.json" --exchange-key-private "$X/exchange.key" \
	--exchange-cert "$X/exchange.der" --expect "$TMP/items-RSA-OAEP-256.json"
expect_exit "restore-blob with a mixed quorum: a token key and a key file" 0 \
	"$SDC" restore-blob --sd-file "$SD" --sd-exchange-key "$X/exchange.cer" \
	--sd-wrapping-keys "$K/cert_4.key" "$A" --password-files "$K/cert_4.pass" \
	--pin-file "$TMP/pins/alice" --sd-file-restore-blob "$TMP/blob-mixed.json" </dev/null
check "the HSM opens the mixed-quorum blob to the very items" \
	"$BLOBOPEN" --blob "$TMP/blob-mixed.json" --exchange-key-private "$X/exchange.key" \
	--exchange-cert "$X/exchange.der" --expect "$TMP/items-RSA-OAEP-256.json"
expect_exit "carol (no certificate on the token) with --certs: verify alone is one good share (6)" 6 \
	"$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$C" --pin-file "$TMP/pins/carol" \
	--certs "$TMP/certs" </dev/null
out_has "carol's certificate is the one in --certs" "certificate $TMP/certs/cert_7.cer"
expect_exit "rekey from a token key and a key file" 0 \
	"$SDC" rekey --sd-file "$SD" --sd-wrapping-keys "$A" "$K/cert_1.key" \
	--pin-file "$TMP/pins/alice" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" "$K/cert_0.cer" \
	--new-quorum 2 --out "$TMP/rekeyed.json" </dev/null
expect_exit "the rekeyed file opens with alice's token key and cert_6" 0 \
	"$SDC" verify --sd-file "$TMP/rekeyed.json" --sd-wrapping-keys "$A" "$K/cert_6.key" \
	--password-files "$K/cert_6.pass" --pin-file "$TMP/pins/alice" </dev/null

# --- refusals: one line naming token and object, exit status, nothing written --

# refuse NAME STATUS PATTERN KEYS...: restore-blob with KEYS (and the PIN
# files after --) exits STATUS, says PATTERN, and writes no blob.
refuse() {
	local name=$1 status=$2 pattern=$3; shift 3
	rm -f "$TMP/refused.json"
	expect_exit "$name: restore-blob exits $status" "$status" \
		"$SDC" restore-blob --sd-file "$SD" --sd-exchange-key "$X/exchange.cer" "$@" \
		--sd-file-restore-blob "$TMP/refused.json" </dev/null
	if grep -qF -- "$pattern" "$TMP/.err"; then ok "$name: says '$pattern'"; else
		not_ok "$name: says '$pattern'"; sed 's/^/# stderr: /' "$TMP/.err" | head -5; fi
	check "$name: nothing written" test ! -e "$TMP/refused.json"
}

refuse "wrong PIN" 4 "token 'alice' (serial " --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/wrong" "$TMP/pins/bob"
check "wrong PIN: the line says so" grep -qF -- "): wrong PIN" "$TMP/.err"
check "wrong PIN: the token's 'wrong PIN entered' flag is warned about" \
	grep -qF -- "warning: token 'alice' (serial" "$TMP/.err"
token_set_flags last 20000   # CKF_USER_PIN_FINAL_TRY
refuse "wrong PIN on the final try" 4 "one more wrong PIN locks the token" \
	--sd-wrapping-keys 'pkcs11:token=last' "$B" --pin-file "$TMP/pins/wrong" "$TMP/pins/bob"
token_set_flags lockme 40000 # CKF_USER_PIN_LOCKED
refuse "locked PIN" 4 "token 'lockme' (serial " --sd-wrapping-keys 'pkcs11:token=lockme' "$B" \
	--pin-file "$TMP/pins/lockme" "$TMP/pins/bob"
check "locked PIN: the line says the PIN is locked" \
	grep -qF -- "the user PIN is locked" "$TMP/.err"
refuse "token absent" 5 "pkcs11:token=dave: no token present matches" \
	--sd-wrapping-keys 'pkcs11:token=dave' "$B" --pin-file "$TMP/pins/alice" "$TMP/pins/bob"
check "token absent: the tokens present are listed" grep -qF -- "'alice' (serial " "$TMP/.err"
refuse "URI matching no key" 3 "no RSA private key on the token matches pkcs11:token=alice;object=nothere" \
	--sd-wrapping-keys 'pkcs11:token=alice;object=nothere' "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob"
refuse "URI matching two keys" 2 "token 'multi' (serial " \
	--sd-wrapping-keys 'pkcs11:token=multi' "$B" --pin-file "$TMP/pins/multi" "$TMP/pins/bob"
err_has "two keys: the count and the remedy" "matches 2 RSA private keys ("
err_has "two keys: object= or id= suggested" "): add object= or id= to the URI"
err_has "two keys: the first is named" "'one' (id 11)"
err_has "two keys: the second is named" "'two' (id 12)"
refuse "certificate in no share" 4 "key pkcs11:token=extra: no share in" \
	--sd-wrapping-keys 'pkcs11:token=extra' "$B" --pin-file "$TMP/pins/extra" "$TMP/pins/bob"
refuse "no certificate on the token nor in --certs" 3 \
	"token 'carol' (serial " --sd-wrapping-keys "$C" "$B" \
	--pin-file "$TMP/pins/carol" "$TMP/pins/bob"
check "no certificate: the line names the key and says where it looked" \
	grep -qF -- "key 'sd-wrap' (id 07): certificate not found" "$TMP/.err"
err_has "no certificate: batch says which option helps" "(give --certs DIR with its certificate)"
refuse "a PIN in the URI" 2 "refused: a command line is visible to other processes" \
	--sd-wrapping-keys 'pkcs11:token=alice?pin-value=1111' "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob"
err_has "a PIN in the URI: batch says how to give it" "(give the PIN at the prompt or with --pin-file)"
refuse "PIN needed, no terminal" 2 "needs its user PIN: give --pin-file" \
	--sd-wrapping-keys "$A" "$B" --pin-file "$TMP/pins/alice"
expect_exit "there is no --pin option (nor its abbreviation of --pin-file)" 2 "$SDC" verify \
	--sd-file "$SD" --sd-wrapping-keys "$A" --pin 1111 </dev/null
err_has "--pin: the refusal says why" "a PIN on the command line is visible to other processes"
expect_exit "more PIN files than URIs is a usage error" 2 "$SDC" verify --sd-file "$SD" \
	--sd-wrapping-keys "$A" --pin-file "$TMP/pins/alice" "$TMP/pins/bob" </dev/null
expect_exit "verify with an absent token: the drill fails as restore-blob does (5, token absent)" 5 \
	"$SDC" verify --sd-file "$SD" --sd-wrapping-keys 'pkcs11:token=dave' "$A" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/alice" </dev/null
out_has "verify with an absent token: the report names it" \
	"Key 1: pkcs11:token=dave  [FAIL] not a usable private key"

# --- token list ----------------------------------------------------------------

expect_exit "token list without login" 0 "$SDC" token list --sd-file "$SD" </dev/null
out_has "token list: alice is listed with its serial" "Token 'alice' (serial "
out_has "token list without login: the certificate is listed, the private key hidden" \
	"Key 'sd-wrap' (id 01): RSA 2048, private key not seen (not logged in?)"
"$SDC" token list --json >"$TMP/order.json" </dev/null
# The PIN files in the order the tokens are listed (the module's slot order).
mapfile -t ORDER < <(python3 -c 'import json,sys; [print(t["label"]) for t in json.load(open(sys.argv[1]))["tokens"]]' "$TMP/order.json")
PINS=() WRONG=()
for t in "${ORDER[@]}"; do
	PINS+=("$TMP/pins/$t")
	if [ "$t" = alice ]; then WRONG+=("$TMP/pins/wrong"); else WRONG+=("$TMP/pins/$t"); fi
done
check "token list --json lists the seven tokens" test "${#ORDER[@]}" = 7
expect_exit "token list --login with PIN files (tokens in the order listed)" 0 \
	"$SDC" token list --sd-file "$SD" --json --login --pin-file "${PINS[@]}" </dev/null
cp "$TMP/.out" "$TMP/list.json"
check "token list --json: alice's key is sensitive, not extractable, and opens its share" \
	python3 - "$TMP/list.json" "$K/cert_0.cer" "$SD" <<'EOF'
import base64, hashlib, json, ssl, sys
j = json.load(open(sys.argv[1]))
der = ssl.PEM_cert_to_DER_cert(open(sys.argv[2]).read())
x5t = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
sd = json.load(open(sys.argv[3]))
want = 1 + [s["x5t_256"] for s in sd["SharedKeys"]["enc_shares"]].index(x5t)
t = {t["label"]: t for t in j["tokens"]}
assert j["report"] == "token_list", j
a = t["alice"]
assert a["logged_in"] is True and len(a["keys"]) == 1, a
k = a["keys"][0]
assert k["private_key"] and k["sensitive"] is True and k["extractable"] is False, k
assert k["decrypt"] is True and k["bits"] == 2048 and k["id"] == "01", k
assert k["certificate"]["x5t_256"] == x5t and k["share"] == want, k
assert k["uri"].startswith("pkcs11:token=alice;serial=") and ";id=%01" in k["uri"], k
assert t["extra"]["keys"][0]["share"] is None, t["extra"]
assert t["lockme"]["pin_locked"] is True and t["lockme"]["logged_in"] is False, t["lockme"]
assert len(t["multi"]["keys"]) == 2, t["multi"]
EOF
uri=$(python3 -c 'import json,sys; print([t for t in json.load(open(sys.argv[1]))["tokens"] if t["label"] == "alice"][0]["keys"][0]["uri"])' "$TMP/list.json")
expect_exit "the URI token list prints opens alice's share" 6 \
	"$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$uri" --pin-file "$TMP/pins/alice" </dev/null
out_has "the listed URI gives a good share" "[OK] share authenticated"
expect_exit "token list --login: a wrong PIN is exit 4, the tokens still listed" 4 \
	"$SDC" token list --login --pin-file "${WRONG[@]}" </dev/null
err_has "token list: the wrong PIN is named with the token" "token 'alice' (serial "
err_has "token list: the wrong PIN is said" "): wrong PIN"
out_has "token list after a wrong PIN: the others are listed" "Token 'bob' (serial "
out_has "token list: a locked token is listed with a warning" "warning: the user PIN is locked"

# --- the PIN at the terminal: not in argv, environment or transcript ---------

if ! command -v script >/dev/null || ! command -v pgrep >/dev/null; then
	skip "PIN at the terminal" "script(1) or pgrep missing"
	done_testing
	exit
fi
mkfifo "$TMP/tty-in"
script -qfec "exec $(printf '%q ' "$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$A" "$B" \
	--transcript "$TMP/transcript.txt")" "$TMP/typescript" <"$TMP/tty-in" >/dev/null 2>&1 &
spid=$!
exec 3>"$TMP/tty-in"
waitfor() {
	local i
	for i in $(seq 1 200); do
		[ "$(grep -cF -- "$1" "$TMP/typescript" 2>/dev/null || true)" -ge "$2" ] 2>/dev/null &&
			return 0
		sleep 0.05
	done
	return 1
}
if waitfor "User PIN of token 'alice'" 1; then
	printf '1111\r' >&3
	if waitfor "User PIN of token 'bob'" 1; then
		pid=$(pgrep -n -x sdceremony -P "$spid" || true)
		if [ -n "$pid" ]; then
			tr '\0' '\n' <"/proc/$pid/cmdline" >"$TMP/cmdline"
			tr '\0' '\n' <"/proc/$pid/environ" >"$TMP/environ"
			check "waiting for bob's PIN: argv names the URIs" grep -qF -- "$B" "$TMP/cmdline"
			check "waiting for bob's PIN: alice's PIN is not in argv" \
				bash -c '! grep -qF -- 1111 "$0"' "$TMP/cmdline"
			check "waiting for bob's PIN: the environment was read" test -s "$TMP/environ"
			check "waiting for bob's PIN: alice's PIN is not in the environment" \
				bash -c '! grep -qF -- 1111 "$0"' "$TMP/environ"
		else
			not_ok "found the process waiting for bob's PIN"
		fi
		printf '2222\r' >&3
	else
		not_ok "asked for bob's PIN"
	fi
else
	not_ok "asked for alice's PIN at the terminal"
	sed 's/^/# /' "$TMP/typescript" | head -5
fi
exec 3>&-
wait
check "the typed PINs verify the domain" grep -qF -- "Result: VERIFIED" "$TMP/typescript"
check "the PINs were not echoed" bash -c '! grep -qE -- "1111|2222" "$0"' "$TMP/typescript"
check "the transcript names the token keys" grep -qF -- "drill key $A" "$TMP/transcript.txt"
check "the transcript holds no PIN" bash -c '! grep -qE -- "1111|2222" "$0"' "$TMP/transcript.txt"

done_testing
