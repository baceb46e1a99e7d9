#!/usr/bin/env bash
# Runs every test and prints one summary line.  Tests speak TAP: cmocka
# programs (build/tests/test_*) through CMOCKA_MESSAGE_OUTPUT=TAP, shell
# tests (tests/t_*.sh) through tests/lib.sh.  A program that exits non-zero
# without reporting a failed test counts as one failure.
set -u
BUILD=${BUILD:-build}
export BUILD
export SDC="$PWD/$BUILD/sdceremony"
export CMOCKA_MESSAGE_OUTPUT=TAP
top=$PWD
pass=0 fail=0 skip=0
failed_names=()
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

run_one() {
	local name=$1; shift
	local log="$log_dir/$name.log"
	local rc p=0 f=0 s=0 k=0
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$log" | head -1)
	s=$(grep -cE '^ok .*# *(skip|SKIP)' "$log" | head -1)
	# cmocka's TAP writes a skipped test as "not ok N # SKIP": a skip, not a failure.
	k=$(grep -cE '^not ok .*# *(skip|SKIP)' "$log" | head -1)
	f=$(grep -cE '^not ok ' "$log" | head -1)
	p=$((p - s))
	s=$((s + k))
	f=$((f - k))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$name")
		printf 'FAIL %-28s %3d passed, %d failed (log: %s)\n' "$name" "$p" "$f" "$log"
		grep -E '^not ok |^# ' "$log" | head -20 | sed 's/^/     /'
	else
		printf 'ok   %-28s %3d passed%s\n' "$name" "$p" "$( [ "$s" -gt 0 ] && echo ", $s skipped")"
	fi
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue;; esac
	run_one "$(basename "$t")" "$t"
done
for t in tests/t_*.sh; do
	[ -f "$t" ] || continue
	run_one "$(basename "$t" .sh)" bash "$t"
done

echo
if [ "$fail" -ne 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "check ($BUILD): $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
