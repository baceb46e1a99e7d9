#!/usr/bin/env bash
# sss/ is constant-time: build/tests/test_sss_ct runs split and combine with
# every secret input marked undefined; valgrind memcheck must find nothing.
# The canary (a lookup and a branch on a marked byte) must be caught, so that
# a passing run means the marking works.
. tests/lib.sh

prog="$BUILD/tests/test_sss_ct"
if sanitized; then
	skip "split and combine under valgrind with secrets marked" "sanitizer build"
	skip "valgrind catches the canary" "sanitizer build"
	done_testing
	exit
fi
if ! command -v valgrind >/dev/null; then
	not_ok "valgrind is installed (Debian package valgrind)"
	done_testing
	exit
fi

valgrind --error-exitcode=99 --track-origins=yes "$prog" >"$TMP/ct.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^# secrets marked undefined under valgrind' "$TMP/ct.log" &&
	grep -q 'ERROR SUMMARY: 0 errors' "$TMP/ct.log" &&
	grep -q '^# kernel generic: checked' "$TMP/ct.log"; then
	ok "split and combine under valgrind with secrets marked: 0 errors"
	grep '^# kernel .*checked' "$TMP/ct.log" | sed 's/^# /# ran /'
else
	not_ok "split and combine under valgrind with secrets marked (exit $rc)"
	grep -E 'uninitialised|^==[0-9]+==    (at|by)|not ok|FAILED' "$TMP/ct.log" | head -30 | sed 's/^/# /'
fi

valgrind --error-exitcode=99 "$prog" --canary >"$TMP/canary.log" 2>&1
rc=$?
if [ "$rc" -eq 99 ] && grep -q 'uninitialised' "$TMP/canary.log"; then
	ok "valgrind catches the canary's secret-dependent lookup"
else
	not_ok "valgrind catches the canary's secret-dependent lookup (exit $rc)"
	head -20 "$TMP/canary.log" | sed 's/^/# /'
fi
done_testing
