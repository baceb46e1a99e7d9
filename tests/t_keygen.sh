#!/usr/bin/env bash
# keygen: certificates, encrypted keys, the download request recomputed
# independently with openssl and python3, the manifest, and every refusal.
. tests/lib.sh

W="$TMP/w"
mkdir -p "$W"
for i in 0 1 2 3; do printf 'custodian passphrase %d\n' "$i" >"$W/p$i"; done
printf 'short one\n' >"$W/short"

# nothing_left DIR: DIR does not exist and its parent holds no temporary files.
nothing_left() {
	[ ! -e "$1" ] && ! ls -A "$(dirname "$1")" | grep -q '\.tmp-'
}

OUT="$W/set"
check "keygen 3 keys, quorum 2, RSA-2048" \
	"$SDC" keygen --count 3 --quorum 2 --out "$OUT" --bits 2048 --days 400 \
	--names 'Alice Smith,Bob,Carol' --passphrase-file "$W/p0" "$W/p1" "$W/p2" \
	--transcript "$W/keygen.log"
cp "$TMP/.out" "$W/keygen.out"
# The record is ceremony's (the wizard passes its transcript down the same way).
check "--transcript: the start" grep -qF -- \
	"keygen start: 3 keys RSA-2048, quorum 2, validity 400 days, into $OUT" "$W/keygen.log"
check "--transcript: the report's lines, as printed" grep -qF -- "  Made 3 custodian keys (quorum 2) in $OUT:" "$W/keygen.log"
check "--transcript: each certificate's SHA-256" grep -qF -- \
	"keygen certificate: $OUT/cert_2.cer sha256 $(sha256sum "$OUT/cert_2.cer" | cut -c1-64)" "$W/keygen.log"
check "--transcript: the result" grep -qF -- "keygen result: [OK] (exit 0)" "$W/keygen.log"
check "--transcript: no passphrase in it" bash -c '! grep -qF -- "custodian passphrase" "$0"' "$W/keygen.log"
check "the set is complete" test -f "$OUT/cert_0.cer" -a -f "$OUT/cert_2.key" \
	-a -f "$OUT/download-request.json" -a -f "$OUT/ceremony.json"
check "DIR is private (0700)" test "$(stat -c %a "$OUT")" = 700
check "nothing else in DIR and no temporary left beside it" bash -c \
	'[ "$(ls -A "$1" | wc -l)" = 8 ] && ! ls -A "$(dirname "$1")" | grep -q tmp' _ "$OUT"

for i in 0 1 2; do
	c="$OUT/cert_$i.cer" k="$OUT/cert_$i.key"
	check "cert_$i parses with openssl x509" openssl x509 -in "$c" -noout
	check "cert_$i self-verifies" openssl verify -CAfile "$c" "$c"
	openssl x509 -in "$c" -noout -text >"$W/text$i" 2>&1
	check "cert_$i is X.509 v3 signed with SHA-256" \
		bash -c 'grep -q "Version: 3" "$1" && grep -q "Signature Algorithm: sha256WithRSAEncryption" "$1"' _ "$W/text$i"
	check "cert_$i has keyUsage keyEncipherment and a subject key identifier" \
		bash -c 'grep -A1 "X509v3 Key Usage" "$1" | grep -q "Key Encipherment" &&
		         grep -q "Subject Key Identifier" "$1"' _ "$W/text$i"
	check "cert_$i has a positive 128-bit serial" bash -c \
		's=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2); [ ${#s} -eq 32 ] && [ "$(printf %d "0x${s:0:1}")" -lt 8 ]' _ "$c"
	check "cert_$i is RSA-2048" grep -q "Public-Key: (2048 bit)" "$W/text$i"
	check "cert_$i key has mode 0600" test "$(stat -c %a "$k")" = 600
	check "cert_$i key is PKCS#8 PBES2 + scrypt + AES-256-CBC" bash -c \
		'head -1 "$1" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" &&
		 a=$(openssl asn1parse -in "$1") && grep -q ":PBES2" <<<"$a" &&
		 grep -q ":scrypt" <<<"$a" && grep -q ":aes-256-cbc" <<<"$a"' _ "$k"
	check "cert_$i key opens with its passphrase and matches the certificate" bash -c \
		'[ "$(openssl pkey -in "$1" -passin file:"$2" -pubout)" = "$(openssl x509 -in "$3" -noout -pubkey)" ]' \
		_ "$k" "$W/p$i" "$c"
	check "cert_$i key passes openssl's RSA check (primes, d, CRT values)" bash -c \
		'openssl rsa -in "$1" -passin file:"$2" -check -noout | grep -q "RSA key ok" &&
		 openssl rsa -in "$1" -passin file:"$2" -text -noout | grep -q "2048 bit, 2 primes"' _ "$k" "$W/p$i"
	expect_exit "cert_$i key does not open with a wrong passphrase" 1 \
		openssl pkey -in "$k" -passin pass:"custodian passphrase 9" -noout
done
check "names become the CN" bash -c \
	'openssl x509 -in "$1/cert_0.cer" -noout -subject | grep -q "CN *= *Alice Smith" &&
	 openssl x509 -in "$1/cert_2.cer" -noout -subject | grep -q "CN *= *Carol"' _ "$OUT"
check "validity is --days long" bash -c \
	'a=$(date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s);
	 b=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s);
	 [ $((b - a)) -eq $((400 * 86400)) ]' _ "$OUT/cert_1.cer"

# The download request, recomputed from each certificate with openssl and python3.
for i in 0 1 2; do
	openssl x509 -in "$OUT/cert_$i.cer" -outform DER -out "$W/c$i.der"
	openssl x509 -in "$OUT/cert_$i.cer" -noout -modulus | cut -d= -f2 >"$W/n$i.hex"
	openssl x509 -in "$OUT/cert_$i.cer" -noout -text |
		sed -n 's/.*Exponent: \([0-9]*\) .*/\1/p' >"$W/e$i.dec"
done
check "download-request.json is the REST body, each JWK recomputed independently" \
	python3 - "$OUT/download-request.json" "$W" 2 <<'EOF'
import base64, hashlib, json, sys
req = json.load(open(sys.argv[1]))
w, q = sys.argv[2], int(sys.argv[3])
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
assert list(req) == ["certificates", "required"], list(req)
assert req["required"] == q
assert len(req["certificates"]) == 3
for i, jwk in enumerate(req["certificates"]):
    der = open(f"{w}/c{i}.der", "rb").read()
    n = int(open(f"{w}/n{i}.hex").read().strip(), 16)
    e = int(open(f"{w}/e{i}.dec").read().strip())
    want = {
        "kty": "RSA",
        "key_ops": ["verify", "encrypt", "wrapKey"],
        "alg": "RSA-OAEP-256",
        "n": b64u(n.to_bytes((n.bit_length() + 7) // 8, "big")),
        "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big")),
        "x5c": [base64.b64encode(der).decode()],
        "x5t": b64u(hashlib.sha1(der).digest()),
        "x5t#S256": b64u(hashlib.sha256(der).digest()),
    }
    extra = set(jwk) - set(want) - {"kid"}
    assert not extra, extra
    for k, v in want.items():
        assert jwk.get(k) == v, (i, k, jwk.get(k), v)
EOF
check "ceremony.json: counts, names, files and thumbprints" \
	python3 - "$OUT/ceremony.json" "$W" <<'EOF'
import base64, hashlib, json, sys
m = json.load(open(sys.argv[1]))
w = sys.argv[2]
assert m["count"] == 3 and m["required"] == 2 and m["bits"] == 2048 and m["days"] == 400
assert m["tool"] == "sdceremony" and m["version"] and m["created"].endswith("Z")
names = ["Alice Smith", "Bob", "Carol"]
for i, c in enumerate(m["custodians"]):
    der = open(f"{w}/c{i}.der", "rb").read()
    d = hashlib.sha256(der).digest()
    assert c["name"] == names[i]
    assert c["certificate"] == f"cert_{i}.cer" and c["key"] == f"cert_{i}.key"
    assert c["key_encrypted"] is True
    assert c["sha256_hex"] == d.hex()
    assert c["x5t#S256"] == base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    assert c["not_before"] < c["not_after"]
EOF
check "prints the next step exactly" grep -qxF -- \
	"az keyvault security-domain download --hsm-name <HSM> --sd-wrapping-keys $OUT/cert_0.cer $OUT/cert_1.cer $OUT/cert_2.cer --sd-quorum 2 --security-domain-file <HSM>-SD.json" \
	"$W/keygen.out"
check "prints each thumbprint" grep -qF -- \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["custodians"][1]["x5t#S256"])' "$OUT/ceremony.json")" \
	"$W/keygen.out"

# --json, default names, default size and validity are only checked, not generated twice.
check "--json prints a summary that parses, with the az command" bash -c \
	'"$0" keygen -n 3 -q 3 -o "$1/j" -b 2048 --no-passphrase --json 2>/dev/null |
	 python3 -c "import json,sys; j=json.load(sys.stdin); assert (j[\"required\"]==3 and
	 j[\"custodians\"][2][\"name\"]==\"custodian-3\" and \"--sd-quorum 3\" in j[\"az_command\"] and
	 j[\"custodians\"][0][\"key_encrypted\"] is False)"' "$SDC" "$W"
expect_exit "--no-passphrase works" 0 "$SDC" keygen -n 3 -q 2 -o "$W/plain" -b 2048 --no-passphrase
expect_err "--no-passphrase warns" "WARNING.*WITHOUT a passphrase"
check "--no-passphrase keys are plain PKCS#8, still 0600" bash -c \
	'head -1 "$1/cert_0.key" | grep -q "BEGIN PRIVATE KEY" && [ "$(stat -c %a "$1/cert_1.key")" = 600 ] &&
	 openssl pkey -in "$1/cert_2.key" -noout' _ "$W/plain"
check "--help says the service does not check expiry" bash -c \
	'"$0" keygen --help | grep -q "does\s*not check expiry\|not check expiry"' "$SDC"

# Default size and validity (3072 bits, 730 days), and 4096 bits.
check "defaults: RSA-3072, 730 days" bash -c \
	'"$0" keygen -n 3 -q 2 -o "$1/d3072" --no-passphrase 2>/dev/null >/dev/null &&
	 openssl x509 -in "$1/d3072/cert_1.cer" -noout -text | grep -q "Public-Key: (3072 bit)" &&
	 openssl rsa -in "$1/d3072/cert_2.key" -check -noout | grep -q "RSA key ok" &&
	 a=$(date -d "$(openssl x509 -in "$1/d3072/cert_0.cer" -noout -startdate | cut -d= -f2)" +%s) &&
	 b=$(date -d "$(openssl x509 -in "$1/d3072/cert_0.cer" -noout -enddate | cut -d= -f2)" +%s) &&
	 [ $((b - a)) -eq $((730 * 86400)) ]' "$SDC" "$W"
check "RSA-4096 keys" bash -c \
	'"$0" keygen -n 3 -q 2 -o "$1/d4096" -b 4096 --no-passphrase 2>/dev/null >/dev/null &&
	 openssl x509 -in "$1/d4096/cert_2.cer" -noout -text | grep -q "Public-Key: (4096 bit)" &&
	 openssl rsa -in "$1/d4096/cert_0.key" -check -noout | grep -q "RSA key ok"' "$SDC" "$W"

# An empty existing DIR is used; a non-empty one is refused, or moved aside with --force.
mkdir "$W/empty"
expect_exit "an empty existing DIR is used" 0 "$SDC" keygen -n 3 -q 2 -o "$W/empty" -b 2048 --no-passphrase
check "... and filled" test -f "$W/empty/cert_2.key"
cp "$OUT/cert_0.key" "$W/before.key"
expect_exit "a non-empty DIR is refused" 5 "$SDC" keygen -n 3 -q 2 -o "$OUT" -b 2048 \
	--passphrase-file "$W/p0" "$W/p1" "$W/p2"
expect_err "... saying so and naming --force" "set: exists and is not empty.*--force"
check "... and left untouched" cmp "$OUT/cert_0.key" "$W/before.key"
expect_exit "--force moves a non-empty DIR aside" 0 "$SDC" keygen -n 3 -q 2 -o "$OUT" -b 2048 \
	--passphrase-file "$W/p0" "$W/p1" "$W/p2" --force
expect_err "... and says where" "moved aside to .*set\.old-"
check "... the old keys are kept intact" bash -c 'cmp "$1"/set.old-*/cert_0.key "$2"' _ "$W" "$W/before.key"
check "... the new set is in DIR" bash -c '! cmp -s "$1/cert_0.key" "$2" && test -f "$1/ceremony.json"' \
	_ "$OUT" "$W/before.key"

# Refusals: each with its exit status and message, nothing left behind.
refuse() {
	local name=$1 status=$2 regex=$3; shift 3
	local dir="$W/refused"
	expect_exit "refused: $name" "$status" "$SDC" keygen --out "$dir" "$@"
	expect_err "refused: $name: message" "$regex"
	check "refused: $name: nothing left behind" nothing_left "$dir"
}
P3=(--passphrase-file "$W/p0" "$W/p1" "$W/p2")
refuse "N = 2" 2 "number of keys 2 is out of range.*3 to 10" -n 2 -q 2 -b 2048 --no-passphrase
refuse "N = 11" 2 "number of keys 11 is out of range" -n 11 -q 2 -b 2048 --no-passphrase
refuse "Q = 1" 2 "quorum 1 is out of range" -n 3 -q 1 -b 2048 "${P3[@]}"
refuse "Q > N" 2 "quorum 4 is out of range.*2 to 3" -n 3 -q 4 -b 2048 "${P3[@]}"
refuse "1024-bit keys" 2 "key size 1024 is not supported" -n 3 -q 2 -b 1024 "${P3[@]}"
refuse "0 days" 2 "validity 0 days" -n 3 -q 2 -b 2048 -d 0 "${P3[@]}"
refuse "too few passphrase files" 2 "2 passphrase files for 3 keys" -n 3 -q 2 -b 2048 \
	--passphrase-file "$W/p0" "$W/p1"
refuse "too many passphrase files" 2 "4 passphrase files for 3 keys" -n 3 -q 2 -b 2048 \
	--passphrase-file "$W/p0" "$W/p1" "$W/p2" "$W/p3"
refuse "a short passphrase" 2 "custodian 2: passphrase is shorter than 12" -n 3 -q 2 -b 2048 \
	--passphrase-file "$W/p0" "$W/short" "$W/p2"
refuse "a repeated passphrase" 2 "custodian 3: passphrase is the same as another" -n 3 -q 2 \
	-b 2048 --passphrase-file "$W/p0" "$W/p1" "$W/p0"
refuse "a missing passphrase file" 5 "nope: cannot open" -n 3 -q 2 -b 2048 \
	--passphrase-file "$W/p0" "$W/nope" "$W/p2"
refuse "wrong number of names" 2 "--names gives 2 names for 3 keys" -n 3 -q 2 -b 2048 \
	--names a,b "${P3[@]}"
refuse "the same name twice" 2 "custodians 1 and 3 have the same name" -n 3 -q 2 -b 2048 \
	--names a,b,a "${P3[@]}"
refuse "--no-passphrase with passphrase files" 2 "exclude each other" -n 3 -q 2 -b 2048 \
	--no-passphrase "${P3[@]}"
expect_exit "refused: no terminal for the passphrase prompts" 2 \
	setsid -w "$SDC" keygen -n 3 -q 2 -b 2048 --out "$W/refused" </dev/null
expect_err "refused: no terminal: message" "no terminal"
check "refused: no terminal: nothing left behind" nothing_left "$W/refused"
expect_exit "refused: a file where DIR should be" 5 "$SDC" keygen -n 3 -q 2 -b 2048 \
	--out "$W/p0" "${P3[@]}"
expect_err "refused: a file where DIR should be: message" "p0: exists and is not a directory"
expect_exit "refused: DIR under a file (unwritable)" 5 "$SDC" keygen -n 3 -q 2 -b 2048 \
	--out "$W/p0/sub" "${P3[@]}"
expect_err "refused: DIR under a file: message" "p0/sub: .*not a directory"
expect_exit "refused: DIR in an unwritable place" 5 "$SDC" keygen -n 3 -q 2 -b 2048 \
	--out /proc/sdc-keygen-test "${P3[@]}"
expect_err "refused: DIR in an unwritable place: message" "sdc-keygen-test: cannot"
if [ "$(id -u)" != 0 ]; then
	mkdir "$W/ro" && chmod 0500 "$W/ro"
	refuse "read-only parent" 5 "cannot write in" -n 3 -q 2 -b 2048 "${P3[@]}" --out "$W/ro/x"
	chmod 0700 "$W/ro"
else
	skip "read-only parent" "running as root"
fi
check "no temporary directory left anywhere in the work area" \
	bash -c '! find "$1" -name "*.tmp-*" | grep -q .' _ "$W"

# Passphrases typed on a terminal: asked twice without echo, rules enforced, asked again.
cat >"$W/drive.py" <<'EOF'
import os, pty, select, sys, time
# drive.py ANSWERS CMD...: runs CMD on a new terminal and types the next answer at each passphrase prompt.
answers = open(sys.argv[1]).read().split("\n")[:-1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
line, out, deadline = b"", b"", time.time() + 120
while time.time() < deadline:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    line = (line + data).split(b"\n")[-1]
    if b"assphrase" in line and line.endswith(b": ") and answers:
        time.sleep(0.05)
        os.write(fd, answers.pop(0).encode() + b"\n")
        line = b""
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
printf '%s\n' "short" "first custodian pass" "first custodian pass" \
	"second custodian pass" "second custodian typo" "second custodian pass" "second custodian pass" \
	"first custodian pass" "third custodian pass" "third custodian pass" >"$W/answers"
check "passphrases typed on a terminal" python3 "$W/drive.py" "$W/answers" \
	"$SDC" keygen -n 3 -q 2 -b 2048 -o "$W/typed"
cp "$TMP/.out" "$W/typed.out"
check "... a short one is refused and asked again" grep -q "custodian 1: passphrase is shorter than 12" "$W/typed.out"
check "... a mistyped confirmation is asked again" grep -q "the two passphrases differ" "$W/typed.out"
check "... a repeated one is refused and asked again" grep -q "custodian 3: passphrase is the same" "$W/typed.out"
check "... never echoed" bash -c '! grep -q "custodian pass\|short$" "$1"' _ "$W/typed.out"
check "... and each key opens with what its custodian typed" bash -c \
	'openssl pkey -in "$1/cert_0.key" -passin pass:"first custodian pass" -noout &&
	 openssl pkey -in "$1/cert_1.key" -passin pass:"second custodian pass" -noout &&
	 openssl pkey -in "$1/cert_2.key" -passin pass:"third custodian pass" -noout' _ "$W/typed"

# Keys come from the provider that the OpenSSL configuration selects.
check "keygen with OPENSSL_CONF loading only the default provider" env \
	OPENSSL_CONF="$VEC/openssl/default-only.cnf" "$SDC" keygen -n 3 -q 2 -b 2048 \
	-o "$W/conf" --no-passphrase
check "... its keys pass openssl's RSA check" bash -c \
	'for i in 0 1 2; do openssl rsa -check -noout -in "$1/cert_$i.key" || exit 1; done' _ "$W/conf"
expect_exit "a configuration without an RSA provider: keygen fails" 1 timeout 120 env \
	OPENSSL_CONF="$VEC/openssl/base-only.cnf" "$SDC" keygen -n 3 -q 2 -b 2048 \
	-o "$W/noprov" --no-passphrase
expect_err "... saying why" "RSA key generation failed .*OPENSSL_CONF"
check "... nothing left behind" nothing_left "$W/noprov"

# Ctrl-C (or TERM) while keys are being made: stopped, nothing left behind.
for sig in INT TERM; do
	"$SDC" keygen -n 10 -q 2 -b 4096 -o "$W/stopped" --no-passphrase 2>"$W/stop.err" &
	pid=$!
	sleep 1
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	if [ "$rc" -eq 2 ]; then ok "SIG$sig stops keygen with status 2"; else not_ok "SIG$sig stops keygen (exit $rc)"; fi
	check "SIG$sig: says so" grep -q "cancelled; nothing was written" "$W/stop.err"
	check "SIG$sig: nothing left behind" nothing_left "$W/stopped"
done

# Memory errors and leaks, threads included (valgrind; the ASan build covers the rest).
if sanitized; then
	skip "keygen under valgrind" "sanitizer build"
elif ! command -v valgrind >/dev/null; then
	not_ok "valgrind is installed (apt-get install valgrind)"
else
	check "keygen under valgrind: no memory error, no leak" valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite "$SDC" keygen -n 3 -q 2 -b 2048 \
		-o "$W/vg" --passphrase-file "$W/p0" "$W/p1" "$W/p2"
fi

# --key-out: each key goes to its custodian's medium from the start (a
# directory means cert_i.key in it), with its certificate beside it; DIR
# holds only what may go online.
mkdir -p "$W/m1" "$W/m2" "$W/m3"
check "keygen --key-out writes the keys elsewhere" "$SDC" keygen -n 3 -q 2 -b 2048 -o "$W/ko" \
	"${P3[@]}" --key-out "$W/m1" "$W/m2" "$W/m3/carol.key" >"$W/ko.out"
check "... a directory means cert_i.key in it" openssl pkey -in "$W/m2/cert_1.key" \
	-passin "file:$W/p1" -noout
check "... a file path is used as given, its certificate beside it" \
	cmp "$W/m3/carol.cer" "$W/ko/cert_2.cer"
check "... no private key in DIR" bash -c '! ls "$0"/*.key' "$W/ko"
check "... and no warning about keys in DIR" bash -c '! grep -qF -- "before that directory goes" "$0"' "$W/ko.out"
expect_exit "--key-out: a key that exists is refused before anything is made" 5 \
	"$SDC" keygen -n 3 -q 2 -b 2048 -o "$W/ko2" "${P3[@]}" --key-out "$W/m1" "$W/m2" "$W/m3"
expect_err "... naming it" "custodian 1: $W/m1/cert_0.key already exists"
check "... and nothing was made" test ! -e "$W/ko2"
expect_exit "--key-out: one path per key" 2 \
	"$SDC" keygen -n 3 -q 2 -b 2048 -o "$W/ko3" "${P3[@]}" --key-out "$W/m1" "$W/m2"
expect_err "... says how many" "2 --key-out paths for 3 keys"
check "keys left in DIR: the output says to move them before DIR goes online" \
	grep -qF -- "3 private keys are in $OUT: before that directory goes to the online side" "$W/keygen.out"

# package: the same request from the certificates made above.
check "package builds the request from existing certificates" \
	"$SDC" package --certs "$OUT/cert_0.cer" "$OUT/cert_1.cer" "$OUT/cert_2.cer" --quorum 2 --out "$W/pkg"
check "package's request equals keygen's" cmp "$W/pkg/download-request.json" "$OUT/download-request.json"

done_testing
