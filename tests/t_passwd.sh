#!/usr/bin/env bash
# passwd: a key under a new passphrase opens with it (openssl, our verify,
# az's restore-blob --passwords) and not with the old; a plain key becomes
# encrypted; every refusal changes nothing.
. tests/lib.sh

SD="$VEC/sd"
K="$SD/keys"
RS="$VEC/real-service"
X="$SD/exchange/exchange.cer"

mkdir -p "$TMP/k"
cp "$K/cert_2.key" "$K/cert_2.cer" "$TMP/k/"
cp "$RS/cert_0.key" "$RS/cert_0.cer" "$TMP/k/"
mv "$TMP/k/cert_0.key" "$TMP/k/rs0.key"; mv "$TMP/k/cert_0.cer" "$TMP/k/rs0.cer"
chmod 600 "$TMP/k/"*.key
OLD="$K/cert_2.pass"
printf '%s\n' 'a brand new passphrase 4 test' >"$TMP/new.pass"
printf '%s\n' 'short' >"$TMP/short.pass"
printf '%s\n' 'not the passphrase at all' >"$TMP/wrong.pass"
NEWPW=$(head -n1 "$TMP/new.pass")

# An encrypted key, in place.
check "passwd re-encrypts an encrypted key in place" \
	"$SDC" passwd "$TMP/k/cert_2.key" --passphrase-file "$OLD" --new-passphrase-file "$TMP/new.pass"
check "openssl opens it with the new passphrase" \
	openssl pkey -in "$TMP/k/cert_2.key" -passin "file:$TMP/new.pass" -noout
check "openssl does not open it with the old one" \
	bash -c '! openssl pkey -in "$0" -passin "file:$1" -noout 2>/dev/null' "$TMP/k/cert_2.key" "$OLD"
check "it is PKCS#8 with scrypt and AES-256-CBC" \
	bash -c 'openssl asn1parse -in "$0" | grep -qF -- ":scrypt" &&
		openssl asn1parse -in "$0" | grep -qF -- ":aes-256-cbc"' "$TMP/k/cert_2.key"
check "mode 0600" test "$(stat -c %a "$TMP/k/cert_2.key")" = 600
check "the same key: openssl's public key is unchanged" bash -c \
	'cmp <(openssl pkey -in "$0" -passin "file:$1" -pubout) <(openssl pkey -in "$2" -passin "file:$3" -pubout)' \
	"$TMP/k/cert_2.key" "$TMP/new.pass" "$K/cert_2.key" "$OLD"
check "a drill with the new passphrase" \
	"$SDC" verify --sd-file "$SD/q2_n3.json" --sd-wrapping-keys "$TMP/k/cert_2.key" "$K/cert_0.key" \
	--password-files "$TMP/new.pass"
expect_exit "a drill with the old passphrase fails (4)" 4 \
	"$SDC" verify --sd-file "$SD/q2_n3.json" --sd-wrapping-keys "$TMP/k/cert_2.key" "$K/cert_0.key" \
	--password-files "$OLD"

# A plain key (the service's quickstart) becomes encrypted, beside the old one with --out.
check "passwd --out turns a plain key into an encrypted one" \
	"$SDC" passwd "$TMP/k/rs0.key" --new-passphrase-file "$TMP/new.pass" --out "$TMP/k/rs0-enc.key"
cp "$TMP/.out" "$TMP/plain.out"
check "  ... and says the plain key's media count as exposed" grep -qF -- "exposed" "$TMP/plain.out"
check "  ... the old file is left alone" cmp "$TMP/k/rs0.key" "$RS/cert_0.key"
check "  ... the new file is encrypted" grep -qxF -- "-----BEGIN ENCRYPTED PRIVATE KEY-----" "$TMP/k/rs0-enc.key"
check "  ... mode 0600" test "$(stat -c %a "$TMP/k/rs0-enc.key")" = 600
check "  ... openssl opens it with the new passphrase" \
	openssl pkey -in "$TMP/k/rs0-enc.key" -passin "file:$TMP/new.pass" -noout
check "  ... and not without one" \
	bash -c '! openssl pkey -in "$0" -passin pass: -noout 2>/dev/null' "$TMP/k/rs0-enc.key"
cp "$TMP/k/rs0.cer" "$TMP/k/rs0-enc.cer"
check "  ... it recovers the real service's file" \
	"$SDC" verify --sd-file "$RS/sd-2020.json" --sd-wrapping-keys "$TMP/k/rs0-enc.key" "$RS/cert_1.key" \
	--password-files "$TMP/new.pass"

# Refusals: status, and nothing changed.
cp "$K/cert_3.key" "$K/cert_3.cer" "$TMP/k/"
chmod 600 "$TMP/k/cert_3.key"
cp "$TMP/k/cert_3.key" "$TMP/cert_3.orig"
expect_exit "wrong old passphrase (4)" 4 \
	"$SDC" passwd "$TMP/k/cert_3.key" --passphrase-file "$TMP/wrong.pass" --new-passphrase-file "$TMP/new.pass"
expect_err "  ... says so" "wrong passphrase"
check "  ... the key is unchanged" cmp "$TMP/k/cert_3.key" "$TMP/cert_3.orig"
expect_exit "a new passphrase that is too short (2)" 2 \
	"$SDC" passwd "$TMP/k/cert_3.key" --passphrase-file "$K/cert_3.pass" --new-passphrase-file "$TMP/short.pass"
expect_err "  ... says why" "shorter than 12 characters"
check "  ... the key is unchanged" cmp "$TMP/k/cert_3.key" "$TMP/cert_3.orig"
expect_exit "the new passphrase is the old one (2)" 2 \
	"$SDC" passwd "$TMP/k/cert_3.key" --passphrase-file "$K/cert_3.pass" --new-passphrase-file "$K/cert_3.pass"
check "  ... the key is unchanged" cmp "$TMP/k/cert_3.key" "$TMP/cert_3.orig"
expect_exit "an encrypted key and no terminal (2)" 2 \
	"$SDC" passwd "$TMP/k/cert_3.key" --new-passphrase-file "$TMP/new.pass"
expect_err "  ... names the option" "--passphrase-file"
expect_exit "no new passphrase and no terminal (2)" 2 \
	"$SDC" passwd "$TMP/k/cert_3.key" --passphrase-file "$K/cert_3.pass"
check "  ... the key is unchanged" cmp "$TMP/k/cert_3.key" "$TMP/cert_3.orig"
echo keep >"$TMP/k/exists.key"
expect_exit "--out exists (5)" 5 \
	"$SDC" passwd "$TMP/k/cert_3.key" --passphrase-file "$K/cert_3.pass" \
	--new-passphrase-file "$TMP/new.pass" --out "$TMP/k/exists.key"
check "  ... it is unchanged" grep -qx keep "$TMP/k/exists.key"
expect_exit "not a key (3)" 3 \
	"$SDC" passwd "$VEC/bad/not_a_key.key" --new-passphrase-file "$TMP/new.pass" --out "$TMP/k/x.key"
check "  ... nothing written" test ! -e "$TMP/k/x.key"
expect_exit "a missing key (5)" 5 \
	"$SDC" passwd "$TMP/k/missing.key" --new-passphrase-file "$TMP/new.pass"
expect_exit "a PKCS#12 file in place is refused (2)" 2 \
	"$SDC" passwd "$K/cert_5.pfx" --passphrase-file "$K/cert_5.pfx.pass" --new-passphrase-file "$TMP/new.pass"
check "a PKCS#12 file with --out gives a PEM key" \
	"$SDC" passwd "$K/cert_5.pfx" --passphrase-file "$K/cert_5.pfx.pass" \
	--new-passphrase-file "$TMP/new.pass" --out "$TMP/k/p12.key"
check "  ... that openssl opens with the new passphrase" \
	openssl pkey -in "$TMP/k/p12.key" -passin "file:$TMP/new.pass" -noout
expect_exit "two keys (2)" 2 "$SDC" passwd "$TMP/k/cert_3.key" "$TMP/k/cert_2.key"
ls -A "$TMP/k" | grep -F -- ".tmp" >"$TMP/leftovers" || true
check "no temporary file is left" test ! -s "$TMP/leftovers"

# --transcript: the record is the report printed, or the failure; never a passphrase.
PT="$TMP/passwd-transcript.txt"
cp "$K/cert_3.key" "$TMP/k/t3.key"
expect_exit "passwd --transcript" 0 "$SDC" passwd "$TMP/k/t3.key" --passphrase-file "$K/cert_3.pass" \
	--new-passphrase-file "$TMP/new.pass" --out "$TMP/k/t3-new.key" --transcript "$PT"
cp "$TMP/.out" "$TMP/passwd.out"
check "... records the key and the file written" grep -qE -- \
	"^[0-9T:-]+Z passwd $TMP/k/t3.key: \[OK\] written to $TMP/k/t3-new.key under a new passphrase$" "$PT"
check "... then the lines printed, in order" \
	bash -c 'diff <(sed "s/^/  /" "$0") <(sed -n "2,\$ s/^[^ ]* //p" "$1")' "$TMP/passwd.out" "$PT"
expect_exit "a wrong current passphrase is recorded (4)" 4 "$SDC" passwd "$TMP/k/t3.key" \
	--passphrase-file "$TMP/wrong.pass" --new-passphrase-file "$TMP/new.pass" \
	--out "$TMP/k/t3-x.key" --transcript "$PT"
check "... as a failure with its exit status" \
	grep -qE -- "Z passwd $TMP/k/t3.key: \[FAIL\] .* \(exit 4\)$" "$PT"
expect_exit "a new passphrase too short is recorded (2)" 2 "$SDC" passwd "$TMP/k/t3-new.key" \
	--passphrase-file "$TMP/new.pass" --new-passphrase-file "$TMP/short.pass" --transcript "$PT"
check "... as a failure" grep -qE -- "Z passwd $TMP/k/t3-new.key: \[FAIL\] .* \(exit 2\)$" "$PT"
for pf in "$TMP/new.pass" "$K/cert_3.pass" "$TMP/wrong.pass"; do
	check "no passphrase is in the transcript (${pf##*/})" \
		bash -c '! grep -qF -- "$(head -n1 "$1")" "$0"' "$PT" "$pf"
done
# A transcript that can grow no more: the key is written and said so, the
# lost record fails the command (5).
head -c 100000 /dev/zero >"$TMP/full.txt"
expect_exit "a lost record fails passwd (5)" 5 \
	size_capped 100000 "$SDC" passwd "$TMP/k/t3.key" \
	--passphrase-file "$K/cert_3.pass" --new-passphrase-file "$TMP/new.pass" \
	--out "$TMP/k/t3-full.key" --transcript "$TMP/full.txt"
cp "$TMP/.out" "$TMP/full.out"
expect_err "... naming the transcript" "transcript .*full.txt: write failed"
check "... and says what it wrote" grep -qF -- "$TMP/k/t3-full.key: the key written under" "$TMP/full.out"

# az, offline: its restore-blob --passwords takes the new passphrase.
need_az "az restore-blob with a re-encrypted key"
check "az restore-blob --passwords with the new passphrase" \
	az keyvault security-domain restore-blob --sd-file "$SD/q2_n3.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$TMP/k/cert_2.key" "$K/cert_0.key" --passwords "$NEWPW" \
	--sd-file-restore-blob "$TMP/az.blob"
check "az's blob opens to the items" \
	"$TOOLS/blobopen" --blob "$TMP/az.blob" --exchange-key-private "$SD/exchange/exchange.key" \
	--expect "$SD/q2_n3.items.json"
check "az restore-blob with the formerly plain key, now encrypted" \
	az keyvault security-domain restore-blob --sd-file "$RS/sd-2020.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$TMP/k/rs0-enc.key" "$RS/cert_1.key" --passwords "$NEWPW" \
	--sd-file-restore-blob "$TMP/az-rs.blob"

done_testing
