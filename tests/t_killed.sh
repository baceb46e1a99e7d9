#!/usr/bin/env bash
# Killed runs: kill -9 at moments spread over keygen, restore-blob and qr
# split.  Whatever the moment, no file has a second name, an output is
# whole or absent, restore-blob (O_TMPFILE) leaves no temporary at all, and
# any temporary another writer left is named by the next run, which refuses
# until it is removed as the message says.  The assertions hold for every
# moment, so the test does not depend on where a kill lands.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"

# no_second_name DIR: no regular file under DIR has more than one link.
no_second_name() { [ -z "$(find "$1" -type f -links +1 -print -quit)" ]; }

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

# leftover DIR PATTERN: the first temporary matching PATTERN in DIR, or "".
leftover() { find "$1" -maxdepth 1 -name "$2" -print -quit; }

kg_bad=0 kg_named=0 kg_whole=0
for d in 0.02 0.1 0.2 0.3 0.4 0.5 0.55 0.6 0.65 0.7 0.8 1.2; do
	w="$TMP/kg-$d"; mkdir "$w"
	kill_after "$d" "$SDC" keygen --count 3 --quorum 2 --out "$w/set" --no-passphrase
	no_second_name "$w" || { kg_bad=$((kg_bad + 1)); diag "keygen $d: a second name"; }
	if [ -e "$w/set" ]; then
		kg_whole=$((kg_whole + 1))
		for f in cert_0.cer cert_0.key cert_1.key cert_2.key download-request.json ceremony.json; do
			[ -s "$w/set/$f" ] || { kg_bad=$((kg_bad + 1)); diag "keygen $d: $f missing"; }
		done
	fi
	t=$(leftover "$w" '.set.tmp-*')
	if [ -n "$t" ]; then
		"$SDC" keygen --count 3 --quorum 2 --out "$w/set2" --no-passphrase >/dev/null 2>&1
		"$SDC" keygen --count 3 --quorum 2 --out "$w/set" --no-passphrase --force \
			>/dev/null 2>"$w/err"
		if grep -qF -- "$t" "$w/err"; then kg_named=$((kg_named + 1)); else
			kg_bad=$((kg_bad + 1)); diag "keygen $d: $t not named"; fi
		rm -rf -- "$t"
	fi
done
check "keygen killed 12 times: no second name, every set whole, every temporary named" \
	test "$kg_bad" -eq 0
diag "keygen: $kg_whole sets complete, $kg_named temporaries named by the next run"

rb_bad=0
for d in 0 0.01 0.02 0.03 0.05 0.08 0.12 0.2; do
	w="$TMP/rb-$d"; mkdir "$w"
	kill_after "$d" "$SDC" restore-blob --sd-file "$SD/q2_n3.json" \
		--sd-exchange-key "$SD/exchange/exchange.cer" \
		--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_1.key" \
		--password-files "$KEYS/cert_2.pass" --sd-file-restore-blob "$w/blob.json"
	[ "$(find "$w" -mindepth 1 ! -name blob.json | wc -l)" -eq 0 ] ||
		{ rb_bad=$((rb_bad + 1)); diag "restore-blob $d: left $(ls -A "$w")"; }
	no_second_name "$w" || rb_bad=$((rb_bad + 1))
	if [ -e "$w/blob.json" ] && ! "$TOOLS/blobopen" --blob "$w/blob.json" \
		--exchange-key-private "$SD/exchange/exchange.key" \
		--expect "$SD/q2_n3.items.json" >/dev/null 2>&1; then
		rb_bad=$((rb_bad + 1)); diag "restore-blob $d: a partial blob"
	fi
done
check "restore-blob killed 8 times: no temporary, no second name, no partial blob" \
	test "$rb_bad" -eq 0

qr_bad=0
for d in 0 0.02 0.05 0.1 0.2 0.3 0.4 0.6; do
	w="$TMP/qr-$d"; mkdir "$w"
	kill_after "$d" "$SDC" qr split "$SD/q2_n3.json" --out "$w/parts"
	no_second_name "$w" || qr_bad=$((qr_bad + 1))
	t=$(leftover "$w" 'parts.tmp-*')
	if [ -n "$t" ]; then
		"$SDC" qr split "$SD/q2_n3.json" --out "$w/parts" --force >/dev/null 2>"$w/err"
		grep -qF -- "$t" "$w/err" || { qr_bad=$((qr_bad + 1)); diag "qr $d: $t not named"; }
		rm -rf -- "$t"
	fi
done
check "qr split killed 8 times: no second name, every temporary named" test "$qr_bad" -eq 0

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
