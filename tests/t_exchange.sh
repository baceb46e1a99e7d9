#!/usr/bin/env bash
# restore-blob's exchange-key checks, batch mode, on the files the real
# service made (tests/vectors/real-service/): the facts printed for the online
# administrators to compare, the attestation of the 2025 key, the 2020 key
# reported as not attested, and every refusal (a custodian's certificate or
# key, a copied attestation, the HSM's name, --require-attestation,
# --expect-mrsigner) with its exit status, its message and no blob written.
. tests/lib.sh

R="$VEC/real-service"
A="$VEC/attest"
K2025="$R/transfer-key-2025.jwk.json"
MRSIGNER=db55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a
MRENCLAVE=5986123b3a753671389708d2c8fc9be4080c95146fba37a0adbc66676e49fb36
KEYS=(--sd-wrapping-keys "$R/cert_0.key" "$R/cert_1.key")
OUT="$TMP/blob.json"

# rb STATUS NAME EXCHANGE [OPTIONS...]: restore-blob of the real domain with
# two real keys; checks the status, and that no blob exists unless it is 0.
rb() {
	local want=$1 name=$2 x=$3
	shift 3
	rm -f "$OUT"
	expect_exit "$name: exit $want" "$want" "$SDC" restore-blob --sd-file "$R/sd-2020.json" \
		--sd-exchange-key "$x" "${KEYS[@]}" "$@" --sd-file-restore-blob "$OUT" </dev/null
	cp "$TMP/.out" "$TMP/rb.out"
	if [ "$want" = 0 ]; then
		check "$name: the blob is written" test -s "$OUT"
	else
		check "$name: no blob written" test ! -e "$OUT"
		[ "$want" = 2 ] || # usage errors add a pointer to --help
			check "$name: one line on stderr" test "$(wc -l <"$TMP/.err")" = 1
	fi
}
out_has() { check "$1" grep -qF -- "$2" "$TMP/rb.out"; }

# ---- the service's 2025 key: attested, facts printed ----
rb 0 "2025 transfer key" "$K2025"
check "prints the file's SHA-256 line as sha256sum does" \
	grep -qxF -- "$(sha256sum "$K2025")" "$TMP/rb.out"
out_has "prints the subject CN" "Subject CN: test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net"
out_has "prints the thumbprint" "Thumbprint (x5t#S256): wGaLpPbFtC8C85LDJlnn7jdp53x6NOxS8MZmd-l8Rb0"
out_has "says the attestation verified" "Attestation: VERIFIED"
out_has "prints MRSIGNER" "MRSIGNER  $MRSIGNER"
out_has "prints MRENCLAVE" "MRENCLAVE $MRENCLAVE"
out_has "prints ISVPRODID and ISVSVN" "ISVPRODID 1, ISVSVN 1"
out_has "says what cannot be proved offline" \
	"Freshness and Intel's revocation lists cannot be checked offline"
check "the facts come before the blob's lines" bash -c \
	'[ "$(grep -n "^Exchange key:" "$0" | cut -d: -f1)" -lt "$(grep -n "^Restore blob written" "$0" | cut -d: -f1)" ]' \
	"$TMP/rb.out"
check "the blob is wrapped to the 2025 key" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["WrappedKey"]["x5t_256"] == "wGaLpPbFtC8C85LDJlnn7jdp53x6NOxS8MZmd-l8Rb0"' "$OUT"
rb 0 "the REST response form of the same key" "$R/transfer-key-2025-response.json" \
	--require-attestation --expect-mrsigner "$MRSIGNER"
out_has "... MRSIGNER as expected" "MRSIGNER is the expected one."
rb 0 "--hsm-name, short" "$K2025" --hsm-name test-mhsm-sd2q2avldvp4tl
out_has "... the name is said to match" "HSM name: test-mhsm-sd2q2avldvp4tl matches the subject CN"
out_has "... and used in the upload line" "upload --hsm-name test-mhsm-sd2q2avldvp4tl"
rb 0 "--hsm-name, a full host name" "$K2025" \
	--hsm-name test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net

# Carried across as QR codes: qr join prints the sha256sum line the online
# side compares, and the joined key is the same key.
"$SDC" qr split "$K2025" --out "$TMP/qr" >/dev/null 2>&1
cat "$TMP"/qr/*.txt | "$SDC" qr join --out "$TMP/joined.json" >"$TMP/join.out" 2>&1
check "qr join prints the joined exchange key's sha256sum line" \
	grep -qxF -- "sha256sum: $(sha256sum "$TMP/joined.json")" "$TMP/join.out"
rb 0 "the exchange key joined from QR codes" "$TMP/joined.json"
out_has "... is the same attested key" "Thumbprint (x5t#S256): wGaLpPbFtC8C85LDJlnn7jdp53x6NOxS8MZmd-l8Rb0"

# ---- the 2020 key: not attested ----
rb 0 "2020 exchange key" "$R/exchange-2020.pem"
out_has "is reported as not attested" "Attestation: NOT ATTESTED"
out_has "... with its CN" "Subject CN: transfer-key"
out_has "... and its thumbprint" "DgKyj72PBn91O7ObV4YqFth4JGVKEdUpTEDn3qrkGT8"
rb 4 "2020 key with --require-attestation" "$R/exchange-2020.pem" --require-attestation
expect_err "... says it is not attested" "exchange-2020.pem: not attested .*an attestation is required"
rb 4 "2020 key with --expect-mrsigner" "$R/exchange-2020.pem" --expect-mrsigner "$MRSIGNER"
expect_err "... says the MRSIGNER cannot be compared" "not attested, so its MRSIGNER cannot be compared"
rb 4 "2020 key with --hsm-name" "$R/exchange-2020.pem" --hsm-name ContosoHSM2
expect_err "... says the name cannot be checked" "'transfer-key' names no HSM, so the HSM name ContosoHSM2 cannot be checked"

# ---- refusals ----
rb 4 "a key for another HSM" "$K2025" --hsm-name ContosoHSM2
expect_err "... quotes the CN and the expected name" \
	"subject CN is 'test-mhsm-sd2q2avldvp4tl.managedhsm.azure.net', not 'ContosoHSM2.managedhsm.azure.net'"
rb 4 "another MRSIGNER expected" "$K2025" --expect-mrsigner "$MRENCLAVE"
expect_err "... names the MRSIGNER found" "MRSIGNER $MRSIGNER, not the expected one"
rb 4 "a copied attestation on another key" "$A/copied_extension.pem"
expect_err "... names the failed check" "does not bind this certificate's public key"
rb 4 "a critical attestation extension" "$A/critical_extension.pem"
expect_err "... is refused" "marked critical"
for i in 0 1 2; do
	rb 3 "custodian certificate cert_$i.cer as exchange key" "$R/cert_$i.cer"
	expect_err "... names both files" \
		"exchange key $R/cert_$i.cer is a custodian's certificate: its thumbprint is the x5t_256 of share #$((i + 1)) in $R/sd-2020.json"
done
cp "$A/cert_0_recert.cer" "$TMP/recert.cer"
rb 3 "another certificate for a custodian's key, that key presented" "$TMP/recert.cer"
expect_err "... names both files" "exchange key $TMP/recert.cer has the public key of the custodian's certificate $R/cert_0.cer"
KEYS=(--sd-wrapping-keys "$R/cert_1.key" "$R/cert_2.key" --certs "$R")
rb 3 "... that key not presented, its certificate in --certs" "$TMP/recert.cer"
expect_err "... names both files" "exchange key $TMP/recert.cer has the public key of the custodian's certificate $R/cert_0.cer"
KEYS=(--sd-wrapping-keys "$R/cert_0.key" "$R/cert_1.key")

rb 5 "a --certs directory that cannot be read" "$K2025" --certs "$TMP/no-such-dir"
expect_err "... names it" "$TMP/no-such-dir: cannot open directory"

# Usage errors are found before anything is read.
rb 2 "a malformed --expect-mrsigner" "$K2025" --expect-mrsigner xyz
expect_err "... says why" "not the 64 hex digits"
rb 2 "a malformed --hsm-name" "$K2025" --hsm-name "bad name"
expect_err "... says why" "not an HSM name"

# The 2025 certificate with one byte of its quote's report body flipped (the
# certificate's own signature is not what protects the quote: the quote's is).
python3 - "$K2025" "$A/evidence_2025.bin" "$TMP/flipped.pem" <<'PY'
import base64, json, sys, textwrap
der = bytearray(base64.b64decode(json.load(open(sys.argv[1]))["x5c"][0]))
ev = open(sys.argv[2], "rb").read()
at = der.find(ev)
assert at > 0
der[at + 16 + 48 + 64] ^= 1  # first byte of MRENCLAVE
b64 = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
open(sys.argv[3], "w").write(f"-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
PY
rb 4 "the 2025 key with its MRENCLAVE altered" "$TMP/flipped.pem"
expect_err "... the quote's signature check fails" "the quote is not signed by its attestation key"
done_testing
