#!/usr/bin/env bash
# No copy of a run's secrets outside guarded memory: a core of the real
# binary is taken with gdb at the points the review used (right after a key
# loads, PKCS#8 and PKCS#12; after its share is unwrapped; during keygen's
# signing; at the restore blob's write), and tests/tools/corescan.py
# searches its ordinary memory (heap, anonymous mappings, stacks; not the
# guarded sodium/secure-heap regions) for the passphrase, the private key's
# numbers, the master key and item plaintexts.
#
# A scan that finds nothing proves something only if it would have found the
# copies: at each point a public value known to be in the ordinary heap then
# is found (control), and a test-only build whose OpenSSL blocks are neither
# wiped nor kept in locked memory ($BUILD/tests/unwiped/sdceremony, see
# ceremony/secmem.c) is cored at the same point, where the scan must find
# the copies the review found (the decoder's freed copies of the key, the
# Montgomery contexts of p and q).
# Needs root (gdb attaches to a non-dumpable process) and gdb.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"
SCAN="$PWD/tests/tools/corescan.py"
UNWIPED="$PWD/$BUILD/tests/unwiped/sdceremony"
if sanitized; then
	skip "core scan" "not under the sanitizer build"; done_testing; exit
fi
if [ "$(id -u)" -ne 0 ] || ! command -v gdb >/dev/null || ! command -v python3 >/dev/null; then
	skip "core scan" "needs root, gdb and python3"; done_testing; exit
fi
if [ ! -x "$UNWIPED" ]; then
	not_ok "the test-only unwiped build exists ($UNWIPED: make check builds it)"
	done_testing; exit 1
fi

# secrets_of_key KEY PASSFILE: "LABEL HEX" lines for the passphrase and
# 24-byte windows of d, p, q and the CRT values, big- and little-endian.
secrets_of_key() {
	openssl rsa -in "$1" -passin "file:$2" -outform DER 2>/dev/null |
	python3 -c '
import sys
der = sys.stdin.buffer.read()
def tlv(b, i):
    t, l = b[i], b[i + 1]; i += 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i:i + n], "big"); i += n
    return t, b[i:i + l], i + l
def items(b):
    out, i = [], 0
    while i < len(b):
        t, v, i = tlv(b, i); out.append((t, v))
    return out
seq = items(tlv(der, 0)[1])
if seq[1][0] == 0x30:  # PKCS#8: the RSAPrivateKey is in the OCTET STRING
    seq = items(tlv(seq[2][1], 0)[1])
ints = [v.lstrip(b"\0") for _, v in seq]
for name, v in (("d", ints[3]), ("p", ints[4]), ("q", ints[5]), ("dp", ints[6]),
                ("dq", ints[7]), ("qinv", ints[8])):
    m = len(v) // 2 - 12
    w = v[m:m + 24]
    print("key-%s-be %s" % (name, w.hex()))
    print("key-%s-le %s" % (name, w[::-1].hex()))
'
	printf 'passphrase %s\n' "$(head -n1 "$2" | tr -d '\n' | od -An -tx1 | tr -d ' \n')"
}

# items_secrets ITEMS: the master key and a 24-byte window of every item.
items_secrets() {
	python3 -c '
import base64, json, sys
j = json.load(open(sys.argv[1]))
print("master-key", j["master_key"])
for tag, b in j["items"].items():
    v = base64.b64decode(b); m = len(v) // 2
    print("item-%s %s" % (tag, v[m:m + 24].hex()))
' "$1"
}

# core_at WHERE CORE COMMAND...: runs COMMAND under gdb, takes CORE at the
# first stop at WHERE (a gdb breakpoint location, "FUNCTION [if COND]"),
# then lets the run finish.
core_at() {
	local where=$1 core=$2; shift 2
	rm -f "$core"
	timeout 300 gdb -q -nx -batch -ex 'set breakpoint pending on' -ex 'set pagination off' \
		-ex "break $where" -ex run -ex "gcore $core" -ex 'delete' -ex continue \
		--args "$@" >"$TMP/gdb.log" 2>&1
	[ -s "$core" ] || { diag "no core: $(tail -3 "$TMP/gdb.log")"; return 1; }
}

# found_in CORE SECRETS: corescan finds at least one of SECRETS in CORE.
found_in() { ! python3 "$SCAN" "$1" "$2" >"$TMP/found.out"; }

# sd_text SD: a 24-byte window of the SD file's first item JWE, which the
# parsed file keeps in the ordinary heap while keys load (the control).
sd_text() {
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["EncData"]["data"][0]["compact_jwe"].encode()
m = len(s) // 2
print("sd-text", s[m:m + 24].hex())' "$1"
}

# point NAME WHERE SECRETS CONTROL COMMAND...: cores the tool at WHERE and
# scans for SECRETS (none may be found) and for CONTROL (a public value of
# the ordinary heap, which must be found; "" for none); then cores the
# unwiped build at the same point, where SECRETS must be found.  COMMAND
# names the binary as @SDC@.
point() {
	local name=$1 where=$2 secrets=$3 control=$4; shift 4
	local argv=() a
	for a in "$@"; do argv+=("${a/@SDC@/$SDC}"); done
	if core_at "$where" "$TMP/core" "${argv[@]}"; then
		if [ -n "$control" ]; then
			check "$name: the scan finds the control in the ordinary heap" \
				found_in "$TMP/core" "$control"
		fi
		scan "$name" "$TMP/core" "$secrets"
	else
		not_ok "$name: a core was taken"
	fi
	argv=()
	for a in "$@"; do argv+=("${a/@SDC@/$UNWIPED}"); done
	if core_at "$where" "$TMP/core" "${argv[@]}"; then
		if found_in "$TMP/core" "$secrets"; then
			ok "$name, unwiped build: the scan finds $(wc -l <"$TMP/found.out") copies" \
				"($(awk '{print $1}' "$TMP/found.out" | sort -u | tr '\n' ' '| sed 's/ $//'))"
		else
			not_ok "$name, unwiped build: the scan finds the copies (it found none)"
		fi
	else
		not_ok "$name, unwiped build: a core was taken"
	fi
	rm -f "$TMP/core"
}

scan() {
	local name=$1 core=$2 secrets=$3
	local n
	n=$(wc -l <"$secrets")
	if python3 "$SCAN" "$core" "$secrets" >"$TMP/scan.out"; then
		ok "$name: none of $n secrets outside guarded memory"
	else
		not_ok "$name: secrets outside guarded memory"
		sed 's/^/# /' "$TMP/scan.out" | sort | uniq -c | head -20
	fi
	rm -f "$core"
}

# 1. Right after an encrypted PKCS#8 key loads (before its certificate is
#    looked for), and after its share is unwrapped, while the key, which
#    has now done a private operation, is still loaded.
secrets_of_key "$KEYS/cert_2.key" "$KEYS/cert_2.pass" >"$TMP/s1"
sd_text "$SD/q2_n3.json" >"$TMP/control1"
verify1=(@SDC@ verify --sd-file "$SD/q2_n3.json" --sd-wrapping-keys "$KEYS/cert_2.key"
	"$KEYS/cert_1.key" --password-files "$KEYS/cert_2.pass")
point "after a PKCS#8 key load" cer_privkey_cert "$TMP/s1" "$TMP/control1" "${verify1[@]}"
point "after the PKCS#8 key's unwrap" 'cer_privkey_free if $rdi != 0' "$TMP/s1" \
	"$TMP/control1" "${verify1[@]}"

# 1b. The same for a PKCS#12 key.
openssl pkcs12 -in "$KEYS/cert_5.pfx" -passin "file:$KEYS/cert_5.pfx.pass" -nocerts -nodes \
	2>/dev/null >"$TMP/k5.pem"
secrets_of_key "$TMP/k5.pem" "$KEYS/cert_5.pfx.pass" | grep -v '^passphrase' >"$TMP/s1b"
printf 'passphrase %s\n' "$(head -n1 "$KEYS/cert_5.pfx.pass" | tr -d '\n' | od -An -tx1 |
	tr -d ' \n')" >>"$TMP/s1b"
rm -f "$TMP/k5.pem"
sd_text "$SD/q3_n4_big.json" >"$TMP/control1b"
verify1b=(@SDC@ verify --sd-file "$SD/q3_n4_big.json" --sd-wrapping-keys "$KEYS/cert_5.pfx"
	--password-files "$KEYS/cert_5.pfx.pass")
point "after a PKCS#12 key load" cer_privkey_cert "$TMP/s1b" "$TMP/control1b" "${verify1b[@]}"
point "after the PKCS#12 key's unwrap" 'cer_privkey_free if $rdi != 0' "$TMP/s1b" \
	"$TMP/control1b" "${verify1b[@]}"

# 2. At the restore blob's write: master key and item plaintexts too.  The
#    control is the blob's own text, in the ordinary heap as it is written.
#    (The unwiped build keeps these secrets out of the ordinary heap too:
#    they live in sodium memory, which that build does not change.)
{ cat "$TMP/s1"; items_secrets "$SD/q2_n3.items.json"; } >"$TMP/s2"
if core_at cer_file_write_atomic "$TMP/core2" "$SDC" restore-blob --sd-file "$SD/q2_n3.json" \
	--sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" \
	--password-files "$KEYS/cert_2.pass" --sd-file-restore-blob "$TMP/blob.json" &&
	[ -s "$TMP/blob.json" ]; then
	python3 -c 'import sys; v = open(sys.argv[1], "rb").read(); m = len(v) // 2
print("blob-text", v[m:m + 24].hex())' "$TMP/blob.json" >"$TMP/control2"
	check "at the blob write: the scan finds the control in the ordinary heap" \
		found_in "$TMP/core2" "$TMP/control2"
	scan "at the blob write" "$TMP/core2" "$TMP/s2"
else
	not_ok "at the blob write: a core was taken and the blob written"
fi

# 3. During keygen's signing of the certificates; the keys each run then
#    writes give the numbers to look for.  The unwiped build shows what
#    used to be found there: the Montgomery contexts an RSA key caches for
#    p and q at its first private operation, in a worker's ordinary heap.
for i in 0 1 2; do printf 'custodian-%s-passphrase-%s\n' "$i" "$RANDOM$RANDOM" >"$TMP/p$i"; done
keygen_core() {
	local bin=$1 out=$2 i
	rm -rf "$out"
	core_at X509_sign "$TMP/core3" "$bin" keygen --count 3 --quorum 2 --out "$out" \
		--passphrase-file "$TMP/p0" --passphrase-file "$TMP/p1" --passphrase-file "$TMP/p2" &&
		[ -s "$out/cert_2.key" ] || return 1
	: >"$TMP/s3"
	for i in 0 1 2; do secrets_of_key "$out/cert_$i.key" "$TMP/p$i" >>"$TMP/s3"; done
}
if keygen_core "$SDC" "$TMP/kg"; then
	scan "during keygen's signing" "$TMP/core3" "$TMP/s3"
else
	not_ok "during keygen's signing: a core was taken and the keys written"
fi
if keygen_core "$UNWIPED" "$TMP/kgu"; then
	if found_in "$TMP/core3" "$TMP/s3"; then
		ok "during keygen's signing, unwiped build: the scan finds $(wc -l <"$TMP/found.out") copies"
	else
		not_ok "during keygen's signing, unwiped build: the scan finds the copies (it found none)"
	fi
else
	not_ok "during keygen's signing, unwiped build: a core was taken and the keys written"
fi
rm -f "$TMP/core3"
done_testing
