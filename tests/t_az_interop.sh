#!/usr/bin/env bash
# Interop with the real client: Debian's azure-cli restore-blob (offline)
# must decrypt our vectors (blobopen opens its blob and finds sdforge's
# items), and our restore-blob on the same inputs must give a blob that
# opens to the very same items.  az is slow to start: a handful of cases.
#
# az matches --passwords to --sd-wrapping-keys by position and cannot take an
# empty password, so keys with a password come first, plain keys last.
. tests/lib.sh

SD="$VEC/sd"
EXCH="$SD/exchange"
BLOBOPEN="$TOOLS/blobopen"

need_az "az interop"

# keys INDEX...: sets AZ_ARGS (az form) and SDC_ARGS (ours) for those keys.
keys() {
	local enc=() plain=() pw=() pwf=() i
	for i in "$@"; do
		if [ -f "$SD/keys/cert_$i.pass" ]; then
			enc+=("$SD/keys/cert_$i.key")
			pw+=("$(head -n 1 "$SD/keys/cert_$i.pass")")
			pwf+=("$SD/keys/cert_$i.pass")
		else
			plain+=("$SD/keys/cert_$i.key")
		fi
	done
	AZ_ARGS=(--sd-wrapping-keys "${enc[@]}" "${plain[@]}")
	SDC_ARGS=("${AZ_ARGS[@]}")
	if [ "${#pw[@]}" -gt 0 ]; then
		AZ_ARGS+=(--passwords "${pw[@]}")
		SDC_ARGS+=(--password-files "${pwf[@]}")
	fi
}

# interop NAME SDFILE INDEX...
interop() {
	local name=$1 file=$2; shift 2
	keys "$@"
	check "$name: az restore-blob decrypts our security domain" \
		az keyvault security-domain restore-blob --sd-file "$SD/$file" \
		--sd-exchange-key "$EXCH/exchange.cer" "${AZ_ARGS[@]}" \
		--sd-file-restore-blob "$TMP/$name.az"
	check "$name: az's blob opens to sdforge's items" \
		"$BLOBOPEN" --blob "$TMP/$name.az" --exchange-key-private "$EXCH/exchange.key" \
		--exchange-cert "$EXCH/exchange.der" --expect "$SD/$name.items.json" \
		--items-out "$TMP/$name.az.items"
	check "$name: our restore-blob on the same inputs" \
		"$SDC" restore-blob --sd-file "$SD/$file" --sd-exchange-key "$EXCH/exchange.cer" \
		"${SDC_ARGS[@]}" --sd-file-restore-blob "$TMP/$name.ours" </dev/null
	check "$name: our blob opens" \
		"$BLOBOPEN" --blob "$TMP/$name.ours" --exchange-key-private "$EXCH/exchange.key" \
		--exchange-cert "$EXCH/exchange.der" --items-out "$TMP/$name.ours.items"
	check "$name: both blobs unwrap to the same items" \
		cmp "$TMP/$name.az.items" "$TMP/$name.ours.items"
	check "$name: our blob has az's shape (fields, thumbprint, JWE headers, tag order)" \
		python3 - "$TMP/$name.az" "$TMP/$name.ours" <<'EOF'
import base64, json, sys
def shape(o):
    if isinstance(o, dict):
        return {k: shape(v) for k, v in o.items()}
    if isinstance(o, list):
        return [shape(v) for v in o]
    return type(o).__name__
def hdr(jwe):
    h = jwe.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
az, us = (json.load(open(f)) for f in sys.argv[1:])
problems = []
if shape(az) != shape(us):
    problems.append("fields differ: %s vs %s" % (shape(az), shape(us)))
else:
    if az["WrappedKey"]["x5t_256"] != us["WrappedKey"]["x5t_256"]:
        problems.append("WrappedKey.x5t_256 differs")
    if hdr(az["WrappedKey"]["enc_key"]) != hdr(us["WrappedKey"]["enc_key"]):
        problems.append("WrappedKey header %s vs %s" % (hdr(az["WrappedKey"]["enc_key"]),
                                                         hdr(us["WrappedKey"]["enc_key"])))
    if az["EncData"]["kdf"] != us["EncData"]["kdf"]:
        problems.append("kdf differs")
    for a, b in zip(az["EncData"]["data"], us["EncData"]["data"]):
        if a["tag"] != b["tag"] or hdr(a["compact_jwe"]) != hdr(b["compact_jwe"]):
            problems.append("item %r vs %r: %s vs %s" % (a["tag"], b["tag"], hdr(a["compact_jwe"]),
                                                         hdr(b["compact_jwe"])))
print("\n".join(problems))
sys.exit(1 if problems else 0)
EOF
}

interop q2_n3 q2_n3.json 2 0
interop q3_n4_big q3_n4_big.json 6 4 3
interop oaep_q3_n5 oaep_q3_n5.json 8 2 7
interop rsa15_q3_n5 rsa15_q3_n5.json 9 3 1
interop sizes_q2_n3 sizes_q2_n3.json 8 1

# The referee is not a yes-man: a tampered item makes az fail too.
"$TOOLS/sdforge" --certs "$SD/keys/cert_0.cer" "$SD/keys/cert_1.cer" "$SD/keys/cert_7.cer" \
	--required 2 --corrupt item:base_enclave_backup --out "$TMP/bad.json" \
	--items-out "$TMP/bad.items.json"
keys 0 1
expect_exit "az refuses a tampered item" 1 az keyvault security-domain restore-blob \
	--sd-file "$TMP/bad.json" --sd-exchange-key "$EXCH/exchange.cer" "${AZ_ARGS[@]}" \
	--sd-file-restore-blob "$TMP/bad.az"

# Where az is weak, we must not be: az skips the MAC check of a JWE whose
# tag part is not 32 bytes, so it takes items with no tag at all.
"$TOOLS/sdforge" --certs "$SD/keys/cert_0.cer" "$SD/keys/cert_1.cer" "$SD/keys/cert_7.cer" \
	--required 2 --corrupt item-notag:hsm_backup --out "$TMP/notag.json" \
	--items-out "$TMP/notag.items.json"
if az keyvault security-domain restore-blob --sd-file "$TMP/notag.json" \
	--sd-exchange-key "$EXCH/exchange.cer" "${AZ_ARGS[@]}" \
	--sd-file-restore-blob "$TMP/notag.az" >/dev/null 2>&1; then
	diag "az accepted an item without an authentication tag"
fi
keys 0 1
"$SDC" restore-blob --sd-file "$TMP/notag.json" --sd-exchange-key "$EXCH/exchange.cer" \
	"${SDC_ARGS[@]}" --sd-file-restore-blob "$TMP/notag.ours" </dev/null 2>"$TMP/.err"
rc=$?
# Malformed input (3) or failed authentication (4) are both fair answers.
if [ "$rc" -eq 3 ] || [ "$rc" -eq 4 ]; then ok "we refuse an item without an authentication tag"
else not_ok "we refuse an item without an authentication tag (exit $rc, wanted 3 or 4)"; fi
expect_err "the message names the item's tag" "hsm_backup"
check "no blob is left after the refusal" test ! -e "$TMP/notag.ours"

done_testing
