#!/usr/bin/env bash
# The batch commands against the slips a hurried operator makes (issue 11,
# item 10): each gets the exit status documented for it and a message that
# says what was most likely done, before any key is touched where possible.
. tests/lib.sh

KEYS="$VEC/sd/keys"
SD="$VEC/bad/good.json" # 2 of 3: cert_0, cert_1, cert_2
X="$VEC/sd/exchange/exchange.cer"
K0="$KEYS/cert_0.key" K1="$KEYS/cert_1.key" K2="$KEYS/cert_2.key" K3="$KEYS/cert_3.key"
P2=$(head -n1 "$KEYS/cert_2.pass")

# says NAME TEXT: the last expect_exit's stderr holds the fixed string TEXT.
says() {
	if grep -qF -- "$2" "$TMP/.err"; then ok "$1"; else
		not_ok "$1 (stderr lacks '$2')"; sed 's/^/# stderr: /' "$TMP/.err" | head -10; fi
}
blob() {
	rm -f "$TMP/blob.json"
	"$SDC" restore-blob --sd-file-restore-blob "$TMP/blob.json" "$@" </dev/null
}

# --- keygen ---
expect_exit "keygen --names with spaces after the commas" 0 "$SDC" keygen --count 3 --quorum 2 \
	--out "$TMP/kg" --no-passphrase --bits 2048 --names "Alice, Bob , Carol"
check "keygen: the names are trimmed, as the wizard trims them" bash -c '
for i in 0 1 2; do openssl x509 -in "$0/cert_$i.cer" -noout -subject -nameopt multiline; done |
	grep -F "commonName" | sed "s/.*= //" | tr "\n" "|" | grep -qxF -- "Alice|Bob|Carol|"' "$TMP/kg"
expect_exit "keygen: --count missing" 2 "$SDC" keygen --quorum 2 --out "$TMP/kg2"
says "keygen: names --count alone" "keygen: --count missing"
expect_exit "keygen: --quorum missing" 2 "$SDC" keygen --count 3 --out "$TMP/kg2"
says "keygen: names --quorum alone" "keygen: --quorum missing"
expect_exit "keygen: --out missing" 2 "$SDC" keygen --count 3 --quorum 2
says "keygen: names --out alone" "keygen: --out missing"
expect_exit "keygen: everything missing" 2 "$SDC" keygen
says "keygen: names all three" "keygen: --count, --quorum, --out missing"

# --- option spellings ---
expect_exit "verify: an ambiguous prefix" 2 "$SDC" verify --sd-file "$SD" --sd-wrapping-keys "$K2" --pass x
says "verify: the candidates are listed" \
	"option '--pass' is ambiguous: did you mean --passwords, --password-files or --passphrase-file?"
expect_exit "restore-blob: an ambiguous prefix" 2 blob --sd "$SD"
says "restore-blob: the candidates are listed" \
	"did you mean --sd-file, --sd-exchange-key, --sd-wrapping-keys or --sd-file-restore-blob?"
expect_exit "verify: an option without its value" 2 "$SDC" verify --sd-wrapping-keys "$K0" --sd-file
says "verify: the option needing a value is named" "option '--sd-file' needs a value"
expect_exit "keygen: a short option without its value" 2 "$SDC" keygen -n
says "keygen: -n needs a value" "option '-n' needs a value"
expect_exit "verify: --passphrase-file, keygen's spelling" 0 "$SDC" verify --sd-file "$SD" \
	--sd-wrapping-keys "$K2" "$K0" --passphrase-file "$KEYS/cert_2.pass"
expect_exit "restore-blob: --passphrase-file, keygen's spelling" 0 blob --sd-file "$SD" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K2" "$K0" --passphrase-file "$KEYS/cert_2.pass"

# --- passwords ---
expect_exit "verify: file names given to --passwords" 2 "$SDC" verify --sd-file "$SD" \
	--sd-wrapping-keys "$K0" "$K2" --passwords "" "$KEYS/cert_2.pass"
says "verify: says --password-files was meant" \
	"--passwords takes the passwords themselves, and value 2 is the name of a file"
expect_exit "restore-blob: file names given to --passwords" 2 blob --sd-file "$SD" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K2" "$K0" --passwords "$KEYS/cert_2.pass" ""
says "restore-blob: says --password-files was meant" "give password files with --password-files"
expect_exit "verify: fewer passwords than keys, one key left without" 2 "$SDC" verify \
	--sd-file "$SD" --sd-wrapping-keys "$K0" "$K2" --passwords "$P2"
says "verify: says passwords go by position" \
	"1 password given for 2 keys: they go to the keys in order, one per key"
expect_exit "restore-blob: fewer password files than keys, a wrong one" 4 blob --sd-file "$SD" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K3" "$K0" "$K1" --password-files "$KEYS/cert_2.pass"
says "restore-blob: the wrong passphrase and why it is likely" \
	"cert_3.key: wrong passphrase (1 password file given for 3 keys"

# --- files given in each other's place ---
expect_exit "restore-blob: --sd-file and --sd-exchange-key swapped" 3 blob --sd-file "$X" \
	--sd-exchange-key "$SD" --sd-wrapping-keys "$K0" "$K1"
says "restore-blob: says they look swapped" \
	"good.json: this is a security-domain file, not an exchange key (are --sd-file and --sd-exchange-key swapped?)"
expect_exit "restore-blob: a custodian's private key as the exchange key" 3 blob --sd-file "$SD" \
	--sd-exchange-key "$K2" --sd-wrapping-keys "$K0" "$K1"
says "restore-blob: says it is a private key" "cert_2.key: this is a private key, not an exchange key"
expect_exit "restore-blob: a certificate as the security-domain file" 3 blob --sd-file "$KEYS/cert_1.cer" \
	--sd-exchange-key "$X" --sd-wrapping-keys "$K0" "$K1"
says "restore-blob: says it is a certificate" "cert_1.cer: this is a certificate, not a security-domain file"
expect_exit "verify: a key as the security-domain file" 3 "$SDC" verify --sd-file "$K0" \
	--sd-wrapping-keys "$K1"
says "verify: says it is a private key" "cert_0.key: this is a private key, not a security-domain file"
expect_exit "verify: a .cer given as a key" 3 "$SDC" verify --sd-file "$SD" \
	--sd-wrapping-keys "$KEYS/cert_2.cer" "$K0" "$K1"
says "verify: says it is the certificate and where its key is" \
	"cert_2.cer: this is a certificate (the public half), not a private key: the key that goes with it is probably $K2"
check "no blob left by any of these" test ! -e "$TMP/blob.json"

# --- inspect --certs ---
mkdir -p "$TMP/empty"
expect_exit "inspect --certs with no certificate of the file: exit 4" 4 "$SDC" inspect \
	--sd-file "$SD" --certs "$TMP/empty"
says "inspect: says no certificate matches" "no certificate there matches a share of"
cp "$TMP/.out" "$TMP/i.txt"
check "inspect: the report does not say OK" bash -c '! grep -qF -- "OK, no problems found" "$0"' "$TMP/i.txt"
check "inspect: the report says no share matched" grep -qF -- "Certificates in $TMP/empty: 0 of 3 shares matched" "$TMP/i.txt"
expect_exit "inspect --certs with another domain's certificates: exit 4" 4 "$SDC" inspect \
	--sd-file "$SD" --certs "$TMP/kg"
expect_exit "inspect --json --certs: the count" 4 "$SDC" inspect --json --sd-file "$SD" --certs "$TMP/empty"
cp "$TMP/.out" "$TMP/i.json"
check "inspect --json: certificates_matched is 0" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["certificates_matched"] == 0 and r["certs_dir"].endswith("empty"), r
assert r["ok"] is True and r["problems"] == 0, r
' "$TMP/i.json"
expect_exit "inspect --certs with the right certificates" 0 "$SDC" inspect --sd-file "$SD" --certs "$KEYS"
cp "$TMP/.out" "$TMP/i.txt"
check "inspect: all matched, OK" bash -c 'grep -qF -- "3 of 3 shares matched" "$0" &&
	grep -qF -- "Result: OK, no problems found" "$0"' "$TMP/i.txt"
done_testing
