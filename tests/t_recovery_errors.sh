#!/usr/bin/env bash
# Every bad input of restore-blob, verify and inspect (fixtures in
# tests/vectors/bad/, made by its make.sh): the documented exit status, one
# line on stderr naming the file, key or item tag, and no output or
# temporary file left behind.
. tests/lib.sh

BAD="$VEC/bad"
KEYS="$VEC/sd/keys"
X="$VEC/sd/exchange/exchange.cer"
OUT="$TMP/out"
K0="$KEYS/cert_0.key" K1="$KEYS/cert_1.key" K2="$KEYS/cert_2.key"
P2=$(head -n1 "$KEYS/cert_2.pass")

# blob NAME STATUS REGEX ARGS...: restore-blob into an empty $OUT must fail
# with STATUS, say REGEX in one stderr line, and leave $OUT empty.
blob() {
	local name=$1 status=$2 regex=$3; shift 3
	rm -rf "$OUT"; mkdir -p "$OUT"
	expect_exit "restore-blob: $name: exit $status" "$status" \
		"$SDC" restore-blob --sd-file-restore-blob "$OUT/blob.json" "$@" </dev/null
	expect_err "restore-blob: $name: message" "$regex"
	# Usage errors add a pointer to --help on a second line.
	if [ "$(grep -vc "^Try '" "$TMP/.err")" -eq 1 ]; then ok "restore-blob: $name: one line"; else
		not_ok "restore-blob: $name: one line"; sed 's/^/# /' "$TMP/.err"; fi
	if [ -z "$(ls -A "$OUT")" ]; then ok "restore-blob: $name: no file left"; else
		not_ok "restore-blob: $name: no file left: $(ls -A "$OUT")"; fi
}

# sdblob NAME STATUS REGEX SD [KEYS...]: blob with SD and the exchange key;
# keys default to cert_0 and cert_1 (no passwords).
sdblob() {
	local name=$1 status=$2 regex=$3 sd=$4; shift 4
	[ $# -gt 0 ] || set -- "$K0" "$K1"
	blob "$name" "$status" "$regex" --sd-file "$sd" --sd-exchange-key "$X" \
		--sd-wrapping-keys "$@"
}

# verify_case NAME STATUS REGEX ARGS...
verify_case() {
	local name=$1 status=$2 regex=$3; shift 3
	expect_exit "verify: $name: exit $status" "$status" "$SDC" verify "$@" </dev/null
	expect_err "verify: $name: message" "$regex"
}

# The good file works, so every failure below is the defect's doing.
rm -rf "$OUT"; mkdir -p "$OUT"
check "good fixture recovers" "$SDC" restore-blob --sd-file "$BAD/good.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K0" "$K1" --sd-file-restore-blob "$OUT/blob.json"
check "good fixture's blob opens" "$TOOLS/blobopen" --blob "$OUT/blob.json" \
	--exchange-key-private "$VEC/sd/exchange/exchange.key"

# --- the security-domain file ---
sdblob "not JSON" 3 "not_json.json: not valid JSON" "$BAD/not_json.json"
sdblob "truncated JSON" 3 "truncated.json: not valid JSON \(line" "$BAD/truncated.json"
sdblob "empty file" 3 "empty.json: the file is empty" "$BAD/empty.json"
sdblob "JSON array" 3 "array.json: the JSON is not an object" "$BAD/array.json"
sdblob "required is a string" 3 "required_string.json: SharedKeys.required is not an integer" \
	"$BAD/required_string.json"
sdblob "required is 1" 3 "required_1.json: SharedKeys.required is 1" "$BAD/required_1.json"
sdblob "data is an object" 3 "data_object.json: EncData.data is not an array" "$BAD/data_object.json"
sdblob "unknown version" 3 "version_3.json: unsupported version 3" "$BAD/version_3.json"
sdblob "no EncData" 3 "no_encdata.json: EncData is missing" "$BAD/no_encdata.json"
sdblob "no SharedKeys" 3 "no_shared_keys.json: SharedKeys is missing" "$BAD/no_shared_keys.json"
sdblob "no enc_shares" 3 "SharedKeys.enc_shares is missing" "$BAD/no_enc_shares.json"
sdblob "unknown kdf" 3 "kdf_unknown.json: unsupported EncData.kdf \"hkdf\"" "$BAD/kdf_unknown.json"
sdblob "item without tag" 3 "item_no_tag.json: EncData.data\[1\]: \"tag\" is missing" \
	"$BAD/item_no_tag.json"
sdblob "item JWE is a number" 3 "item 'hsm_backup': \"compact_jwe\" is not a string" \
	"$BAD/item_jwe_number.json"
sdblob "item bad base64url" 3 "item 'hsm_backup': compact_jwe: bad base64url in JWE authentication tag" \
	"$BAD/item_bad_b64.json"
sdblob "item JWE 4 parts" 3 "item 'hsm_backup': compact_jwe: compact JWE has 4 parts" "$BAD/item_4_parts.json"
sdblob "item JWE 6 parts" 3 "item 'hsm_backup': compact_jwe: compact JWE has 6 parts" "$BAD/item_6_parts.json"
sdblob "item unsupported enc" 3 "item 'kmsp_enclave_backup': unsupported JWE enc \"A128GCM\"" \
	"$BAD/item_enc.json"
sdblob "share bad base64url" 3 "cert_1.key: share #2 in .*share_bad_b64.json is malformed: .*bad base64url" \
	"$BAD/share_bad_b64.json"
sdblob "share JWE 4 parts" 3 "cert_1.key: share #2 .* malformed: .*4 parts" "$BAD/share_4_parts.json"
sdblob "share without enc_key" 3 "cert_1.key: share #2 .* malformed: \"enc_key\" is missing" \
	"$BAD/share_no_enc_key.json"
sdblob "share unsupported alg" 3 "cert_1.key: share #2 .* unsupported JWE alg \"A128KW\"" \
	"$BAD/share_alg.json"
sdblob "share unsupported enc" 3 "cert_1.key: share #2 .* unsupported JWE enc \"A128GCM\"" \
	"$BAD/share_enc.json"
big="$TMP/big.json"
truncate -s $((16 * 1024 * 1024 + 1)) "$big"
sdblob "file over 16 MiB" 3 "big.json: file too large \(16777217 bytes" "$big"
sdblob "missing file" 5 "nothere.json: cannot open" "$TMP/nothere.json"

# --- tampering and inconsistency ---
sdblob "tampered share ciphertext" 4 "cert_1.key: share #2: authentication failed" \
	"$BAD/tampered_share.json"
sdblob "tampered share tag" 4 "cert_1.key: share #2: authentication failed" \
	"$BAD/tampered_share_tag.json"
sdblob "tampered share key" 4 "cert_1.key: share #2: the key does not decrypt" \
	"$BAD/tampered_share_key.json"
sdblob "tampered item" 4 "item 'base_enclave_backup': authentication failed" \
	"$BAD/tampered_item.json"
sdblob "inconsistent shares" 4 "shares are not from this security domain|inconsistent" \
	"$BAD/inconsistent.json"

# --- keys ---
sdblob "wrong passphrase" 4 "cert_2.key: wrong passphrase" "$BAD/good.json" "$K2" "$K0" --passwords nope ""
sdblob "wrong passphrase file" 4 "cert_2.key: wrong passphrase" "$BAD/good.json" "$K2" "$K0" \
	--password-files "$BAD/not_a_key.key"
# OpenSSL reads at most 1024 bytes of a PEM key's password: a longer one is
# named as such, not taken for a wrong one.
head -c 1500 /dev/zero | tr '\0' p >"$TMP/long.pass"
sdblob "password over 1024 bytes" 3 "cert_2.key: the password is 1500 bytes, longer than the limit of 1024" \
	"$BAD/good.json" "$K2" "$K0" --password-files "$TMP/long.pass" "$BAD/not_a_key.key"
sdblob "password needed, no terminal" 2 "cert_2.key is encrypted and needs a password" \
	"$BAD/good.json" "$K2" "$K0"
sdblob "empty password means none" 2 "cert_2.key is encrypted and needs a password" \
	"$BAD/good.json" "$K2" "$K0" --passwords "" ""
sdblob "not a key" 3 "not_a_key.key: not a PEM private key|not_a_key.key: not a private key" \
	"$BAD/good.json" "$BAD/not_a_key.key" "$K0"
sdblob "non-RSA key" 3 "ec_wrapping.key: not an RSA key" "$BAD/good.json" "$BAD/ec_wrapping.key" "$K0"
sdblob "weak key" 3 "weak_wrapping.key: RSA key of 1024 bits is too weak" "$BAD/good.json" \
	"$BAD/weak_wrapping.key" "$K0"
sdblob "key file missing" 5 "nokey.key: cannot open" "$BAD/good.json" "$TMP/nokey.key" "$K0"
sdblob "certificate missing" 3 "lonely.key: certificate not found \(looked for .*lonely.cer\)" \
	"$BAD/good.json" "$BAD/lonely.key" "$K0"
sdblob "certificate of another key" 3 "mismatch.key: certificate .*mismatch.cer does not belong" \
	"$BAD/good.json" "$BAD/mismatch.key" "$K0"
sdblob "certificate matching no share" 4 "cert_7.key: no share in .*good.json for its certificate .*cert_7.cer \(x5t_256 " \
	"$BAD/good.json" "$KEYS/cert_7.key" "$K0"
sdblob "same key twice, no quorum" 6 "1 good share of 2 required: 1 more needed \(key .*cert_0.key gives the same share as an earlier key" \
	"$BAD/good.json" "$K0" "$K0"
sdblob "fewer keys than required" 6 "1 key given, .*good.json needs 2" "$BAD/good.json" "$K0"
blob "too many passwords" 2 "2 passwords for 1 keys" --sd-file "$BAD/good.json" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K0" --passwords a b
blob "passwords and password files" 2 "not both" --sd-file "$BAD/good.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K2" "$K0" --passwords a --password-files "$KEYS/cert_2.pass"
blob "no exchange key option" 2 "are required" --sd-file "$BAD/good.json" --sd-wrapping-keys "$K0" "$K1"

# --- exchange key ---
sdx() {
	local name=$1 status=$2 regex=$3 x=$4
	blob "$name" "$status" "$regex" --sd-file "$BAD/good.json" --sd-exchange-key "$x" \
		--sd-wrapping-keys "$K0" "$K1"
}
sdx "weak exchange key" 3 "exchange key .*exchange_rsa1024.cer: RSA key of 1024 bits is too weak" \
	"$BAD/exchange_rsa1024.cer"
sdx "non-RSA exchange key" 3 "exchange key .*exchange_ec.cer: not an RSA key" "$BAD/exchange_ec.cer"
sdx "exchange JWK without x5c" 3 "exchange_no_x5c.json: JWK has no certificate" "$BAD/exchange_no_x5c.json"
sdx "exchange JWK whose n is not its certificate's" 3 "exchange_jwk_mismatch.jwk: the JWK's \"n\"/\"e\" are not" \
	"$BAD/exchange_jwk_mismatch.jwk"
sdx "exchange key not a certificate" 3 "not_a_key.key: not an X.509 certificate" "$BAD/not_a_key.key"

# --- output ---
rm -rf "$OUT"; mkdir -p "$OUT"
echo "precious" >"$OUT/blob.json"
expect_exit "restore-blob: existing output: exit 5" 5 "$SDC" restore-blob --sd-file "$BAD/good.json" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K0" "$K1" --sd-file-restore-blob "$OUT/blob.json"
expect_err "restore-blob: existing output: message" "blob.json: already exists \(use --force"
check "restore-blob: existing output untouched" grep -qx precious "$OUT/blob.json"
check "restore-blob: --force replaces it" "$SDC" restore-blob --sd-file "$BAD/good.json" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K0" "$K1" --sd-file-restore-blob "$OUT/blob.json" --force
check "restore-blob: replaced blob opens" "$TOOLS/blobopen" --blob "$OUT/blob.json" \
	--exchange-key-private "$VEC/sd/exchange/exchange.key"
if [ "$(ls -A "$OUT")" = blob.json ]; then ok "restore-blob: --force leaves no temporary file"; else
	not_ok "restore-blob: --force leaves no temporary file: $(ls -A "$OUT")"; fi
touch "$TMP/notadir"
expect_exit "restore-blob: unwritable output: exit 5" 5 "$SDC" restore-blob --sd-file "$BAD/good.json" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K0" "$K1" --sd-file-restore-blob "$TMP/notadir/blob.json"
expect_err "restore-blob: unwritable output: message" "notadir/blob.json: cannot write in its directory"
if [ "$(id -u)" -ne 0 ]; then
	mkdir -p "$TMP/ro" && chmod 0555 "$TMP/ro"
	expect_exit "restore-blob: read-only directory: exit 5" 5 "$SDC" restore-blob \
		--sd-file "$BAD/good.json" --sd-exchange-key "$X" --sd-wrapping-keys "$K0" "$K1" \
		--sd-file-restore-blob "$TMP/ro/blob.json"
	check "restore-blob: read-only directory left empty" test -z "$(ls -A "$TMP/ro")"
else
	skip "restore-blob: read-only directory" "running as root"
fi

# --- verify ---
verify_case "fewer good shares than required" 6 "1 good share of 2 required: 1 more needed" \
	--sd-file "$BAD/good.json" --sd-wrapping-keys "$K0"
verify_case "quorum with a key that has no share" 4 "cert_7.key: no share" \
	--sd-file "$BAD/good.json" --sd-wrapping-keys "$K0" "$K1" "$KEYS/cert_7.key"
cp "$TMP/.out" "$TMP/report"
check "verify: the report still shows the quorum recovered" grep -q "Item hsm_backup: \[OK\]" "$TMP/report"
verify_case "wrong passphrase" 4 "cert_2.key: wrong passphrase" \
	--sd-file "$BAD/good.json" --sd-wrapping-keys "$K0" "$K2" --passwords "" nope
verify_case "tampered item" 4 "item 'base_enclave_backup': authentication failed" \
	--sd-file "$BAD/tampered_item.json" --sd-wrapping-keys "$K0" "$K1"
verify_case "tampered share" 4 "cert_1.key: share #2: authentication failed" \
	--sd-file "$BAD/tampered_share.json" --sd-wrapping-keys "$K0" "$K1" "$K2" --passwords "" "" "$P2"
verify_case "inconsistent share named" 4 "cert_1.key: its share is authentic but disagrees" \
	--sd-file "$BAD/inconsistent.json" --sd-wrapping-keys "$K0" "$K1" "$K2" --passwords "" "" "$P2"
verify_case "inconsistent shares, quorum only" 4 "inconsistent|not from this security domain" \
	--sd-file "$BAD/inconsistent.json" --sd-wrapping-keys "$K0" "$K1"
verify_case "same key twice, no quorum" 6 "cert_0.key gives the same share as an earlier key" \
	--sd-file "$BAD/good.json" --sd-wrapping-keys "$K0" "$K0"
verify_case "malformed file" 3 "truncated.json: not valid JSON" \
	--sd-file "$BAD/truncated.json" --sd-wrapping-keys "$K0" "$K1"
verify_case "password needed, no terminal" 2 "cert_2.key is encrypted and needs a password" \
	--sd-file "$BAD/good.json" --sd-wrapping-keys "$K2" "$K0"
expect_exit "verify: --json on failure still one object" 4 "$SDC" verify --json \
	--sd-file "$BAD/inconsistent.json" --sd-wrapping-keys "$K0" "$K1" "$K2" --passwords "" "" "$P2"
cp "$TMP/.out" "$TMP/report"
check "verify: --json names the disagreeing key" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
bad = [k["key"] for k in r["keys"] if k["disagrees"]]
assert r["result"] == "failed" and r["exit_status"] == 4, r
assert len(bad) == 1 and bad[0].endswith("cert_1.key"), bad
' "$TMP/report"

# --- inspect lists every defect, and does not stop at the first ---
expect_exit "inspect: several defects: exit 3" 3 "$SDC" inspect --sd-file "$BAD/many_defects.json"
expect_err "inspect: several defects: message" "many_defects.json: 4 malformed parts"
cp "$TMP/.out" "$TMP/report"
check "inspect: each defect listed" bash -c '
grep -q "#1 .*PROBLEM: enc_key: bad base64url in JWE encrypted key" "$0" &&
grep -q "#3 x5t_256 not a thumbprint  PROBLEM" "$0" &&
grep -q "#1 hsm_backup  PROBLEM: compact_jwe: compact JWE has 6 parts" "$0" &&
grep -q "#3 (no tag)  PROBLEM: \"tag\" is missing" "$0" &&
grep -q "#2 base_enclave_backup  A256CBC-HS512" "$0"' "$TMP/report"
expect_exit "inspect: --json with defects" 3 "$SDC" inspect --json --sd-file "$BAD/many_defects.json"
cp "$TMP/.out" "$TMP/report"
check "inspect: --json counts the problems" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["problems"] == 4 and r["ok"] is False, r
assert [d["problem"] is not None for d in r["data"]] == [True, False, True]
assert [s["problem"] is not None for s in r["enc_shares"]] == [True, False, True]
' "$TMP/report"
expect_exit "inspect: unsupported algorithms flagged" 3 "$SDC" inspect --sd-file "$BAD/share_alg.json"
cp "$TMP/.out" "$TMP/report"
check "inspect: names the alg" grep -q 'unsupported JWE alg "A128KW"' "$TMP/report"
expect_exit "inspect: truncated file" 3 "$SDC" inspect --sd-file "$BAD/truncated.json"
expect_err "inspect: truncated file: message" "truncated.json: not valid JSON"
expect_exit "inspect: file over 16 MiB" 3 "$SDC" inspect --sd-file "$big"
expect_err "inspect: file over 16 MiB: message" "file too large"
expect_exit "inspect: no --sd-file" 2 "$SDC" inspect
done_testing
