#!/usr/bin/env bash
# rekey: a 3-of-5 file from sdforge re-shared to 4 new certificates with
# quorum 2, and the real service's file re-shared to 3 new certificates.
# The new files recover (ours, and az's restore-blob as referee, offline) to
# the very items of the old ones; old keys get "no share"; one new key is not
# a quorum.  Every refusal exits as documented and writes nothing, and a
# kill -9 never leaves a partial file.
. tests/lib.sh

SD="$VEC/sd"
K="$SD/keys"
RS="$VEC/real-service"
X="$SD/exchange/exchange.cer"
XKEY="$SD/exchange/exchange.key"
BLOBOPEN="$TOOLS/blobopen"

"$TOOLS/sdforge" --certs "$K/cert_0.cer" "$K/cert_1.cer" "$K/cert_2.cer" "$K/cert_3.cer" \
	"$K/cert_4.cer" --required 3 --out "$TMP/old.json" --items-out "$TMP/old.items.json" ||
	{ not_ok "sdforge makes the 3-of-5 file"; done_testing; exit 1; }
cp "$TMP/old.json" "$TMP/old.copy"

# Three old keys (cert_2 encrypted first, as --password-files pairs by position).
OLD=(--sd-wrapping-keys "$K/cert_2.key" "$K/cert_0.key" "$K/cert_1.key"
	--password-files "$K/cert_2.pass")
NEW=(--new-certs "$K/cert_5.cer" "$K/cert_6.cer" "$K/cert_7.cer" "$K/cert_8.cer")

check "rekey 3-of-5 to 4 new certificates, quorum 2" \
	"$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" --new-quorum 2 \
	--out "$TMP/new.json" --json --transcript "$TMP/rekey.log"
cp "$TMP/.out" "$TMP/new.report"
check "--transcript: the current custodians' attempts, recorded by the session" \
	grep -qF -- "rekey start: sd_file $TMP/old.json sha256 $(sha256sum "$TMP/old.json" | cut -c1-64)" \
	"$TMP/rekey.log"
check "--transcript: each key as it came" test "$(grep -c ' rekey key .*: \[OK\] good, ' "$TMP/rekey.log")" -ge 3
check "--transcript: the plan, recorded by ceremony/ as the wizard's" grep -qF -- \
	"rekey: started with security domain $TMP/old.json sha256 $(sha256sum "$TMP/old.json" | cut -c1-64) (version 2, 5 shares, 3 required); new file $TMP/new.json, 4 new shares, quorum 2" \
	"$TMP/rekey.log"
check "--transcript: each new share" test "$(grep -c ' rekey: new share x=[1-4] to ' "$TMP/rekey.log")" -eq 4
check "--transcript: the plan comes before the first key" bash -c \
	'[ "$(grep -n -m1 "rekey: started" "$0" | cut -d: -f1)" -lt "$(grep -n -m1 " rekey key " "$0" | cut -d: -f1)" ]' \
	"$TMP/rekey.log"
expect_exit "a refused rekey (the output exists) is recorded" 5 "$SDC" rekey --sd-file "$TMP/old.json" \
	"${OLD[@]}" "${NEW[@]}" --new-quorum 2 --out "$TMP/new.json" --transcript "$TMP/rekey.log"
check "... as a failure with its status" grep -qE -- "Z rekey: failed \(exit 5\): .*new.json: already exists" "$TMP/rekey.log"
check "the input file is untouched" cmp "$TMP/old.json" "$TMP/old.copy"
check "the report is JSON with both files' SHA-256" python3 - "$TMP/new.report" \
	"$TMP/old.json" "$TMP/new.json" <<'EOF'
import hashlib, json, sys
r = json.load(open(sys.argv[1]))
h = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert r["report"] == "rekey" and r["result"] == "rekeyed", r
assert r["sha256"] == h(sys.argv[2]) and r["new_sha256"] == h(sys.argv[3]), r
assert r["new_required"] == 2 and r["required"] == 3 and len(r["keys"]) == 3, r
assert [s["x"] for s in r["new_shares"]] == [1, 2, 3, 4], r
assert r["new_subsets_checked"] == 6, r
assert "destroy every copy" in r["message"], r
EOF
check "the new file has the service's layout, version 2" python3 - "$TMP/new.json" \
	"$TMP/old.json" "$K" <<'EOF'
import base64, hashlib, json, ssl, sys
n, o, keys = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
assert list(n) == ["EncData", "SharedKeys", "version"] and n["version"] == 2
assert n["EncData"]["kdf"] == "sp108_kdf"
assert [d["tag"] for d in n["EncData"]["data"]] == [d["tag"] for d in o["EncData"]["data"]]
sk = n["SharedKeys"]
assert sk["key_algorithm"] == "shamir_share" and sk["required"] == 2
def b64u(b): return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def hdr(j):
    h = j.split(".")[0]; return json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))
for s, i in zip(sk["enc_shares"], [5, 6, 7, 8]):
    der = ssl.PEM_cert_to_DER_cert(open("%s/cert_%d.cer" % (keys, i)).read())
    assert s["x5t_256"] == b64u(hashlib.sha256(der).digest()), i
    h = hdr(s["enc_key"])
    assert h["alg"] == "RSA-OAEP-256" and h["enc"] == "A256CBC-HS512", h
for d in n["EncData"]["data"]:
    assert hdr(d["compact_jwe"]) == {"alg": "dir", "enc": "A256CBC-HS512", "kid": d["tag"]}
EOF
check "a drill with two new keys passes" \
	"$SDC" verify --sd-file "$TMP/new.json" --sd-wrapping-keys "$K/cert_7.key" "$K/cert_8.key"
check "a drill with all four new keys passes (every subset)" \
	"$SDC" verify --sd-file "$TMP/new.json" --sd-wrapping-keys "$K/cert_5.key" \
	"$K/cert_6.key" "$K/cert_7.key" "$K/cert_8.key" \
	--password-files "$K/cert_5.pass" "$K/cert_6.pass"
expect_exit "one new key alone: quorum not reached (6)" 6 \
	"$SDC" verify --sd-file "$TMP/new.json" --sd-wrapping-keys "$K/cert_7.key"
for i in 0 1 2; do
	pw=(); [ -f "$K/cert_$i.pass" ] && pw=(--password-files "$K/cert_$i.pass")
	expect_exit "old key cert_$i on the new file: refused (4)" 4 \
		"$SDC" verify --sd-file "$TMP/new.json" --sd-wrapping-keys "$K/cert_$i.key" "${pw[@]}" --json
	cp "$TMP/.out" "$TMP/old$i.json"
	check "old key cert_$i: no share for this certificate" grep -qF -- '"status": "no_share"' "$TMP/old$i.json"
done
check "our restore-blob with two new keys" \
	"$SDC" restore-blob --sd-file "$TMP/new.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K/cert_5.key" "$K/cert_8.key" --password-files "$K/cert_5.pass" \
	--sd-file-restore-blob "$TMP/new.ours"
check "our blob opens to the original plaintexts" \
	"$BLOBOPEN" --blob "$TMP/new.ours" --exchange-key-private "$XKEY" \
	--exchange-cert "$SD/exchange/exchange.der" --expect "$TMP/old.items.json"

# Keeping a custodian: their key opens the new file too.
check "rekey keeping two old custodians" \
	"$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" \
	--new-certs "$K/cert_0.cer" "$K/cert_2.cer" "$K/cert_7.cer" --new-quorum 2 --out "$TMP/kept.json"
cp "$TMP/.out" "$TMP/kept.report"
check "the report marks the kept certificates" grep -qF -- "also in the old file" "$TMP/kept.report"
check "a kept custodian's key opens the new file" \
	"$SDC" verify --sd-file "$TMP/kept.json" --sd-wrapping-keys "$K/cert_2.key" "$K/cert_7.key" \
	--password-files "$K/cert_2.pass"

# A version 1 file comes out as version 2.
check "rekey a version 1 file" \
	"$SDC" rekey --sd-file "$SD/v1_n3.json" --sd-wrapping-keys "$K/cert_0.key" "$K/cert_1.key" \
	--new-certs "$K/cert_7.cer" "$K/cert_8.cer" "$K/cert_9.cer" --new-quorum 3 --out "$TMP/v1to2.json"
check "the version 1 file became version 2" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] == 2 and d["SharedKeys"]["required"] == 3' "$TMP/v1to2.json"
check "its blob opens to the version 1 file's items" bash -c '
	"$1" restore-blob --sd-file "$2" --sd-exchange-key "$3" --sd-wrapping-keys "$4/cert_9.key" \
		"$4/cert_7.key" "$4/cert_8.key" --password-files "$4/cert_9.pass" \
		--sd-file-restore-blob "$5" </dev/null &&
	"$6" --blob "$5" --exchange-key-private "$7" --expect "$8"' _ "$SDC" "$TMP/v1to2.json" "$X" \
	"$K" "$TMP/v1to2.blob" "$BLOBOPEN" "$XKEY" "$SD/v1_n3.items.json"

# The real service's file, with its own (public, unencrypted) keys.
check "rekey the real service's file" \
	"$SDC" rekey --sd-file "$RS/sd-2020.json" --sd-wrapping-keys "$RS/cert_0.key" "$RS/cert_2.key" \
	--new-certs "$K/cert_7.cer" "$K/cert_8.cer" "$K/cert_9.cer" --new-quorum 2 --out "$TMP/rs.json"
check "restore-blob from the real file with its keys" \
	"$SDC" restore-blob --sd-file "$RS/sd-2020.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$RS/cert_0.key" "$RS/cert_1.key" --sd-file-restore-blob "$TMP/rs-old.blob"
check "restore-blob from the rekeyed file with new keys" \
	"$SDC" restore-blob --sd-file "$TMP/rs.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K/cert_9.key" "$K/cert_8.key" --password-files "$K/cert_9.pass" \
	--sd-file-restore-blob "$TMP/rs-new.blob"
"$BLOBOPEN" --blob "$TMP/rs-old.blob" --exchange-key-private "$XKEY" --items-out "$TMP/rs-old.items" >/dev/null 2>&1
"$BLOBOPEN" --blob "$TMP/rs-new.blob" --exchange-key-private "$XKEY" --items-out "$TMP/rs-new.items" >/dev/null 2>&1
check "both blobs hold the same items" cmp "$TMP/rs-old.items" "$TMP/rs-new.items"
check "the items are the service's (known SHA-256)" python3 - "$TMP/rs-new.items" <<'EOF'
import base64, hashlib, json, sys
items = json.load(open(sys.argv[1]))["items"]
want = {"hsm_backup": "ca010d00e3cfef35c6a08af658b2adf86a3fc22aeb45058ad5de770f6f28515b",
        "base_enclave_backup": "c8d4854200f312df6a4a8d561ee40cea3ebd33c174f5b9bbbcd5afe5e7f6dfd0",
        "partition_enclave_backup": "bb913ca529699e7044ef0ffae751256eab08fca1de29d849927c3ab3d345ca36"}
got = {t: hashlib.sha256(base64.b64decode(v)).hexdigest() for t, v in items.items()}
assert list(got) == list(want) and got == want, got
EOF
expect_exit "the real service's keys get no share in the rekeyed file" 4 \
	"$SDC" verify --sd-file "$TMP/rs.json" --sd-wrapping-keys "$RS/cert_1.key" --json
cp "$TMP/.out" "$TMP/rs-old-key.json"
check "  ... status no_share" grep -qF -- '"status": "no_share"' "$TMP/rs-old-key.json"

# --- refusals: status, message, nothing written ---
# refuse NAME STATUS PATTERN OUT ARGS...: rekey exits STATUS, says PATTERN, leaves no OUT
# and no temporary beside it.
refuse() {
	local name=$1 st=$2 pat=$3 out=$4; shift 4
	expect_exit "refused: $name ($st)" "$st" "$SDC" rekey "$@" --out "$out"
	if grep -qF -- "$pat" "$TMP/.err"; then ok "  ... says '$pat'"; else
		not_ok "  ... says '$pat'"; sed 's/^/# stderr: /' "$TMP/.err" | head -5; fi
	check "  ... writes nothing" bash -c '! ls -A "$(dirname "$0")" | grep -qF -- "$(basename "$0")"' "$out"
}
mkdir -p "$TMP/r"
Q=(--new-quorum 2)
refuse "one old key of three" 6 "1 key given" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" --sd-wrapping-keys "$K/cert_0.key" "${NEW[@]}" "${Q[@]}"
refuse "two good old keys of three" 6 "2 keys given" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" --sd-wrapping-keys "$K/cert_0.key" "$K/cert_1.key" \
	"${NEW[@]}" "${Q[@]}"
refuse "a wrong old key" 4 "no share in" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" --sd-wrapping-keys "$K/cert_0.key" "$K/cert_1.key" "$K/cert_7.key" \
	"${NEW[@]}" "${Q[@]}"
refuse "a wrong old password" 4 "wrong passphrase" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" --sd-wrapping-keys "$K/cert_2.key" "$K/cert_0.key" "$K/cert_1.key" \
	--password-files "$K/cert_3.pass" "${NEW[@]}" "${Q[@]}"
refuse "an EC certificate" 3 "not an RSA key" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" \
	"$VEC/bad/ec_wrapping.cer" "${Q[@]}"
refuse "an RSA-1024 certificate" 3 "too short" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" \
	"$VEC/bad/exchange_rsa1024.cer" "${Q[@]}"
refuse "the same key twice" 3 "same public key as" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" \
	"$K/cert_5.cer" "${Q[@]}"
refuse "a key file as a certificate" 3 "not a PEM or DER X.509 certificate" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" \
	"$K/cert_7.key" "${Q[@]}"
refuse "a missing certificate" 5 "cert_missing.cer" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" \
	"$K/cert_missing.cer" "${Q[@]}"
refuse "two new certificates" 2 "number of keys 2" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K/cert_5.cer" "$K/cert_6.cer" "${Q[@]}"
refuse "eleven new certificates" 2 "11 new certificates" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" --new-certs "$K"/cert_[0-9].cer "$K/cert_0.cer" "${Q[@]}"
refuse "quorum 1" 2 "quorum 1 is out of range" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" --new-quorum 1
refuse "quorum 5 of 4" 2 "quorum 5 is out of range" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" --new-quorum 5
refuse "quorum not a number" 2 "not a number" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" --new-quorum two
refuse "no --new-quorum" 2 "are required" "$TMP/r/a.json" \
	--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}"
echo keep >"$TMP/r/exists.json"
expect_exit "refused: output exists (5)" 5 "$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" \
	"${NEW[@]}" "${Q[@]}" --out "$TMP/r/exists.json"
expect_err "  ... says to use --force" "already exists \(use --force"
check "  ... the existing file is untouched" grep -qx keep "$TMP/r/exists.json"
check "with --force it is replaced" "$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" \
	"${NEW[@]}" "${Q[@]}" --out "$TMP/r/exists.json" --force
check "  ... by a file that recovers" "$SDC" verify --sd-file "$TMP/r/exists.json" \
	--sd-wrapping-keys "$K/cert_7.key" "$K/cert_8.key"
for f in "" --force; do
	expect_exit "refused: output is the input ${f:-(no --force)} (2)" 2 "$SDC" rekey \
		--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" "${Q[@]}" --out "$TMP/old.json" $f
	expect_err "  ... says it is the input" "is the input security-domain file"
	check "  ... the input is untouched" cmp "$TMP/old.json" "$TMP/old.copy"
done
ln -s old.json "$TMP/alias.json"
ln "$TMP/old.json" "$TMP/hardlink.json"
for a in alias.json hardlink.json; do
	expect_exit "refused: output $a names the input, with --force (2)" 2 "$SDC" rekey \
		--sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" "${Q[@]}" --out "$TMP/$a" --force
	check "  ... the input is untouched" cmp "$TMP/old.json" "$TMP/old.copy"
done
expect_exit "refused: output directory missing (5)" 5 "$SDC" rekey --sd-file "$TMP/old.json" \
	"${OLD[@]}" "${NEW[@]}" "${Q[@]}" --out "$TMP/nodir/new.json"
# A tampered item: the old keys open the shares, but no new file may appear.
"$TOOLS/sdforge" --certs "$K/cert_0.cer" "$K/cert_1.cer" "$K/cert_7.cer" --required 2 \
	--corrupt item:base_enclave_backup --out "$TMP/bad.json" --items-out "$TMP/bad.items.json"
refuse "a tampered item in the old file" 4 "base_enclave_backup" "$TMP/r/a.json" \
	--sd-file "$TMP/bad.json" --sd-wrapping-keys "$K/cert_0.key" "$K/cert_1.key" "${NEW[@]}" "${Q[@]}"
"$TOOLS/sdforge" --certs "$K/cert_0.cer" "$K/cert_1.cer" "$K/cert_7.cer" --required 2 \
	--corrupt inconsistent:1 --out "$TMP/incons.json" --items-out "$TMP/incons.items.json"
refuse "an old share that disagrees" 4 "disagrees" "$TMP/r/a.json" \
	--sd-file "$TMP/incons.json" --sd-wrapping-keys "$K/cert_0.key" "$K/cert_1.key" \
	"$K/cert_7.key" "${NEW[@]}" "${Q[@]}"

# --- kill -9 at any moment: NEW-SD is absent or whole ---
bad=0
for d in 0 0.02 0.05 0.08 0.1 0.15 0.2 0.25 0.3 0.4; do
	rm -f "$TMP/k/new.json"; mkdir -p "$TMP/k"
	"$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" "${NEW[@]}" "${Q[@]}" \
		--out "$TMP/k/new.json" >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ -e "$TMP/k/new.json" ] && ! "$SDC" verify --sd-file "$TMP/k/new.json" \
		--sd-wrapping-keys "$K/cert_7.key" "$K/cert_8.key" >/dev/null 2>&1; then
		bad=$((bad + 1))
		diag "after kill -9 at ${d}s: a new file that does not recover"
	fi
done
[ "$bad" -eq 0 ] && ok "kill -9 at ten moments: never a partial new file" ||
	not_ok "kill -9 at ten moments: never a partial new file"

# --- one directory for --new-certs: its .cer files in name order, as the wizard takes them ---
mkdir -p "$TMP/newdir" "$TMP/emptydir"
cp "$K/cert_8.cer" "$TMP/newdir/c0.cer"
cp "$K/cert_6.cer" "$TMP/newdir/c1.cer"
cp "$K/cert_7.cer" "$TMP/newdir/c2.cer"
cp "$K/cert_5.key" "$TMP/newdir/c3.key"
check "rekey --new-certs DIR" "$SDC" rekey --sd-file "$TMP/old.json" "${OLD[@]}" \
	--new-certs "$TMP/newdir" --new-quorum 2 --out "$TMP/dir.json" --json
cp "$TMP/.out" "$TMP/dir.report"
check "... shares go to the directory's .cer files in name order" python3 - "$TMP/dir.report" "$TMP/newdir" <<'EOF2'
import json, sys
r, d = json.load(open(sys.argv[1])), sys.argv[2]
assert [s["certificate"] for s in r["new_shares"]] == [d + "/c%d.cer" % i for i in range(3)], r
EOF2
expect_exit "... two of them recover the new file" 0 "$SDC" verify --sd-file "$TMP/dir.json" \
	--sd-wrapping-keys "$K/cert_8.key" "$K/cert_7.key"
expect_exit "a directory without certificates is refused" 2 "$SDC" rekey --sd-file "$TMP/old.json" \
	"${OLD[@]}" --new-certs "$TMP/emptydir" --new-quorum 2 --out "$TMP/none.json"
expect_err "... saying so" "holds no certificate"
check "... and writes nothing" test ! -e "$TMP/none.json"

# --- az, offline, as the referee (last: need_az ends the test where az is missing) ---
need_az "az restore-blob on a rekeyed file"
check "az restore-blob with two new keys" \
	az keyvault security-domain restore-blob --sd-file "$TMP/new.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K/cert_5.key" "$K/cert_7.key" --passwords "$(head -n1 "$K/cert_5.pass")" \
	--sd-file-restore-blob "$TMP/new.az"
check "az's blob opens to the original plaintexts" \
	"$BLOBOPEN" --blob "$TMP/new.az" --exchange-key-private "$XKEY" \
	--exchange-cert "$SD/exchange/exchange.der" --expect "$TMP/old.items.json"
check "az restore-blob on the rekeyed real-service file" \
	az keyvault security-domain restore-blob --sd-file "$TMP/rs.json" --sd-exchange-key "$X" \
	--sd-wrapping-keys "$K/cert_7.key" "$K/cert_8.key" --sd-file-restore-blob "$TMP/rs.az"
"$BLOBOPEN" --blob "$TMP/rs.az" --exchange-key-private "$XKEY" --items-out "$TMP/rs-az.items" >/dev/null 2>&1
check "az's blob holds the real service's items" cmp "$TMP/rs-old.items" "$TMP/rs-az.items"

done_testing
