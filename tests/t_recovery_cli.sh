#!/usr/bin/env bash
# restore-blob, verify and inspect beyond the happy path of the end-to-end
# test: the password prompt on a terminal, the drill's transcript, its JSON,
# every-subset checking, inspect with --certs, and what --help promises.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"
X="$SD/exchange/exchange.cer"
P2=$(head -n1 "$KEYS/cert_2.pass")

# --- password prompt on a terminal (script(1) gives the command a pty) ---
if command -v script >/dev/null; then
	# run_tty "LINE1|LINE2|..." COMMAND...: runs COMMAND on a pty, typing one
	# line a second (each prompt flushes what was typed ahead, as a terminal
	# would); gives up after 30 seconds.
	run_tty() {
		local input=$1 line; shift
		(IFS='|'; for line in $input; do sleep 1; printf '%s\n' "$line"; done; sleep 2) |
			timeout 30 script -qec "$(printf '%q ' "$@")" /dev/null
	}
	run_tty "$P2" "$SDC" restore-blob --sd-file "$SD/q2_n3.json" --sd-exchange-key "$X" \
		--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" \
		--sd-file-restore-blob "$TMP/tty.json" >"$TMP/tty.out" 2>&1
	check "prompt: asks for the key's password" grep -q "Password for key .*cert_2.key:" "$TMP/tty.out"
	check "prompt: the password is not echoed" bash -c '! grep -qF -- "$0" "$1"' "$P2" "$TMP/tty.out"
	check "prompt: the blob opens" "$TOOLS/blobopen" --blob "$TMP/tty.json" \
		--exchange-key-private "$SD/exchange/exchange.key" --expect "$SD/q2_n3.items.json"
	run_tty "wrong|$P2" "$SDC" verify --sd-file "$SD/q2_n3.json" \
		--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" >"$TMP/tty2.out" 2>&1
	check "prompt: a wrong passphrase is said and asked again" \
		grep -q "cert_2.key: wrong passphrase" "$TMP/tty2.out"
	check "prompt: the retry with the right one verifies" grep -q "Result: VERIFIED" "$TMP/tty2.out"
	run_tty "a|b|c" "$SDC" verify --sd-file "$SD/q2_n3.json" \
		--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" >"$TMP/tty3.out" 2>&1
	check "prompt: three wrong passphrases fail the key" grep -q "Result: FAILED" "$TMP/tty3.out"
else
	skip "password prompt" "script(1) missing"
fi

# --- verify: the drill record and the report ---
T="$TMP/drill.log"
check "verify: passes with a quorum and a transcript" "$SDC" verify --sd-file "$SD/q3_n4_big.json" \
	--sd-wrapping-keys "$KEYS/cert_3.key" "$KEYS/cert_4.key" "$KEYS/cert_6.key" \
	--password-files "$KEYS/cert_3.pass" "$KEYS/cert_4.pass" "$KEYS/cert_6.pass" --transcript "$T"
sha=$(sha256sum "$SD/q3_n4_big.json" | cut -d' ' -f1)
check "transcript: every line is stamped" bash -c \
	'! grep -vE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z " "$0"' "$T"
check "transcript: names the file's SHA-256" grep -qF -- "sha256 $sha" "$T"
for i in 3 4 6; do
	tp=$(python3 -c 'import json,sys;print([s["x5t_256"] for s in json.load(open(sys.argv[1]))["shares"] if s["cert"].endswith("cert_%s.cer" % sys.argv[2])][0])' \
		"$SD/q3_n4_big.items.json" "$i")
	check "transcript: thumbprint of cert_$i" grep -qF -- "x5t_256 $tp: [OK] good" "$T"
done
check "transcript: the result" grep -qF -- "drill result: verified (exit 0)" "$T"
check "transcript: no password in it" bash -c \
	'for p in "$@"; do ! grep -qF -- "$(head -n1 "$p")" "$0" || exit 1; done' "$T" \
	"$KEYS/cert_3.pass" "$KEYS/cert_4.pass" "$KEYS/cert_6.pass"
lines=$(wc -l <"$T")
expect_exit "verify: a custodian alone gets the quorum status" 6 "$SDC" verify --sd-file "$SD/q3_n4_big.json" \
	--sd-wrapping-keys "$KEYS/cert_5.pfx" --password-files "$KEYS/cert_5.pfx.pass" --transcript "$T"
cp "$TMP/.out" "$TMP/alone.txt"
check "transcript: appended, not replaced" test "$(wc -l <"$T")" -gt "$lines"
check "transcript: the quorum result" grep -qF -- "drill result: quorum_not_reached (exit 6)" "$T"
check "verify: the lone custodian's share is good" grep -q "cert_5.pfx  \[OK\] share authenticated" "$TMP/alone.txt"

expect_exit "verify --json with every key of a 3-of-5" 0 "$SDC" verify --json --sd-file "$SD/oaep_q3_n5.json" \
	--sd-wrapping-keys "$KEYS/cert_0.key" "$KEYS/cert_1.key" "$KEYS/cert_2.key" "$KEYS/cert_7.key" \
	"$KEYS/cert_8.key" --passwords "" "" "$P2" "" ""
cp "$TMP/.out" "$TMP/v.json"
check "verify --json: fields follow the file, all ten subsets checked" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["report"] == "verify" and r["version"] == 2 and r["required"] == 3, r
assert r["key_algorithm"] == "shamir_share" and r["kdf"] == "sp108_kdf", r
assert r["good"] == 5 and r["needed"] == 0 and r["subsets_checked"] == 10, r
assert r["result"] == "verified" and r["exit_status"] == 0, r
assert all(k["status"] == "good" and not k["disagrees"] for k in r["keys"]), r
assert [d["tag"] for d in r["data"]] == ["hsm_backup", "base_enclave_backup", "kmsp_enclave_backup"]
assert all(d["status"] == "authenticated" and d["size"] > 0 for d in r["data"]), r
' "$TMP/v.json"
expect_exit "verify: certificate found in --certs" 0 "$SDC" verify --sd-file "$SD/q2_n3.json" \
	--sd-wrapping-keys "$VEC/bad/lonely.key" "$KEYS/cert_0.key" --certs "$KEYS"

# --- 7 of 15: too many subsets (6435) to try them all; each share is checked
# against one good subset instead, and a disagreeing share is still named ---
mkdir -p "$TMP/k15"
for i in $(seq 0 14); do
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k15/c$i.key" -out "$TMP/k15/c$i.cer" \
		-days 2 -subj "/CN=c$i" 2>/dev/null
done
certs15=() keys15=()
for i in $(seq 0 14); do certs15+=("$TMP/k15/c$i.cer"); keys15+=("$TMP/k15/c$i.key"); done
"$TOOLS/sdforge" --certs "${certs15[@]}" --required 7 --out "$TMP/k15/sd.json" \
	--items-out "$TMP/k15/items.json" --tags hsm_backup:100 --shuffle
"$TOOLS/sdforge" --certs "${certs15[@]}" --required 7 --out "$TMP/k15/bad.json" \
	--items-out "$TMP/k15/items.json" --tags hsm_backup:100 --corrupt inconsistent:11
expect_exit "7 of 15: verify with all 15 keys" 0 "$SDC" verify --json --sd-file "$TMP/k15/sd.json" \
	--sd-wrapping-keys "${keys15[@]}"
cp "$TMP/.out" "$TMP/k15/v.json"
check "7 of 15: one check per share beyond the first good subset" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "verified" and r["good"] == 15, r
assert 9 <= r["subsets_checked"] < 100, r["subsets_checked"]
' "$TMP/k15/v.json"
expect_exit "7 of 15: a disagreeing share is named" 4 "$SDC" verify --sd-file "$TMP/k15/bad.json" \
	--sd-wrapping-keys "${keys15[@]}"
expect_err "7 of 15: the message names its key" "c11.key: its share is authentic but disagrees"

# --- inspect ---
expect_exit "inspect --certs" 0 "$SDC" inspect --sd-file "$SD/q4_n5.json" --certs "$KEYS"
cp "$TMP/.out" "$TMP/i.txt"
for i in 0 2 3 7 8; do
	check "inspect --certs names cert_$i" grep -q "certificate .*cert_$i.cer" "$TMP/i.txt"
done
check "inspect: required and share count" grep -q "Required: 4 of 5 shares" "$TMP/i.txt"
expect_exit "inspect --json of the b64 form" 0 "$SDC" inspect --json --sd-file "$SD/b64_q3_n3.txt"
cp "$TMP/.out" "$TMP/i.json"
check "inspect --json: fields" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["form"] == "b64" and r["version"] == 2 and r["required"] == 3 and r["shares"] == 3, r
assert r["ok"] is True and r["problems"] == 0 and r["kdf"] == "sp108_kdf", r
assert all(s["alg"] == "RSA-OAEP-256" and s["problem"] is None for s in r["enc_shares"]), r
assert len(r["data"]) >= 1 and all(d["tag"] for d in r["data"]), r
' "$TMP/i.json"

# --- inspect --transcript: the record is the report, or the failure ---
IT="$TMP/inspect-transcript.txt"
expect_exit "inspect --transcript" 0 "$SDC" inspect --sd-file "$SD/q4_n5.json" --certs "$KEYS" \
	--transcript "$IT"
cp "$TMP/.out" "$TMP/i2.txt"
check "inspect --transcript: the summary" \
	grep -qE -- "^[0-9T:-]+Z inspect $SD/q4_n5.json: ok, 0 problems$" "$IT"
check "... then every line printed, in order" \
	bash -c 'diff <(sed "s/^/  /" "$0") <(sed -n "2,\$ s/^[^ ]* //p" "$1")' "$TMP/i2.txt" "$IT"
expect_exit "inspect --transcript of a malformed file" 3 "$SDC" inspect \
	--sd-file tests/vectors/bad/many_defects.json --transcript "$IT"
check "... records the report" grep -qE -- "Z inspect tests/vectors/bad/many_defects.json: malformed, [0-9]+ problems$" "$IT"
expect_exit "inspect --transcript of a missing file" 5 "$SDC" inspect --sd-file "$TMP/nothing.json" \
	--transcript "$IT"
check "... records the failure" \
	grep -qF -- "inspect $TMP/nothing.json: [FAIL] $TMP/nothing.json: " "$IT"
check "... with its exit status" grep -qE -- "nothing.json: .*\(exit 5\)$" "$IT"
# A transcript that can grow no more (a full disk): inspect fails, exit 5.
head -c 100000 /dev/zero >"$TMP/full-transcript.txt"
expect_exit "inspect: a transcript that cannot be written fails the command (5)" 5 \
	size_capped 100000 "$SDC" inspect \
	--sd-file "$SD/q4_n5.json" --transcript "$TMP/full-transcript.txt"
expect_err "... and says why" "transcript .*full-transcript.txt: write failed"

# --- what --help promises ---
for c in restore-blob verify inspect; do
	check "$c --help lists the exit statuses" bash -c '"$0" "$1" --help | grep -q "Exit status"' "$SDC" "$c"
done
for c in restore-blob verify; do
	check "$c --help warns that --passwords is visible" \
		bash -c '"$0" "$1" --help | grep -q "visible to other processes"' "$SDC" "$c"
done
check "verify --help documents the JSON fields" bash -c \
	'"$0" verify --help | grep -q "subsets_checked"' "$SDC"
check "inspect --help documents the JSON fields" bash -c \
	'"$0" inspect --help | grep -q "key_algorithm"' "$SDC"
done_testing
