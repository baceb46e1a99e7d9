#!/usr/bin/env bash
# Regenerates the security-domain vectors in tests/vectors/sd/.  A manual
# step, not part of `make check`: the files are committed, and running this
# again makes new keys, so every file changes.  Needs openssl, python3 and
# build/tests/tools/sdforge (`make build/tests/tools/sdforge`).
#
#   tests/vectors/sd/make.sh            (from the top of the work tree)
#
# Other fixtures are made from these keys (tests/vectors/bad/make.sh): run
# their scripts again afterwards.
#
# What it makes:
#   keys/cert_<i>.cer, keys/cert_<i>.key, i = 0..9: wrapping certificates and
#       their private keys in the forms custodians bring (table below); a key
#       with a password has it in keys/cert_<i>.pass (first line);
#       keys/cert_5.pfx is PKCS#12 (key and certificate; password in
#       keys/cert_5.pfx.pass).
#   exchange/: the new HSM's exchange key, RSA 2048, as a PEM certificate with
#       65-character lines (as `az ... init-recovery` writes it), a DER
#       certificate, a JWK with x5c, the REST transfer-key JSON, and its
#       private key exchange.key (PKCS#8) for opening blobs.
#   <name>.json (or .txt for b64) and <name>.items.json: security domains made
#       by sdforge, and the plaintexts and master key each holds;
#       pretty_q2_n3.json and b64lines_q3_n3.txt are two of them rewritten
#       (indented, keys reversed, CRLF; b64 in 76-column lines).
#   cases: one line per security domain:
#       name  file  required  version  alg  certificate indices (comma list)
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top"
forge="$top/build/tests/tools/sdforge"
[ -x "$forge" ] || { echo "make.sh: build $forge first" >&2; exit 1; }
dir=tests/vectors/sd
rm -rf "$dir/keys" "$dir/exchange" "$dir"/*.json "$dir"/*.txt "$dir/cases"
mkdir -p "$dir/keys" "$dir/exchange"
cd "$dir"

#  i  bits  private key form
#  0  2048  traditional PEM RSA ("BEGIN RSA PRIVATE KEY"), no password
#  1  2048  PKCS#8, no password
#  2  2048  PKCS#8 encrypted, PBES2 with scrypt
#  3  3072  PKCS#8 encrypted, PBES2 with PBKDF2-HMAC-SHA256, AES-256-CBC
#  4  3072  traditional PEM RSA encrypted (DEK-Info AES-256-CBC)
#  5  4096  PKCS#8 encrypted, PBKDF2; also cert_5.pfx (PKCS#12)
#  6  4096  PKCS#8 encrypted, scrypt, non-ASCII (UTF-8) password
#  7  2048  PKCS#8, no password
#  8  2048  traditional PEM RSA, no password
#  9  2048  PKCS#8 encrypted, PBKDF2, password with spaces
bits=(2048 2048 2048 3072 3072 4096 4096 2048 2048 2048)
pass=("" "" "custodian two passphrase" "custodian-3-passphrase" "custodian 4 passphrase"
      "custodian five: pfx and pkcs8" "Grüße aus dem Tresor, Nummer 6" "" ""
      "nine  has  double  spaces")
for i in "${!bits[@]}"; do
	k=keys/cert_$i
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"${bits[$i]}" -out "$k.plain" 2>/dev/null
	openssl req -new -x509 -key "$k.plain" -days 3650 -subj "/CN=sdceremony test custodian $i" \
		-out "$k.cer"
	if [ -n "${pass[$i]}" ]; then printf '%s\n' "${pass[$i]}" >"$k.pass"; fi
	case $i in
	0|8) openssl pkey -in "$k.plain" -traditional -out "$k.key" ;;
	1|7) cp "$k.plain" "$k.key" ;;
	2|6) openssl pkcs8 -topk8 -scrypt -in "$k.plain" -passout file:"$k.pass" -out "$k.key" ;;
	3|5|9) openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in "$k.plain" \
		-passout file:"$k.pass" -out "$k.key" ;;
	4) openssl rsa -in "$k.plain" -aes256 -traditional -passout file:"$k.pass" -out "$k.key" \
		2>/dev/null ;;
	esac
	rm -f "$k.plain"
done
cp keys/cert_5.pass keys/cert_5.pfx.pass
openssl pkcs12 -export -inkey keys/cert_5.key -passin file:keys/cert_5.pass -in keys/cert_5.cer \
	-name "custodian 5" -passout file:keys/cert_5.pfx.pass -out keys/cert_5.pfx
chmod 0644 keys/*

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out exchange/exchange.key 2>/dev/null
openssl req -new -x509 -key exchange/exchange.key -days 30 -subj "/CN=sdceremony test HSM exchange key" \
	-outform DER -out exchange/exchange.der
python3 - exchange <<'EOF'
import base64, json, subprocess, sys
d = sys.argv[1]
der = open(d + "/exchange.der", "rb").read()
b64 = base64.b64encode(der).decode()
# The form `az keyvault security-domain init-recovery` writes: 65-char lines, no final newline.
pem = ["-----BEGIN CERTIFICATE-----"] + [b64[i:i + 65] for i in range(0, len(b64), 65)]
open(d + "/exchange.cer", "w").write("\n".join(pem + ["-----END CERTIFICATE-----"]))
mod = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", d + "/exchange.der", "-noout",
                      "-modulus"], capture_output=True, text=True, check=True).stdout
n = bytes.fromhex(mod.strip().split("=", 1)[1])
u = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
jwk = {"kid": "https://sdc-test.managedhsm.azure.net/keys/transfer-key/0123456789abcdef",
       "kty": "RSA-HSM", "key_ops": ["wrapKey", "encrypt"], "n": u(n), "e": u(b"\x01\x00\x01"),
       "x5c": [b64]}
# Service JWKs name the key type RSA-HSM; readers should care only about x5c.
open(d + "/exchange.jwk", "w").write(json.dumps(jwk, indent=1) + "\n")
open(d + "/exchange_rest.json", "w").write(json.dumps({"key_format": "jwk",
                                                       "transfer_key": json.dumps(jwk)}) + "\n")
EOF

cases=()
# forge NAME FILE REQUIRED "CERT INDICES" [sdforge options...]
forge() {
	local name=$1 file=$2 q=$3 idx=$4; shift 4
	local certs=() version=2 alg=RSA-OAEP-256 a
	for i in $idx; do certs+=("keys/cert_$i.cer"); done
	for a in "$@"; do
		case $a in --version=*) version=${a#*=};; --alg=*) alg=${a#*=};; esac
	done
	local opts=()
	for a in "$@"; do case $a in --*=*) opts+=("${a%%=*}" "${a#*=}");; *) opts+=("$a");; esac; done
	"$forge" --certs "${certs[@]}" --required "$q" --out "$file" --items-out "$name.items.json" \
		--seed "sdceremony vector $name" "${opts[@]}"
	cases+=("$name $file $q $version $alg $(echo $idx | tr ' ' ,)")
}
forge q2_n3       q2_n3.json       2  "0 1 2"
forge q3_n4_big   q3_n4_big.json   3  "3 4 5 6" --shuffle
forge q4_n5       q4_n5.json       4  "0 2 3 7 8"
forge q5_n6       q5_n6.json       5  "0 1 2 3 4 5" --shuffle
forge q6_n7       q6_n7.json       6  "0 1 2 3 4 5 6"
forge q7_n8       q7_n8.json       7  "7 6 5 4 3 2 1 0"
forge q8_n9       q8_n9.json       8  "0 1 2 3 4 5 6 7 8" --shuffle
forge q9_n10      q9_n10.json      9  "0 1 2 3 4 5 6 7 8 9"
forge q10_n10     q10_n10.json     10 "9 8 7 6 5 4 3 2 1 0" --shuffle
forge oaep_q3_n5  oaep_q3_n5.json  3  "0 1 2 7 8" --alg=RSA-OAEP
forge rsa15_q3_n5 rsa15_q3_n5.json 3  "1 2 3 8 9" --alg=RSA1_5 --shuffle
forge v1_n3       v1_n3.json       2  "0 1 2" --version=1
forge v1_n4       v1_n4.json       2  "1 7 8 9" --version=1 --shuffle
forge value_q2_n3 value_q2_n3.json 2  "0 1 9" --wrap=value
forge b64_q3_n3   b64_q3_n3.txt    3  "7 8 2" --wrap=b64
forge sizes_q2_n3 sizes_q2_n3.json 2  "1 7 8" \
	--tags="hsm_backup:1,base_enclave_backup:16,kmsp_enclave_backup:65536,custom/tag with \"quotes\":0"
# The same security domains written differently: pretty-printed with the
# keys in reverse order and CRLF line ends; b64 with 76-column lines.
python3 - <<'EOF'
import base64, json
def rev(o):
    if isinstance(o, dict):
        return {k: rev(o[k]) for k in reversed(list(o))}
    if isinstance(o, list):
        return [rev(v) for v in o]
    return o
sd = json.load(open("q2_n3.json"))
open("pretty_q2_n3.json", "w", newline="").write(json.dumps(rev(sd), indent=4).replace("\n", "\r\n") + "\r\n")
raw = base64.b64decode(open("b64_q3_n3.txt").read())
b64 = base64.b64encode(raw).decode()
open("b64lines_q3_n3.txt", "w").write("".join(b64[i:i + 76] + "\n" for i in range(0, len(b64), 76)))
EOF
cp q2_n3.items.json pretty_q2_n3.items.json
cp b64_q3_n3.items.json b64lines_q3_n3.items.json
for c in "${cases[@]}"; do
	case $c in
	"q2_n3 "*) cases+=("pretty_q2_n3 pretty_q2_n3.json ${c#q2_n3 q2_n3.json }");;
	"b64_q3_n3 "*) cases+=("b64lines_q3_n3 b64lines_q3_n3.txt ${c#b64_q3_n3 b64_q3_n3.txt }");;
	esac
done
{
	echo "# name  file  required  version  alg  certificate indices (keys/cert_<i>)"
	printf '%s\n' "${cases[@]}"
} >cases
du -sh . | sed 's/^/make.sh: total size /'
