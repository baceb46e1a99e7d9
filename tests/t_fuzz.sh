#!/usr/bin/env bash
# Short libFuzzer runs (clang, ASan + UBSan) of every parser harness that
# `make fuzz` builds (tests/fuzz/fuzz_*.c), each on its corpus seeded from
# the committed vectors, through `make fuzz-run`.  FUZZ_SECONDS (default 8)
# per harness; a crash, leak, timeout or sanitizer report fails the test and
# the log names the saved input.
. tests/lib.sh

if sanitized; then
	skip "fuzzing" "the harnesses are sanitizer builds already; run once, in the plain pass"
	done_testing
	exit
fi
if ! command -v clang >/dev/null; then
	not_ok "clang is needed for the fuzz harnesses (make deps installs it)"
	done_testing
	exit
fi

FB="$TMP/fuzz"
if make --no-print-directory FUZZ_BUILD="$FB" fuzz >"$TMP/build.log" 2>&1; then
	ok "make fuzz builds every harness"
else
	not_ok "make fuzz builds every harness"; sed 's/^/# /' "$TMP/build.log" | tail -20
	done_testing
	exit
fi
for src in tests/fuzz/fuzz_*.c; do
	h=$(basename "$src" .c)
	h=${h#fuzz_}
	if [ -x "$FB/fuzz_$h" ]; then ok "fuzz_$h built"; else not_ok "fuzz_$h built"; fi
done

make --no-print-directory FUZZ_BUILD="$FB" FUZZ_SECONDS="${FUZZ_SECONDS:-8}" fuzz-run \
	>"$TMP/run.log" 2>&1
for src in tests/fuzz/fuzz_*.c; do
	h=$(basename "$src" .c)
	h=${h#fuzz_}
	if grep -A1 -F -- "== fuzz_$h:" "$TMP/run.log" | grep -q -F -- "   ok: "; then
		ok "fuzz_$h: $(grep -A1 -F -- "== fuzz_$h:" "$TMP/run.log" | tail -1 | sed "s/^   ok: //" | cut -c1-70)"
	else
		not_ok "fuzz_$h found something"
		sed -n "/== fuzz_$h:/,/^==/p" "$TMP/run.log" | head -20 | sed 's/^/# /'
	fi
done
done_testing
