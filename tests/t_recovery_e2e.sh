#!/usr/bin/env bash
# Recovery end to end on the committed vectors (tests/vectors/sd/, made by
# sdforge): restore-blob, then the test-side HSM (blobopen) opens the blob
# with the exchange private key and every tag and plaintext must equal what
# sdforge put in; verify passes with a quorum and says "quorum not reached"
# (status 6) with one key fewer; inspect and the --json outputs parse.
#
# Keys are given encrypted ones first with their --password-files in the
# same order, then the keys without a password (the order az needs too).
. tests/lib.sh

SD="$VEC/sd"
BLOBOPEN="$TOOLS/blobopen"
FORGE="$TOOLS/sdforge"
EXCH="$SD/exchange"

# key_args INDEX...: sets KEYARGS to --sd-wrapping-keys ... [--password-files ...]
key_args() {
	local enc=() plain=() pw=() i
	for i in "$@"; do
		if [ -f "$SD/keys/cert_$i.pass" ]; then
			enc+=("$SD/keys/cert_$i.key"); pw+=("$SD/keys/cert_$i.pass")
		else
			plain+=("$SD/keys/cert_$i.key")
		fi
	done
	KEYARGS=(--sd-wrapping-keys "${enc[@]}" "${plain[@]}")
	[ "${#pw[@]}" -eq 0 ] || KEYARGS+=(--password-files "${pw[@]}")
}

# json_check FILE PYTHON-EXPR: FILE parses as JSON and EXPR (over j) is true.
# Field names are those of ceremony/report.h.
json_check() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
try:
    ok = eval(sys.argv[2])
except (KeyError, TypeError, IndexError) as e:
    print("missing or wrong field:", repr(e)); ok = False
if not ok:
    print(json.dumps(j)[:600])
sys.exit(0 if ok else 1)
EOF
}

[ -x "$BLOBOPEN" ] && [ -x "$FORGE" ] || { not_ok "test tools built ($TOOLS)"; done_testing; exit; }
mkdir -p "$TMP/blobs"

while read -r name file q version alg idx; do
	case $name in ''|'#'*) continue;; esac
	IFS=, read -r -a all <<<"$idx"
	n=${#all[@]}
	chosen=("${all[@]:n-q}")   # the last Q certificates: not the first shares in the file
	key_args "${chosen[@]}"
	blob="$TMP/blobs/$name.blob"
	expect_exit "$name: restore-blob with $q of $n keys ($alg, v$version)" 0 \
		"$SDC" restore-blob --sd-file "$SD/$file" --sd-exchange-key "$EXCH/exchange.cer" \
		"${KEYARGS[@]}" --sd-file-restore-blob "$blob" </dev/null
	check "$name: the HSM opens the blob and finds every item unchanged" \
		"$BLOBOPEN" --blob "$blob" --exchange-key-private "$EXCH/exchange.key" \
		--exchange-cert "$EXCH/exchange.der" --expect "$SD/$name.items.json"

	expect_exit "$name: verify with $q keys" 0 \
		"$SDC" verify --sd-file "$SD/$file" "${KEYARGS[@]}" </dev/null
	"$SDC" verify --sd-file "$SD/$file" "${KEYARGS[@]}" --json >"$TMP/v.json" </dev/null
	check "$name: verify --json: verified, required $q, $q good keys" \
		json_check "$TMP/v.json" "j['result'] == 'verified' and j['required'] == $q and \
		j['good'] == $q and all(k['status'] == 'good' for k in j['keys'])"
	key_args "${chosen[@]:1}"
	expect_exit "$name: verify with $((q - 1)) keys is 'quorum not reached' (6)" 6 \
		"$SDC" verify --sd-file "$SD/$file" "${KEYARGS[@]}" </dev/null
	"$SDC" verify --sd-file "$SD/$file" "${KEYARGS[@]}" --json >"$TMP/v.json" </dev/null
	check "$name: verify --json with $((q - 1)) keys: quorum_not_reached, 1 more needed" \
		json_check "$TMP/v.json" "j['result'] == 'quorum_not_reached' and j['needed'] == 1"

	expect_exit "$name: inspect" 0 "$SDC" inspect --sd-file "$SD/$file" </dev/null
	"$SDC" inspect --sd-file "$SD/$file" --json >"$TMP/i.json" </dev/null
	tags=$(python3 -c 'import json,sys; print(repr(list(json.load(open(sys.argv[1]))["items"])))' \
		"$SD/$name.items.json")
	check "$name: inspect --json: version $version, required $q, every tag in order" \
		json_check "$TMP/i.json" "j['version'] == $version and j['ok'] and \
		($version == 1 or j['required'] == $q) and [d['tag'] for d in j['data']] == $tags"
done <"$SD/cases"
check "nothing but the blobs is left in their directory" \
	bash -c '[ -z "$(find "$0" -type f ! -name "*.blob")" ]' "$TMP/blobs"

# Passwords on the command line, az style (UTF-8 and spaces kept as given).
expect_exit "q3_n4_big: restore-blob with --passwords" 0 "$SDC" restore-blob \
	--sd-file "$SD/q3_n4_big.json" --sd-exchange-key "$EXCH/exchange.cer" \
	--sd-wrapping-keys "$SD/keys/cert_6.key" "$SD/keys/cert_3.key" "$SD/keys/cert_4.key" \
	--passwords "$(head -n 1 "$SD/keys/cert_6.pass")" "$(head -n 1 "$SD/keys/cert_3.pass")" \
	"$(head -n 1 "$SD/keys/cert_4.pass")" --sd-file-restore-blob "$TMP/pw.blob" </dev/null
check "q3_n4_big: --passwords blob opens" "$BLOBOPEN" --blob "$TMP/pw.blob" \
	--exchange-key-private "$EXCH/exchange.key" --expect "$SD/q3_n4_big.items.json"

# Every form of the exchange key gives a blob for the same key.
for x in exchange.cer exchange.der exchange.jwk exchange_rest.json; do
	key_args 0 2
	blob="$TMP/x-$x.blob"
	expect_exit "exchange key as $x" 0 "$SDC" restore-blob --sd-file "$SD/q2_n3.json" \
		--sd-exchange-key "$EXCH/$x" "${KEYARGS[@]}" --sd-file-restore-blob "$blob" </dev/null
	check "exchange key as $x: blob opens" "$BLOBOPEN" --blob "$blob" \
		--exchange-key-private "$EXCH/exchange.key" --exchange-cert "$EXCH/exchange.der" \
		--expect "$SD/q2_n3.items.json"
done

# The referee can say no: a wrong items file, a tampered blob.
if [ -s "$TMP/x-exchange.cer.blob" ]; then
	expect_exit "blobopen refuses another SD's items" 1 "$BLOBOPEN" \
		--blob "$TMP/x-exchange.cer.blob" --exchange-key-private "$EXCH/exchange.key" \
		--expect "$SD/value_q2_n3.items.json"
	python3 - "$TMP/x-exchange.cer.blob" "$TMP/tampered.blob" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1]))
jwe = b["EncData"]["data"][0]["compact_jwe"].split(".")
jwe[3] = jwe[3][:10] + ("A" if jwe[3][10] != "A" else "B") + jwe[3][11:]
b["EncData"]["data"][0]["compact_jwe"] = ".".join(jwe)
json.dump(b, open(sys.argv[2], "w"))
EOF
	expect_exit "blobopen refuses a tampered item" 1 "$BLOBOPEN" --blob "$TMP/tampered.blob" \
		--exchange-key-private "$EXCH/exchange.key"
	expect_err "blobopen names the tampered item's tag" "hsm_backup: authentication tag"
fi

# A fresh master key every time: two blobs of the same inputs differ.
key_args 0 1
"$SDC" restore-blob --sd-file "$SD/q2_n3.json" --sd-exchange-key "$EXCH/exchange.cer" \
	"${KEYARGS[@]}" --sd-file-restore-blob "$TMP/again.blob" </dev/null >/dev/null 2>&1
check "a second blob of the same inputs has a new wrapped key" \
	bash -c '! cmp -s "$0" "$1" && [ -s "$1" ]' "$TMP/x-exchange.cer.blob" "$TMP/again.blob"

# More keys than required: every one is used or checked, the blob still opens.
key_args 0 1 2 3 4 5
expect_exit "q5_n6: restore-blob with all 6 keys" 0 "$SDC" restore-blob \
	--sd-file "$SD/q5_n6.json" --sd-exchange-key "$EXCH/exchange.cer" "${KEYARGS[@]}" \
	--sd-file-restore-blob "$TMP/all6.blob" </dev/null
check "q5_n6: all-keys blob opens" "$BLOBOPEN" --blob "$TMP/all6.blob" \
	--exchange-key-private "$EXCH/exchange.key" --expect "$SD/q5_n6.items.json"
expect_exit "q5_n6: verify with all 6 keys" 0 "$SDC" verify --sd-file "$SD/q5_n6.json" \
	"${KEYARGS[@]}" </dev/null

# PKCS#12 key (carries its certificate), with two PEM keys.
expect_exit "q3_n4_big: restore-blob with a PKCS#12 key" 0 "$SDC" restore-blob \
	--sd-file "$SD/q3_n4_big.json" --sd-exchange-key "$EXCH/exchange.cer" \
	--sd-wrapping-keys "$SD/keys/cert_5.pfx" "$SD/keys/cert_3.key" "$SD/keys/cert_6.key" \
	--password-files "$SD/keys/cert_5.pfx.pass" "$SD/keys/cert_3.pass" "$SD/keys/cert_6.pass" \
	--sd-file-restore-blob "$TMP/pfx.blob" </dev/null
check "q3_n4_big: PKCS#12 blob opens" "$BLOBOPEN" --blob "$TMP/pfx.blob" \
	--exchange-key-private "$EXCH/exchange.key" --expect "$SD/q3_n4_big.items.json"

# Keys whose certificates are not beside them, found with --certs DIR.
mkdir -p "$TMP/alone"
cp "$SD/keys/cert_7.key" "$TMP/alone/custodian-a.pem"
cp "$SD/keys/cert_8.key" "$TMP/alone/custodian-b.pem"
expect_exit "q2_n3-style keys without a .cer beside them, --certs DIR" 0 "$SDC" restore-blob \
	--sd-file "$SD/sizes_q2_n3.json" --sd-exchange-key "$EXCH/exchange.der" \
	--sd-wrapping-keys "$TMP/alone/custodian-a.pem" "$TMP/alone/custodian-b.pem" \
	--certs "$SD/keys" --sd-file-restore-blob "$TMP/certs.blob" </dev/null
check "--certs DIR blob opens" "$BLOBOPEN" --blob "$TMP/certs.blob" \
	--exchange-key-private "$EXCH/exchange.key" --expect "$SD/sizes_q2_n3.items.json"

# A drill that finds a bad custodian share: share 1 comes from another split.
# Alone it authenticates; any quorum with it rebuilds a wrong master key.
"$FORGE" --certs "$SD/keys/cert_0.cer" "$SD/keys/cert_1.cer" "$SD/keys/cert_7.cer" \
	--required 2 --corrupt inconsistent:1 --out "$TMP/inc.json" --items-out "$TMP/inc.items.json"
key_args 0 1 7
expect_exit "inconsistent share: verify with all three keys fails (4)" 4 \
	"$SDC" verify --sd-file "$TMP/inc.json" "${KEYARGS[@]}" </dev/null
"$SDC" verify --sd-file "$TMP/inc.json" "${KEYARGS[@]}" >"$TMP/inc.out" 2>&1 </dev/null
check "inconsistent share: verify names cert_1" grep -q "cert_1" "$TMP/inc.out"
"$SDC" verify --sd-file "$TMP/inc.json" "${KEYARGS[@]}" --json >"$TMP/inc.json.out" </dev/null
check "inconsistent share: verify --json marks cert_1, and only it, as disagreeing" \
	json_check "$TMP/inc.json.out" "j['result'] == 'failed' and \
	[k['disagrees'] for k in j['keys']] == ['cert_1' in k['key'] for k in j['keys']]"
key_args 0 7
expect_exit "inconsistent share: the other two still recover" 0 "$SDC" restore-blob \
	--sd-file "$TMP/inc.json" --sd-exchange-key "$EXCH/exchange.cer" "${KEYARGS[@]}" \
	--sd-file-restore-blob "$TMP/inc.blob" </dev/null
check "inconsistent share: blob of the good pair opens" "$BLOBOPEN" --blob "$TMP/inc.blob" \
	--exchange-key-private "$EXCH/exchange.key" --expect "$TMP/inc.items.json"

done_testing
