#!/usr/bin/env bash
# Killed runs: kill -9 at moments spread over keygen (into DIR, and with
# --key-out onto custodians' media), restore-blob, rekey (writing a new
# file, and replacing one with --force) and qr split.  Whatever the moment, no file has a second name, an output is
# whole or absent, restore-blob (O_TMPFILE) leaves no temporary at all, and
# any temporary another writer left is named by the next run, which refuses
# until it is removed as the message says.  The assertions hold for every
# moment, so the test does not depend on where a kill lands.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"

# no_second_name DIR: no regular file under DIR has more than one link.
no_second_name() { [ -z "$(find "$1" -type f -links +1 -print -quit)" ]; }

# leftover DIR PATTERN: the first temporary matching PATTERN in DIR, or "".
leftover() { find "$1" -maxdepth 1 -name "$2" -print -quit; }

# kill_after DELAY COMMAND...: runs COMMAND, SIGKILLs it after DELAY seconds.
kill_after() {
	local d=$1; shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Kills aimed at the write phase, which lasts a few milliseconds and so is
# seldom hit by a delay: gdb runs the command and SIGKILLs it at the N-th
# stop at STOP, a function ("write_new") or "syscall NAME" (where the entry
# is stop 1 and the return stop 2), i.e. between two of its steps.  Needs
# gdb and root (the tool makes itself non-dumpable).
AIM=0
if [ "$(id -u)" -eq 0 ] && command -v gdb >/dev/null; then AIM=1; fi
kill_at() {
	local stop=$1 n=$2; shift 2
	local how=(-ex "break $stop") more=()
	case $stop in syscall\ *) how=(-ex "catch $stop") ;; esac
	[ "$n" -gt 1 ] && more=(-ex "continue $((n - 1))")
	timeout 120 gdb -q -nx -batch -ex 'set breakpoint pending on' -ex 'set pagination off' \
		"${how[@]}" -ex run "${more[@]}" -ex kill --args "$@" >/dev/null 2>&1 </dev/null
	return 0
}

# kill_by HOW COMMAND...: HOW is a delay in seconds, or "STOP@N" for kill_at.
kill_by() {
	local how=$1; shift
	case $how in
	*@*) kill_at "${how%@*}" "${how##*@}" "$@" ;;
	*) kill_after "$how" "$@" ;;
	esac
}

# moments DELAYS... -- AIMED...: the delays, and the aimed stops where gdb can.
moments() {
	local m aimed=0
	for m in "$@"; do
		if [ "$m" = -- ]; then aimed=1; continue; fi
		[ "$aimed" -eq 0 ] || [ "$AIM" -eq 1 ] && printf '%s\n' "$m"
	done
}
[ "$AIM" -eq 1 ] || diag "no gdb or not root: only kills after a delay, none aimed at the write phase"

# named_next RUN_STATUS ERRFILE TEMP: the next run exited 5 naming TEMP.
named_next() { [ "$1" -eq 5 ] && grep -qF -- "$3" "$2"; }

# --- keygen: a directory of keys, written in a hidden temporary directory
# renamed into place.
KG=(keygen --count 3 --quorum 2 --bits 2048 --no-passphrase)
kg_bad=0 kg_named=0 kg_whole=0 kg_n=0
while read -r m; do
	w="$TMP/kg-$kg_n"; mkdir "$w"; kg_n=$((kg_n + 1))
	kill_by "$m" "$SDC" "${KG[@]}" --out "$w/set"
	no_second_name "$w" || { kg_bad=$((kg_bad + 1)); diag "keygen $m: a second name"; }
	if [ -e "$w/set" ]; then
		kg_whole=$((kg_whole + 1))
		for f in cert_0.cer cert_0.key cert_1.key cert_2.key download-request.json ceremony.json; do
			[ -s "$w/set/$f" ] || { kg_bad=$((kg_bad + 1)); diag "keygen $m: $f missing"; }
		done
	fi
	[ "$(find "$w" -mindepth 1 -maxdepth 1 ! -name set ! -name '.set.tmp-*' | wc -l)" -eq 0 ] ||
		{ kg_bad=$((kg_bad + 1)); diag "keygen $m: left $(ls -A "$w")"; }
	t=$(leftover "$w" '.set.tmp-*')
	if [ -n "$t" ]; then
		"$SDC" "${KG[@]}" --out "$w/set" --force >/dev/null 2>"$w/err"
		if named_next $? "$w/err" "$t"; then kg_named=$((kg_named + 1)); else
			kg_bad=$((kg_bad + 1)); diag "keygen $m: $t not named"; fi
		rm -rf -- "$t"
	fi
done < <(moments 0.02 0.1 0.2 0.3 0.4 0.6 -- write_new@1 write_new@2 write_new@5 write_new@8 \
	'syscall fsync@1' 'syscall renameat2@1' 'syscall renameat2@2')
check "keygen killed $kg_n times: no second name, every set whole, every temporary named" \
	test "$kg_bad" -eq 0
diag "keygen: $kg_whole sets complete, $kg_named temporaries named by the next run"
[ "$AIM" -eq 0 ] || check "keygen: a kill in its write phase left a temporary, and it was named" \
	test "$kg_named" -gt 0

# --- keygen --key-out: each key (and a copy of its certificate) placed on
# its custodian's medium from a temporary beside it, then the set.  A kill
# may leave keys already placed (each whole, with one name) and temporaries
# beside the others: once the placed ones are cleared away, each next run
# names one of the temporaries, until none is left.
ko_bad=0 ko_named=0 ko_n=0
while read -r m; do
	w="$TMP/ko-$ko_n"; mkdir -p "$w/m1" "$w/m2" "$w/m3"; ko_n=$((ko_n + 1))
	KO=("${KG[@]}" --out "$w/set" --key-out "$w/m1" --key-out "$w/m2" --key-out "$w/m3")
	kill_by "$m" "$SDC" "${KO[@]}"
	no_second_name "$w" || { ko_bad=$((ko_bad + 1)); diag "keygen --key-out $m: a second name"; }
	for k in "$w"/m?/cert_?.key; do
		[ -e "$k" ] || continue
		openssl pkey -in "$k" -noout 2>/dev/null ||
			{ ko_bad=$((ko_bad + 1)); diag "keygen --key-out $m: $k is not whole"; }
	done
	[ -e "$w/set" ] || rm -f "$w"/m?/cert_?.key "$w"/m?/cert_?.cer
	left=$(find "$w" -maxdepth 2 -name '.*.tmp-*' | wc -l)
	for _ in $(seq 1 "$left"); do
		"$SDC" "${KO[@]}" --force >/dev/null 2>"$w/err"
		rc=$?
		t=$(find "$w" -maxdepth 2 -name '.*.tmp-*' | while read -r f; do
			grep -qF -- "$f" "$w/err" && printf '%s\n' "$f" && break; done)
		if [ "$rc" -eq 5 ] && [ -n "$t" ]; then ko_named=$((ko_named + 1)); rm -rf -- "$t"; else
			ko_bad=$((ko_bad + 1)); diag "keygen --key-out $m: a temporary not named (exit $rc)"
			break
		fi
	done
done < <(moments 0.1 0.3 -- write_new@1 'syscall renameat2@1' 'syscall renameat2@2' \
	'syscall renameat2@6' 'syscall renameat2@12' 'syscall renameat2@13' 'syscall renameat2@14')
check "keygen --key-out killed $ko_n times: no second name, every placed key whole, every temporary named" \
	test "$ko_bad" -eq 0
diag "keygen --key-out: $ko_named temporaries named by the next runs"
[ "$AIM" -eq 0 ] || check "keygen --key-out: kills while placing keys left temporaries, all named" \
	test "$ko_named" -gt 0

# --- restore-blob: one file, written unnamed (O_TMPFILE) and linked into
# place; with --force over an old blob, linked to a temporary name and
# renamed over it.
RB=(restore-blob --sd-file "$SD/q2_n3.json" --sd-exchange-key "$SD/exchange/exchange.cer"
	--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" --password-files "$KEYS/cert_2.pass")
"$SDC" "${RB[@]}" --sd-file-restore-blob "$TMP/prev-blob.json" >/dev/null 2>&1 ||
	not_ok "restore-blob makes a blob to replace"
blob_ok() {
	"$TOOLS/blobopen" --blob "$1" --exchange-key-private "$SD/exchange/exchange.key" \
		--expect "$SD/q2_n3.items.json" >/dev/null 2>&1
}
rb_bad=0 rb_n=0 rb_named=0
run_rb() {
	local m=$1 force=$2 w t
	w="$TMP/rb-$rb_n"; mkdir "$w"; rb_n=$((rb_n + 1))
	[ -n "$force" ] && cp "$TMP/prev-blob.json" "$w/blob.json"
	kill_by "$m" "$SDC" "${RB[@]}" --sd-file-restore-blob "$w/blob.json" $force
	no_second_name "$w" || { rb_bad=$((rb_bad + 1)); diag "restore-blob $m$force: a second name"; }
	[ "$(find "$w" -mindepth 1 ! -name blob.json ! -name '.blob.json.tmp-*' | wc -l)" -eq 0 ] ||
		{ rb_bad=$((rb_bad + 1)); diag "restore-blob $m$force: left $(ls -A "$w")"; }
	if [ -e "$w/blob.json" ] && ! blob_ok "$w/blob.json"; then
		rb_bad=$((rb_bad + 1)); diag "restore-blob $m$force: a partial blob"
	fi
	t=$(leftover "$w" '.blob.json.tmp-*')
	if [ -n "$t" ]; then
		if [ -z "$force" ]; then
			rb_bad=$((rb_bad + 1)); diag "restore-blob $m: a temporary without --force"
		fi
		"$SDC" "${RB[@]}" --sd-file-restore-blob "$w/blob.json" --force >/dev/null 2>"$w/err"
		if named_next $? "$w/err" "$t"; then rb_named=$((rb_named + 1)); else
			rb_bad=$((rb_bad + 1)); diag "restore-blob $m$force: $t not named"; fi
		rm -f -- "$t"
	fi
}
while read -r m; do run_rb "$m" ""; done < <(moments 0 0.01 0.02 0.03 0.05 0.08 0.12 0.2 -- \
	cer_file_write_atomic@1 'syscall linkat@1' 'syscall linkat@2' 'syscall fsync@1')
while read -r m; do run_rb "$m" --force; done < <(moments 0.05 0.1 -- 'syscall linkat@1' \
	'syscall linkat@2' 'syscall rename@1' 'syscall rename@2')
check "restore-blob killed $rb_n times: no second name, no partial blob, a temporary only with --force and named" \
	test "$rb_bad" -eq 0
[ "$AIM" -eq 0 ] || check "restore-blob --force: a kill between link and rename left a temporary, and it was named" \
	test "$rb_named" -gt 0

# --- rekey: the same writer as restore-blob, a new file and one replaced.
"$TOOLS/sdforge" --certs "$KEYS/cert_0.cer" "$KEYS/cert_1.cer" "$KEYS/cert_2.cer" --required 2 \
	--out "$TMP/old.json" --items-out "$TMP/old.items.json" >/dev/null ||
	not_ok "sdforge makes the file to rekey"
REKEY=(rekey --sd-file "$TMP/old.json" --sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key"
	--password-files "$KEYS/cert_2.pass" --new-certs "$KEYS/cert_5.cer" "$KEYS/cert_6.cer"
	"$KEYS/cert_7.cer" --new-quorum 2)
"$SDC" "${REKEY[@]}" --out "$TMP/prev.json" >/dev/null 2>&1 || not_ok "rekey makes a file to replace"
rk_bad=0 rk_named=0 rk_new=0 rk_n=0
run_rk() {
	local m=$1 force=$2 w t
	w="$TMP/rk-$rk_n"; mkdir "$w"; rk_n=$((rk_n + 1))
	[ -n "$force" ] && cp "$TMP/prev.json" "$w/new.json"
	kill_by "$m" "$SDC" "${REKEY[@]}" --out "$w/new.json" $force
	no_second_name "$w" || { rk_bad=$((rk_bad + 1)); diag "rekey $m$force: a second name"; }
	[ "$(find "$w" -mindepth 1 ! -name new.json ! -name '.new.json.tmp-*' | wc -l)" -eq 0 ] ||
		{ rk_bad=$((rk_bad + 1)); diag "rekey $m$force: left $(ls -A "$w")"; }
	if [ -e "$w/new.json" ]; then
		if ! "$SDC" inspect --sd-file "$w/new.json" >/dev/null 2>&1; then
			rk_bad=$((rk_bad + 1)); diag "rekey $m$force: a partial file"
		elif ! cmp -s "$w/new.json" "$TMP/prev.json"; then
			rk_new=$((rk_new + 1))
		fi
	fi
	t=$(leftover "$w" '.new.json.tmp-*')
	if [ -n "$t" ]; then
		if [ -z "$force" ]; then
			rk_bad=$((rk_bad + 1)); diag "rekey $m: a temporary without --force"
		fi
		"$SDC" "${REKEY[@]}" --out "$w/new.json" --force >/dev/null 2>"$w/err"
		if named_next $? "$w/err" "$t"; then rk_named=$((rk_named + 1)); else
			rk_bad=$((rk_bad + 1)); diag "rekey $m$force: $t not named"; fi
		rm -f -- "$t"
	fi
}
while read -r m; do run_rk "$m" ""; done < <(moments 0 0.02 0.05 0.08 0.1 0.12 0.15 0.18 0.22 \
	0.3 -- cer_file_write_atomic@1 'syscall linkat@1' 'syscall linkat@2')
while read -r m; do run_rk "$m" --force; done < <(moments 0.05 0.1 0.15 0.2 -- \
	'syscall linkat@2' 'syscall rename@1' 'syscall rename@2')
check "rekey killed $rk_n times: no second name, no partial file, a temporary only with --force and named" \
	test "$rk_bad" -eq 0
diag "rekey: $rk_new new files complete, $rk_named temporaries named by the next run"
[ "$AIM" -eq 0 ] || check "rekey --force: a kill between link and rename left a temporary, and it was named" \
	test "$rk_named" -gt 0

# --- qr split: parts written in a temporary directory beside DIR, renamed
# into place.
qr_bad=0 qr_n=0 qr_named=0
while read -r m; do
	w="$TMP/qr-$qr_n"; mkdir "$w"; qr_n=$((qr_n + 1))
	kill_by "$m" "$SDC" qr split "$SD/q2_n3.json" --out "$w/parts"
	no_second_name "$w" || { qr_bad=$((qr_bad + 1)); diag "qr $m: a second name"; }
	[ "$(find "$w" -mindepth 1 -maxdepth 1 ! -name parts ! -name 'parts.tmp-*' | wc -l)" -eq 0 ] ||
		{ qr_bad=$((qr_bad + 1)); diag "qr $m: left $(ls -A "$w")"; }
	if [ -e "$w/parts" ] && ! "$SDC" qr join --out "$w/joined" "$w/parts"/*.txt >/dev/null 2>&1 ||
		{ [ -e "$w/parts" ] && ! cmp -s "$w/joined" "$SD/q2_n3.json"; }; then
		qr_bad=$((qr_bad + 1)); diag "qr $m: a partial split"
	fi
	rm -f "$w/joined"
	t=$(leftover "$w" 'parts.tmp-*')
	if [ -n "$t" ]; then
		"$SDC" qr split "$SD/q2_n3.json" --out "$w/parts" --force >/dev/null 2>"$w/err"
		if named_next $? "$w/err" "$t"; then qr_named=$((qr_named + 1)); else
			qr_bad=$((qr_bad + 1)); diag "qr $m: $t not named"; fi
		rm -rf -- "$t"
	fi
done < <(moments 0 0.02 0.05 0.1 0.2 0.3 0.4 0.6 -- cer_file_write_atomic@1 \
	cer_file_write_atomic@3 'syscall rename@1' 'syscall rename@2')
check "qr split killed $qr_n times: no second name, no partial split, every temporary named" \
	test "$qr_bad" -eq 0
[ "$AIM" -eq 0 ] || check "qr split: a kill in its write phase left a temporary, and it was named" \
	test "$qr_named" -gt 0

# A planted temporary of each writer's naming is named and refused.
mkdir "$TMP/plant" && mkdir "$TMP/plant/.set.tmp-Ab12Cd"
expect_exit "keygen: a stale temporary directory is refused" 5 "$SDC" keygen --count 3 \
	--quorum 2 --out "$TMP/plant/set" --no-passphrase
expect_err "keygen: it is named, with how to remove it" \
	"left a temporary beside it: $TMP/plant/.set.tmp-Ab12Cd .*rm -rf -- '$TMP/plant/.set.tmp-Ab12Cd'"
check "keygen: nothing was made" test ! -e "$TMP/plant/set"
rm -rf -- "$TMP/plant/.set.tmp-Ab12Cd"
expect_exit "keygen: after removing it, keygen runs" 0 "$SDC" keygen --count 3 --quorum 2 \
	--out "$TMP/plant/set" --no-passphrase

: >"$TMP/plant/.blob.json.tmp-xY9z00"
expect_exit "restore-blob: a stale temporary is refused" 5 "$SDC" restore-blob \
	--sd-file "$SD/q2_n3.json" --sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" \
	--password-files "$KEYS/cert_2.pass" --sd-file-restore-blob "$TMP/plant/blob.json"
expect_err "restore-blob: it is named" "$TMP/plant/.blob.json.tmp-xY9z00"
check "restore-blob: no blob" test ! -e "$TMP/plant/blob.json"

# restore-blob and rekey name it at start, before any key is read: a key
# path that does not exist is not reached.
expect_exit "restore-blob: the stale temporary is named before any key" 5 "$SDC" restore-blob \
	--sd-file "$SD/q2_n3.json" --sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$TMP/plant/no-such.key" "$KEYS/cert_1.key" \
	--sd-file-restore-blob "$TMP/plant/blob.json"
expect_err "restore-blob: named before the missing key" "$TMP/plant/.blob.json.tmp-xY9z00"
: >"$TMP/plant/.new.json.tmp-Zz9Yy8"
expect_exit "rekey: a stale temporary is refused before any key" 5 "$SDC" rekey \
	--sd-file "$TMP/old.json" --sd-wrapping-keys "$TMP/plant/no-such.key" "$KEYS/cert_1.key" \
	--new-certs "$KEYS/cert_5.cer" "$KEYS/cert_6.cer" "$KEYS/cert_7.cer" --new-quorum 2 \
	--out "$TMP/plant/new.json"
expect_err "rekey: it is named, with how to remove it" \
	"left a temporary beside it: $TMP/plant/.new.json.tmp-Zz9Yy8 .*rm -rf -- '$TMP/plant/.new.json.tmp-Zz9Yy8'"
check "rekey: no new file" test ! -e "$TMP/plant/new.json"
rm -f -- "$TMP/plant/.new.json.tmp-Zz9Yy8"

mkdir "$TMP/plant/parts.tmp-Q1w2E3"
expect_exit "qr split: a stale temporary is refused" 5 "$SDC" qr split "$SD/q2_n3.json" \
	--out "$TMP/plant/parts"
expect_err "qr split: it is named" "$TMP/plant/parts.tmp-Q1w2E3"
: >"$TMP/plant/.parts.tmp-notours"
: >"$TMP/plant/.blob.json.tmp-toolong1"
rm -rf -- "$TMP/plant/parts.tmp-Q1w2E3" "$TMP/plant/.blob.json.tmp-xY9z00"
expect_exit "names not of the temporary pattern are left alone" 0 "$SDC" restore-blob \
	--sd-file "$SD/q2_n3.json" --sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" \
	--password-files "$KEYS/cert_2.pass" --sd-file-restore-blob "$TMP/plant/blob.json"
done_testing
