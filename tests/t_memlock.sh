#!/usr/bin/env bash
# Locked memory: as a user who cannot lock the process (Debian's default
# 8 MiB limit), commands that handle secrets refuse with exit 7 and one
# plain line, unless --allow-unlocked-memory is given (then a warning);
# commands without secrets keep working and say nothing.  As root the
# process is locked (VmLck).  Needs root to switch to another user.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"
if sanitized; then
	skip "locked memory" "the sanitizer build is exempt from mlockall"
	done_testing; exit
fi
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
	skip "locked memory" "needs root, setpriv and prlimit"
	done_testing; exit
fi

# As root: the process is locked (a slow verify is sampled while it runs).
"$SDC" verify --sd-file "$SD/q2_n3.json" --sd-wrapping-keys "$KEYS/cert_2.key" \
	"$KEYS/cert_1.key" --password-files "$KEYS/cert_2.pass" \
	>"$TMP/root.out" 2>&1 &
pid=$!
lck=""
for _ in $(seq 1 200); do
	l=$(awk '/^VmLck:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
	[ -n "$l" ] && [ "$l" -gt 0 ] && { lck=$l; break; }
	sleep 0.01
done
wait "$pid"; rc=$?
check "root: verify succeeds" test "$rc" -eq 0
if [ -n "$lck" ]; then ok "root: the process is locked in memory (VmLck $lck kB)"; else
	skip "root: VmLck sample" "the run ended before a sample"; fi

# A user with an 8 MiB hard limit.  The tree must be readable by that user.
cp -r "$SD" "$TMP/sd" && chmod -R a+rX "$TMP"
cp "$SDC" "$TMP/sdc" && chmod 755 "$TMP/sdc"
as_user() {
	prlimit --memlock=8388608:8388608 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$@"
}
U="$TMP/sd"
expect_exit "8 MiB limit: verify refuses" 7 as_user "$TMP/sdc" verify --sd-file "$U/q2_n3.json" \
	--sd-wrapping-keys "$U/keys/cert_2.key" "$U/keys/cert_1.key" \
	--password-files "$U/keys/cert_2.pass"
expect_err "8 MiB limit: says memory cannot be locked and names the limit" \
	'^sdceremony: memory cannot be locked: the locked-memory limit \(ulimit -l\) is 8192 KiB'
expect_err "8 MiB limit: names the opt-in flag" 'accept the risk with --allow-unlocked-memory'
check "8 MiB limit: one line" test "$(wc -l <"$TMP/.err")" -eq 1
check "8 MiB limit: nothing on stdout" test ! -s "$TMP/.out"

mkdir -m 777 "$TMP/out"
expect_exit "8 MiB limit: keygen refuses" 7 as_user "$TMP/sdc" keygen --count 3 --quorum 2 \
	--out "$TMP/out/kg" --no-passphrase
check "8 MiB limit: keygen made nothing" test ! -e "$TMP/out/kg"
expect_exit "8 MiB limit: restore-blob refuses" 7 as_user "$TMP/sdc" restore-blob \
	--sd-file "$U/q2_n3.json" --sd-exchange-key "$U/exchange/exchange.cer" \
	--sd-wrapping-keys "$U/keys/cert_2.key" "$U/keys/cert_1.key" \
	--password-files "$U/keys/cert_2.pass" \
	--sd-file-restore-blob "$TMP/out/blob.json"
check "8 MiB limit: no blob" test ! -e "$TMP/out/blob.json"
expect_exit "8 MiB limit: rekey refuses" 7 as_user "$TMP/sdc" rekey --sd-file "$U/q2_n3.json" \
	--sd-wrapping-keys "$U/keys/cert_2.key" "$U/keys/cert_1.key" \
	--password-files "$U/keys/cert_2.pass" --new-certs "$U/keys/cert_5.cer" \
	"$U/keys/cert_6.cer" "$U/keys/cert_7.cer" --new-quorum 2 --out "$TMP/out/new.json"
check "8 MiB limit: no new file" test ! -e "$TMP/out/new.json"
expect_exit "8 MiB limit: passwd refuses" 7 as_user "$TMP/sdc" passwd "$U/keys/cert_2.key" \
	--passphrase-file "$U/keys/cert_2.pass" --new-passphrase-file "$U/keys/cert_3.pass" \
	--out "$TMP/out/k2.key"
check "8 MiB limit: no new key" test ! -e "$TMP/out/k2.key"

expect_exit "8 MiB limit: --allow-unlocked-memory verify succeeds" 0 as_user "$TMP/sdc" \
	--allow-unlocked-memory verify --sd-file "$U/q2_n3.json" \
	--sd-wrapping-keys "$U/keys/cert_2.key" "$U/keys/cert_1.key" \
	--password-files "$U/keys/cert_2.pass"
cp "$TMP/.out" "$TMP/allow.out"
expect_err "8 MiB limit: the opt-in is warned about once" \
	'^sdceremony: warning: memory cannot be locked: .*going on as --allow-unlocked-memory asks'
check "8 MiB limit: the warning is said once" \
	test "$(grep -cF -- 'warning: memory cannot be locked' "$TMP/.err")" -eq 1
check "8 MiB limit: and the drill verifies" grep -qF -- "Result: VERIFIED" "$TMP/allow.out"

expect_exit "8 MiB limit: inspect works without the flag" 0 as_user "$TMP/sdc" inspect \
	--sd-file "$U/q2_n3.json"
check "8 MiB limit: inspect says nothing about memory" test ! -s "$TMP/.err"
expect_exit "8 MiB limit: qr split works" 0 as_user "$TMP/sdc" qr split \
	"$U/exchange/exchange.cer" --out "$TMP/out/qr"
expect_exit "8 MiB limit: version works" 0 as_user "$TMP/sdc" version
expect_exit "8 MiB limit: verify --help works" 0 as_user "$TMP/sdc" verify --help
expect_exit "8 MiB limit: --help works" 0 as_user "$TMP/sdc" --help
cp "$TMP/.out" "$TMP/help.out"
check "--help documents the flag" grep -qF -- "--allow-unlocked-memory" "$TMP/help.out"

# A limit big enough: mlockall succeeds for a user without CAP_IPC_LOCK
# (raising a hard limit needs CAP_SYS_RESOURCE, which a container may lack).
if ! prlimit --memlock=1073741824:1073741824 true 2>/dev/null; then
	skip "1 GiB limit" "cannot raise the hard locked-memory limit here"
	done_testing; exit
fi
expect_exit "1 GiB limit: verify succeeds without the flag" 0 \
	prlimit --memlock=1073741824:1073741824 setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$TMP/sdc" verify --sd-file "$U/q2_n3.json" \
	--sd-wrapping-keys "$U/keys/cert_2.key" "$U/keys/cert_1.key" \
	--password-files "$U/keys/cert_2.pass"
check "1 GiB limit: no warning" test ! -s "$TMP/.err"

done_testing
