#!/usr/bin/env bash
# A key ceremony with custodians on PKCS#11 tokens (SoftHSM2), end to end:
#   - keygen --token: three custodians on tokens, one with a key file
#   - OpenSC's pkcs11-tool, an independent reader, shows each private key
#     sensitive and never extractable, with the manifest's CKA_ID, next to a
#     certificate with the same id that is the very cert_i.cer, whose public
#     key is the token's and whose self-signature verifies (openssl)
#   - a security domain made by the test-side encoder for the four
#     certificates: verify with two token URIs, restore-blob with token keys
#     whose blob the test-side HSM opens to the very items, a mixed quorum
#   - a ceremony that fails (label taken, wrong PIN on the second token)
#     leaves no directory and nothing on any token
. tests/lib.sh
. tests/lib_token.sh

need_softhsm
X="$VEC/sd/exchange"
mkdir -p "$TMP/pins"
for t in t1:11111111 t2:22222222 t3:33333333 t4:44444444 t5:55555555; do
	token_init "${t%%:*}" "${t#*:}"
	echo "${t#*:}" >"$TMP/pins/${t%%:*}"
done
echo 00000000 >"$TMP/pins/wrong"
echo 'the fourth custodian passphrase' >"$TMP/pass4"

expect_exit "keygen: three custodians on tokens, one with a key file" 0 \
	"$SDC" keygen --count 4 --quorum 2 --bits 2048 --out "$TMP/cer" \
	--names alice,bob,carol,dave \
	--token 'pkcs11:token=t1' 'pkcs11:token=t2;object=custodian-bob' 'pkcs11:token=t3' \
	--pin-file "$TMP/pins/t1" "$TMP/pins/t2" "$TMP/pins/t3" \
	--passphrase-file "$TMP/pass4" </dev/null
cp "$TMP/.out" "$TMP/keygen.out"
check "the output names each token key's URI" grep -qF -- "key on the token pkcs11:token=t1;serial=" \
	"$TMP/keygen.out"
check "the four certificates and the file key are written" \
	test -f "$TMP/cer/cert_0.cer" -a -f "$TMP/cer/cert_1.cer" -a -f "$TMP/cer/cert_2.cer" \
	-a -f "$TMP/cer/cert_3.cer" -a -f "$TMP/cer/cert_3.key"
check "no key file for a token custodian" test ! -e "$TMP/cer/cert_0.key" -a ! -e "$TMP/cer/cert_1.key"

# manifest FIELD INDEX: a token field of custodian INDEX in ceremony.json.
manifest() {
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["custodians"][int(sys.argv[3])]; print(c["token"][sys.argv[2]])' \
		"$TMP/cer/ceremony.json" "$1" "$2"
}
check "the manifest says which custodian is on which token (label, serial, object, id)" \
	python3 - "$TMP/cer/ceremony.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
c = m["custodians"]
labels = [x["token"]["label"] for x in c[:3]]
assert labels == ["t1", "t2", "t3"], labels
assert [x["token"]["object"] for x in c[:3]] == ["sd-wrap", "custodian-bob", "sd-wrap"], c
for x in c[:3]:
    t = x["token"]
    assert len(t["serial"]) > 0 and len(t["id"]) == 40 and "key" not in x, x
    assert t["uri"].startswith("pkcs11:token=" + t["label"] + ";serial=" + t["serial"]), t
assert "token" not in c[3] and c[3]["key"] == "cert_3.key" and c[3]["key_encrypted"], c[3]
assert c[0]["name"] == "alice" and c[1]["name"] == "bob", c
EOF

for i in 0 1 2; do
	t=t$((i + 1))
	id=$(manifest id $i)
	p11tool --token-label "$t" --login --pin "$(cat "$TMP/pins/$t")" -O >"$TMP/objs-$t" 2>/dev/null
	python3 - "$TMP/objs-$t" "$id" >"$TMP/priv-$t" <<'EOF'
import sys
text, want = open(sys.argv[1]).read(), sys.argv[2]
for block in text.split("Private Key Object")[1:]:
    block = block.split(" Object;")[0]
    if ("ID:         " + want) in block:
        print(block)
EOF
	check "$t: pkcs11-tool shows a private key with the manifest's id" test -s "$TMP/priv-$t"
	check "$t: pkcs11-tool shows it sensitive" grep -qF -- "sensitive" "$TMP/priv-$t"
	check "$t: pkcs11-tool shows it never extractable" grep -qF -- "never extractable" "$TMP/priv-$t"
	check "$t: pkcs11-tool shows it can decrypt" grep -qF -- "decrypt" "$TMP/priv-$t"
	check "$t: pkcs11-tool shows it always sensitive (made so on the token)" \
		grep -qF -- "always sensitive" "$TMP/priv-$t"
	p11tool --token-label "$t" --read-object --type cert --id "$id" -o "$TMP/tokcert-$t.der" \
		>/dev/null 2>&1
	openssl x509 -in "$TMP/cer/cert_$i.cer" -outform DER -out "$TMP/cert-$i.der"
	check "$t: the certificate on the token with the key's id is cert_$i.cer" \
		cmp "$TMP/tokcert-$t.der" "$TMP/cert-$i.der"
	p11tool --token-label "$t" --read-object --type pubkey --id "$id" -o "$TMP/tokpub-$t.der" \
		>/dev/null 2>&1
	openssl x509 -in "$TMP/cer/cert_$i.cer" -noout -pubkey |
		openssl pkey -pubin -outform DER -out "$TMP/certpub-$i.der"
	check "$t: cert_$i.cer carries the token's public key" \
		cmp "$TMP/tokpub-$t.der" "$TMP/certpub-$i.der"
	check "$t: cert_$i.cer's self-signature verifies (signed on the token)" \
		openssl verify -check_ss_sig -CAfile "$TMP/cer/cert_$i.cer" "$TMP/cer/cert_$i.cer"
done
check "custodian 2's certificate says keyEncipherment, CA:FALSE, CN bob" bash -c \
	'openssl x509 -in "$0" -noout -text | grep -qF -- "Key Encipherment" &&
	 openssl x509 -in "$0" -noout -text | grep -qF -- "CA:FALSE" &&
	 openssl x509 -in "$0" -noout -subject | grep -qF -- "CN = bob"' "$TMP/cer/cert_1.cer"

"$TOOLS/sdforge" --certs "$TMP/cer/cert_0.cer" "$TMP/cer/cert_1.cer" "$TMP/cer/cert_2.cer" \
	"$TMP/cer/cert_3.cer" --required 2 --shuffle --out "$TMP/sd.json" \
	--items-out "$TMP/items.json" || not_ok "sdforge makes the file for the four certificates"
U0=$(manifest uri 0)
U1=$(manifest uri 1)
U2=$(manifest uri 2)
expect_exit "verify with two token URIs (the manifest's)" 0 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys "$U0" "$U2" \
	--pin-file "$TMP/pins/t1" "$TMP/pins/t3" </dev/null
expect_exit "verify with the three token keys and the file key" 0 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys "$U0" "$TMP/cer/cert_3.key" \
	"$U1" 'pkcs11:token=t3' --pin-file "$TMP/pins/t1" "$TMP/pins/t2" "$TMP/pins/t3" \
	--password-files "$TMP/pass4" </dev/null
expect_exit "restore-blob with two token keys" 0 \
	"$SDC" restore-blob --sd-file "$TMP/sd.json" --sd-exchange-key "$X/exchange.cer" \
	--sd-wrapping-keys "$U1" "$U2" --pin-file "$TMP/pins/t2" "$TMP/pins/t3" \
	--sd-file-restore-blob "$TMP/blob.json" </dev/null
check "the HSM opens the blob to the very items" \
	"$BUILD/tests/tools/blobopen" --blob "$TMP/blob.json" --exchange-key-private "$X/exchange.key" \
	--exchange-cert "$X/exchange.der" --expect "$TMP/items.json"
expect_exit "restore-blob with a mixed quorum: one token key, one key file" 0 \
	"$SDC" restore-blob --sd-file "$TMP/sd.json" --sd-exchange-key "$X/exchange.cer" \
	--sd-wrapping-keys "$TMP/cer/cert_3.key" "$U0" --password-files "$TMP/pass4" \
	--pin-file "$TMP/pins/t1" --sd-file-restore-blob "$TMP/blob-mixed.json" </dev/null
check "the HSM opens the mixed-quorum blob to the very items" \
	"$BUILD/tests/tools/blobopen" --blob "$TMP/blob-mixed.json" \
	--exchange-key-private "$X/exchange.key" --exchange-cert "$X/exchange.der" \
	--expect "$TMP/items.json"

# --key-out pairs with the custodians that have key files.
mkdir -p "$TMP/media/b" "$TMP/media/c"
expect_exit "keygen: one token custodian, --key-out for the two with key files" 0 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/ko" --no-passphrase \
	--token 'pkcs11:token=t5;object=ko' --pin-file "$TMP/pins/t5" \
	--key-out "$TMP/media/b" "$TMP/media/c" </dev/null
check "--key-out: custodians 2 and 3's keys are on their media" \
	test -f "$TMP/media/b/cert_1.key" -a -f "$TMP/media/c/cert_2.key" -a ! -e "$TMP/ko/cert_0.key"
out_ok=1; grep -qF -- "private key is in" "$TMP/.out" && out_ok=0
check "--key-out: no key is said to be left in DIR (the token key is not a file)" test "$out_ok" = 1
p11tool --token-label t5 --login --pin "$(cat "$TMP/pins/t5")" -O 2>/dev/null |
	grep -F -- "label:" | sort -u >"$TMP/t5-labels"
check "--key-out: the token custodian's key is on t5 as 'ko'" grep -qF -- "ko" "$TMP/t5-labels"
p11tool --token-label t5 --login --pin "$(cat "$TMP/pins/t5")" -O 2>/dev/null |
	grep -F -- "ID:" | sort -u | while read -r _ id; do
		p11tool --token-label t5 --login --pin "$(cat "$TMP/pins/t5")" --delete-object \
			--type privkey --id "$id" >/dev/null 2>&1
		p11tool --token-label t5 --login --pin "$(cat "$TMP/pins/t5")" --delete-object \
			--type pubkey --id "$id" >/dev/null 2>&1
		p11tool --token-label t5 --login --pin "$(cat "$TMP/pins/t5")" --delete-object \
			--type cert --id "$id" >/dev/null 2>&1
	done

# --- failures leave nothing, in DIR or on the tokens ---------------------------

objects() { p11tool --token-label "$1" --login --pin "$(cat "$TMP/pins/$1")" -O 2>/dev/null |
	grep -cF -- "Object;" || true; }
before=$(objects t1)
expect_exit "keygen on a token that already has the label: exit 2" 2 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=t4' 'pkcs11:token=t1' --pin-file "$TMP/pins/t4" "$TMP/pins/t1" </dev/null
err_ok=0; grep -qF -- "token 't1' (serial " "$TMP/.err" &&
	grep -qF -- "already holds an object labelled 'sd-wrap'" "$TMP/.err" && err_ok=1
check "label taken: the line names the token and the label" test "$err_ok" = 1
check "label taken: no directory" test ! -e "$TMP/again"
check "label taken: t1 keeps its objects, no more" test "$(objects t1)" = "$before"
check "label taken: the key made on t4 first is destroyed" test "$(objects t4)" = 0
expect_exit "keygen with a wrong PIN for the second token: exit 4" 4 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=t4' 'pkcs11:token=t5' --pin-file "$TMP/pins/t4" "$TMP/pins/wrong" </dev/null
err_ok=0; grep -qF -- "token 't5' (serial " "$TMP/.err" && grep -qF -- "wrong PIN" "$TMP/.err" &&
	err_ok=1
check "wrong PIN: the line names the token" test "$err_ok" = 1
check "wrong PIN: no directory" test ! -e "$TMP/again"
check "wrong PIN: nothing left on t4" test "$(objects t4)" = 0
check "wrong PIN: nothing on t5" test "$(objects t5)" = 0
expect_exit "keygen naming an absent token: exit 5" 5 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=nowhere' --pin-file "$TMP/pins/t4" </dev/null
check "absent token: no directory" test ! -e "$TMP/again"
expect_exit "keygen naming an absent token, no PIN file: exit 5 before any PIN is asked" 5 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=t4' 'pkcs11:token=nowhere' </dev/null
err_ok=0; grep -qF -- "keygen --token: pkcs11:token=nowhere: no token present matches" "$TMP/.err" &&
	err_ok=1
check "absent token: the line names the URI" test "$err_ok" = 1
expect_exit "keygen: a PIN needed and no terminal: exit 2" 2 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=t4' </dev/null
expect_exit "keygen: --pin is refused" 2 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/again" --no-passphrase \
	--token 'pkcs11:token=t4' --pin 44444444 </dev/null

done_testing
