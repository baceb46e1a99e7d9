#!/usr/bin/env bash
# package: the download request for certificates made elsewhere (openssl, as
# in the service's quickstart), recomputed independently; and its refusals.
. tests/lib.sh

W="$TMP/w"
mkdir -p "$W"
for i in 0 1 2 3; do
	openssl req -newkey rsa:2048 -nodes -keyout "$W/cert_$i.key" -x509 -days 365 \
		-subj "/CN=quickstart $i" -out "$W/cert_$i.cer" 2>/dev/null
done
openssl x509 -in "$W/cert_3.cer" -outform DER -out "$W/cert_3.der"
openssl req -newkey rsa:1024 -nodes -keyout "$W/small.key" -x509 -days 1 -subj /CN=small \
	-out "$W/small.cer" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ec.key" -x509 \
	-days 1 -subj /CN=ec -out "$W/ec.cer" 2>/dev/null
openssl req -new -key "$W/cert_1.key" -x509 -days 2 -subj /CN=again -out "$W/again.cer" 2>/dev/null
printf 'not a certificate\n' >"$W/junk.cer"

# recompute REQUEST Q CERT...: the request matches JWKs built with python3 from openssl's DER.
recompute() {
	local req=$1 q=$2; shift 2
	local i=0 c
	for c in "$@"; do
		openssl x509 -in "$c" -inform "$( [ "${c##*.}" = der ] && echo DER || echo PEM)" \
			-outform DER -out "$W/r$i.der"
		i=$((i + 1))
	done
	python3 - "$req" "$q" "$i" "$W" <<'EOF'
import base64, hashlib, json, subprocess, sys
req, q, n, w = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
assert list(req) == ["certificates", "required"] and req["required"] == q
assert len(req["certificates"]) == n
for i, jwk in enumerate(req["certificates"]):
    der = open(f"{w}/r{i}.der", "rb").read()
    mod = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f"{w}/r{i}.der",
                          "-noout", "-modulus"], capture_output=True, text=True, check=True)
    nn = int(mod.stdout.strip().split("=")[1], 16)
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RSA-OAEP-256"
    assert jwk["key_ops"] == ["verify", "encrypt", "wrapKey"]
    assert jwk["n"] == b64u(nn.to_bytes((nn.bit_length() + 7) // 8, "big"))
    assert jwk["e"] == "AQAB"
    assert jwk["x5c"] == [base64.b64encode(der).decode()]
    assert jwk["x5t"] == b64u(hashlib.sha1(der).digest())
    assert jwk["x5t#S256"] == b64u(hashlib.sha256(der).digest())
EOF
}

check "package: 3 quickstart certificates, quorum 2" \
	"$SDC" package --certs "$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_2.cer" --quorum 2 --out "$W/pkg"
cp "$TMP/.out" "$W/pkg.out"
check "request recomputed independently" recompute "$W/pkg/download-request.json" 2 \
	"$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_2.cer"
check "manifest names come from the CN, thumbprints in hex" python3 -c '
import hashlib, json, subprocess, sys
m = json.load(open(sys.argv[1]))
assert m["count"] == 3 and m["required"] == 2
for i, c in enumerate(m["custodians"]):
    der = subprocess.run(["openssl", "x509", "-in", c["certificate"], "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert c["name"] == "quickstart %d" % i, c["name"]
    assert c["sha256_hex"] == hashlib.sha256(der).hexdigest()
' "$W/pkg/ceremony.json"
check "prints the az command with the given paths" grep -qxF -- \
	"az keyvault security-domain download --hsm-name <HSM> --sd-wrapping-keys $W/cert_0.cer $W/cert_1.cer $W/cert_2.cer --sd-quorum 2 --security-domain-file <HSM>-SD.json" \
	"$W/pkg.out"
check "repeated --certs and a DER certificate, quorum 4 of 4" \
	"$SDC" package --certs "$W/cert_0.cer" --certs "$W/cert_1.cer" --certs "$W/cert_2.cer" \
	--certs "$W/cert_3.der" -q 4 -o "$W/pkg4"
check "request with the DER certificate recomputed" recompute "$W/pkg4/download-request.json" 4 \
	"$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_2.cer" "$W/cert_3.der"
check "--json parses" bash -c '"$0" package --certs "$1/cert_0.cer" "$1/cert_1.cer" "$1/cert_2.cer" \
	-q 3 -o "$1/pkgj" --json | python3 -c "import json,sys; assert json.load(sys.stdin)[\"required\"] == 3"' \
	"$SDC" "$W"

expect_exit "existing files are refused" 5 "$SDC" package --certs "$W/cert_0.cer" "$W/cert_1.cer" \
	"$W/cert_3.cer" -q 2 -o "$W/pkg"
expect_err "... naming the file and --force" "pkg/download-request.json: already exists.*--force"
check "... and left as they were" recompute "$W/pkg/download-request.json" 2 \
	"$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_2.cer"
check "--force replaces them" "$SDC" package --certs "$W/cert_0.cer" "$W/cert_1.cer" \
	"$W/cert_3.cer" -q 3 -o "$W/pkg" --force
check "... with the new request" recompute "$W/pkg/download-request.json" 3 \
	"$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_3.cer"

# refuse NAME STATUS REGEX ARGS...: refused, with a message, no output directory.
refuse() {
	local name=$1 status=$2 regex=$3; shift 3
	expect_exit "refused: $name" "$status" "$SDC" package --out "$W/refused" "$@"
	expect_err "refused: $name: message" "$regex"
	check "refused: $name: nothing written" test ! -e "$W/refused"
}
C3=("$W/cert_0.cer" "$W/cert_1.cer" "$W/cert_2.cer")
refuse "2 certificates" 2 "number of keys 2 is out of range" --certs "$W/cert_0.cer" "$W/cert_1.cer" -q 2
refuse "11 certificates" 2 "number of keys 11 is out of range" \
	--certs "${C3[@]}" "${C3[@]}" "${C3[@]}" "$W/cert_3.cer" "$W/cert_3.der" -q 2
refuse "quorum 1" 2 "quorum 1 is out of range" --certs "${C3[@]}" -q 1
refuse "quorum above N" 2 "quorum 4 is out of range" --certs "${C3[@]}" -q 4
refuse "an RSA-1024 certificate" 3 "small.cer: RSA key of 1024 bits is too short" \
	--certs "${C3[@]}" "$W/small.cer" -q 2
refuse "an EC certificate" 3 "ec.cer: not an RSA key" --certs "$W/ec.cer" "${C3[@]}" -q 2
refuse "the same key twice" 3 "again.cer: same public key as .*cert_1.cer" \
	--certs "${C3[@]}" "$W/again.cer" -q 2
refuse "the same certificate twice" 3 "same public key" --certs "${C3[@]}" "$W/cert_0.cer" -q 2
refuse "not a certificate" 3 "junk.cer: not a PEM or DER X.509 certificate" \
	--certs "${C3[@]}" "$W/junk.cer" -q 2
refuse "a missing file" 5 "missing.cer: cannot open" --certs "${C3[@]}" "$W/missing.cer" -q 2
refuse "no quorum" 2 "are required" --certs "${C3[@]}"
check "package --transcript" "$SDC" package --certs "${C3[@]}" --quorum 2 --out "$W/pkgt" \
	--transcript "$W/package.log"
check "--transcript: the start" grep -qF -- "package start: 3 certificates, quorum 2, into $W/pkgt" "$W/package.log"
check "--transcript: the request's SHA-256" grep -qF -- \
	"package download package: $W/pkgt/download-request.json sha256 $(sha256sum "$W/pkgt/download-request.json" | cut -c1-64)" \
	"$W/package.log"
check "--transcript: the result" grep -qF -- "package result: [OK] (exit 0)" "$W/package.log"
expect_exit "--transcript: a refusal is recorded too" 5 "$SDC" package --certs "${C3[@]}" --quorum 2 \
	--out "$W/pkgt" --transcript "$W/package.log"
check "... as a failure" grep -qF -- "package result: [FAIL] $W/pkgt/download-request.json: already exists (exit 5)" "$W/package.log"
check "no temporary file left anywhere" bash -c '! find "$1" -name "*.tmp-*" | grep -q .' _ "$W"

done_testing
