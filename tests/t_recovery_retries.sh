#!/usr/bin/env bash
# A custodian's slips in a drill (verify) and a recovery (restore-blob): a
# certificate given for the key, the same key twice, a wrong passphrase and
# then the right one.  An attempt that a good share of the same key file or
# the same certificate supersedes is listed in the report and does not fail
# the command; one that nothing supersedes fails it, with the same exit
# status in verify and restore-blob; rekey takes the same rule.  Every key
# named is loaded and checked.
. tests/lib.sh

KEYS="$VEC/sd/keys"
SD="$VEC/bad/good.json" # 2 of 3: cert_0, cert_1, cert_2
X="$VEC/sd/exchange/exchange.cer"
K0="$KEYS/cert_0.key" K1="$KEYS/cert_1.key" K2="$KEYS/cert_2.key"
C0="$KEYS/cert_0.cer" C2="$KEYS/cert_2.cer"
P2=$(head -n1 "$KEYS/cert_2.pass")

# has NAME FILE TEXT: FILE holds the fixed string TEXT.
has() { check "$1" grep -qF -- "$3" "$2"; }
hasnt() { check "$1" bash -c '! grep -qF -- "$0" "$1"' "$3" "$2"; }

drill() { "$SDC" verify --sd-file "$SD" "$@" </dev/null; }
blob() {
	rm -f "$TMP/blob.json"
	"$SDC" restore-blob --sd-file "$SD" --sd-exchange-key "$X" \
		--sd-file-restore-blob "$TMP/blob.json" "$@" </dev/null
}

# --- a certificate first, then its key ---
expect_exit "verify: certificate, then its key: verified" 0 drill \
	--sd-wrapping-keys "$C0" "$K0" "$K1"
cp "$TMP/.out" "$TMP/cer.txt"
has "verify: the certificate attempt is listed as retried" "$TMP/cer.txt" \
	"Key 1: $C0  [RETRIED] not a usable private key"
has "verify: it says the file is a certificate and names its key" "$TMP/cer.txt" \
	"this is a certificate (the public half), not a private key: the key that goes with it is probably $K0"
has "verify: it names the key that gave the share" "$TMP/cer.txt" \
	"key 2 gave the share of the same certificate"
has "verify: the result" "$TMP/cer.txt" "Result: VERIFIED"
expect_exit "restore-blob: certificate, then its key: blob written" 0 blob \
	--sd-wrapping-keys "$C0" "$K0" "$K1"
check "restore-blob: that blob opens" "$TOOLS/blobopen" --blob "$TMP/blob.json" \
	--exchange-key-private "$VEC/sd/exchange/exchange.key"

# --- a directory, then a key file in it ---
expect_exit "verify: a directory, then a key in it: verified" 0 drill \
	--sd-wrapping-keys "$KEYS" "$K0" "$K1"
cp "$TMP/.out" "$TMP/dir.txt"
has "verify: the directory attempt is listed as retried" "$TMP/dir.txt" \
	"Key 1: $KEYS  [RETRIED] not a usable private key"
has "verify: ... covered by the key file in it" "$TMP/dir.txt" "key 2 gave the share of a key file in it"

# --- the same key twice ---
expect_exit "verify: same key twice, then the quorum: verified" 0 drill \
	--sd-wrapping-keys "$K0" "$K0" "$K1"
cp "$TMP/.out" "$TMP/twice.txt"
has "verify: the second presentation is listed" "$TMP/twice.txt" \
	"Key 2: $K0  [RETRIED] same share as an earlier key"
has "verify: ... and what covers it" "$TMP/twice.txt" "key 1 gave the share of the same key file"
has "verify: two good shares" "$TMP/twice.txt" "Good shares: 2 of 2 required (quorum reached)"
expect_exit "restore-blob: same key twice, then the quorum: blob written" 0 blob \
	--sd-wrapping-keys "$K0" "$K0" "$K1"

# --- a wrong passphrase, then the right one ---
expect_exit "verify: wrong passphrase, then the right one: verified" 0 drill \
	--sd-wrapping-keys "$K2" "$K2" "$K0" --passwords nope "$P2" ""
cp "$TMP/.out" "$TMP/wrong.txt"
has "verify: the wrong passphrase stays in the report" "$TMP/wrong.txt" \
	"Key 1: $K2  [RETRIED] wrong passphrase"
has "verify: ... then the good share" "$TMP/wrong.txt" "Key 2: $K2  [OK] share authenticated"
hasnt "verify: no passphrase in the report" "$TMP/wrong.txt" "$P2"
expect_exit "verify --json: wrong passphrase, then the right one" 0 drill --json \
	--sd-wrapping-keys "$K2" "$K2" "$K0" --passwords nope "$P2" ""
cp "$TMP/.out" "$TMP/wrong.json"
check "verify --json: every attempt, the retry marked and pointing at its good share" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
k = r["keys"]
assert r["result"] == "verified" and r["exit_status"] == 0 and r["good"] == 2, r
assert len(k) == 3, k
assert k[0]["status"] == "wrong_password" and k[0]["superseded"] is True, k[0]
assert k[0]["superseded_by"] == 2, k[0]
assert all(e["status"] == "good" and e["superseded"] is False for e in k[1:]), k
assert all(e["superseded_by"] is None for e in k[1:]), k
' "$TMP/wrong.json"
T="$TMP/drill.log"
check "verify --transcript: wrong passphrase, then the right one" drill --transcript "$T" \
	--sd-wrapping-keys "$K2" "$K2" "$K0" --passwords nope "$P2" ""
has "transcript: the wrong passphrase is recorded as it was tried" "$T" "cert_2.key: certificate - x5t_256 -: [FAIL] wrong_password: "
has "transcript: the report lists it as a retry" "$T" "cert_2.key  [RETRIED] wrong passphrase"
has "transcript: the summary counts it" "$T" "2 of 2 good shares, 1 attempt retried"
hasnt "transcript: no passphrase in it" "$T" "$P2"

# The same on a terminal, typed: the wrong passphrase is no longer dropped.
if command -v script >/dev/null; then
	(sleep 1; printf 'nope\n'; sleep 1; printf '%s\n' "$P2"; sleep 2) |
		timeout 30 script -qec "$(printf '%q ' "$SDC" verify --sd-file "$SD" \
			--sd-wrapping-keys "$K2" "$K0")" /dev/null >"$TMP/tty.txt" 2>&1
	has "terminal: wrong passphrase then the right one verifies" "$TMP/tty.txt" "Result: VERIFIED"
	has "terminal: the wrong passphrase is listed" "$TMP/tty.txt" "Key 1: $K2  [RETRIED] wrong passphrase"
	hasnt "terminal: no passphrase on screen" "$TMP/tty.txt" "$P2"
else
	skip "terminal retries" "script(1) missing"
fi

# --- rekey takes the same rule ---
rekey() {
	rm -f "$TMP/new.json"
	"$SDC" rekey --sd-file "$SD" --new-certs "$KEYS/cert_4.cer" "$KEYS/cert_5.cer" \
		"$KEYS/cert_6.cer" --new-quorum 2 --out "$TMP/new.json" "$@" </dev/null
}
expect_exit "rekey: wrong passphrase, then the right one: new file written" 0 rekey \
	--sd-wrapping-keys "$K2" "$K2" "$K0" --passwords nope "$P2" ""
check "rekey: the new file is there" test -s "$TMP/new.json"
expect_exit "rekey: a certificate, then its key: new file written" 0 rekey \
	--sd-wrapping-keys "$C0" "$K0" "$K1"
expect_exit "rekey: a missing key file given last fails it (5), nothing written" 5 rekey \
	--sd-wrapping-keys "$K0" "$K1" "$TMP/nosuch.key"
check "rekey: ... no new file" test ! -e "$TMP/new.json"
expect_exit "rekey: a wrong passphrase never retried fails it (4)" 4 rekey \
	--sd-wrapping-keys "$K0" "$K1" "$K2" --passwords "" "" nope
check "rekey: ... no new file" test ! -e "$TMP/new.json"

# --- attempts that nothing supersedes still fail, alike in both commands ---
for cmd in drill blob; do
	expect_exit "$cmd: a certificate nobody's key follows: exit 3" 3 $cmd \
		--sd-wrapping-keys "$C2" "$K0" "$K1"
	expect_err "$cmd: ... says it is a certificate" "cert_2.cer: this is a certificate"
	mkdir -p "$TMP/stick"
	expect_exit "$cmd: a directory as the key, no key in it given: exit 3" 3 $cmd \
		--sd-wrapping-keys "$TMP/stick" "$K0" "$K1"
	expect_err "$cmd: ... says it is a directory" "stick: is a directory, not a key file"
	expect_exit "$cmd: a missing key file given last: exit 5" 5 $cmd \
		--sd-wrapping-keys "$K0" "$K1" "$TMP/nokey.key"
	expect_err "$cmd: ... named" "nokey.key: cannot open"
	expect_exit "$cmd: a key of no share given last: exit 4" 4 $cmd \
		--sd-wrapping-keys "$K0" "$K1" "$KEYS/cert_7.key"
	expect_err "$cmd: ... named" "cert_7.key: no share in"
	expect_exit "$cmd: a wrong passphrase never retried: exit 4" 4 $cmd \
		--sd-wrapping-keys "$K0" "$K1" "$K2" --passwords "" "" nope
	expect_err "$cmd: ... named" "cert_2.key: wrong passphrase"
done
check "restore-blob: no blob left by a failure" test ! -e "$TMP/blob.json"
expect_exit "verify --json: an unsuperseded attempt" 3 drill --json --sd-wrapping-keys "$C2" "$K0" "$K1"
cp "$TMP/.out" "$TMP/fail.json"
check "verify --json: failed, the attempt not superseded" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "failed" and r["exit_status"] == 3, r
k = r["keys"][0]
assert k["status"] == "not_a_key" and k["superseded"] is False and k["superseded_by"] is None, k
assert k["certificate"].endswith("cert_2.cer") and len(k["x5t_256"]) == 43, k
' "$TMP/fail.json"
done_testing
