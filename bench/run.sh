#!/usr/bin/env bash
# `make bench`: runs every benchmark program ($BUILD/bench/bench_*) and then
# every benchmark script (bench/b_*.sh), one after the other, each under a
# heading.  A failing benchmark is reported and the others still run; the
# exit status is non-zero if any failed.  Results are recorded by hand in
# docs/benchmarks.md.
set -u
BUILD=${BUILD:-build}
export BUILD
failed=()

run() {
	local name=$1; shift
	echo "== $name"
	if ! "$@"; then
		echo "== $name: FAILED (exit $?)"
		failed+=("$name")
	fi
	echo
}

for b in "$BUILD"/bench/bench_*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	case "$b" in *.d|*.o) continue;; esac
	run "$(basename "$b")" "$b"
done
for s in bench/b_*.sh; do
	[ -f "$s" ] || continue
	run "$(basename "$s" .sh)" bash "$s"
done

if [ "${#failed[@]}" -ne 0 ]; then
	echo "benchmarks failed: ${failed[*]}"
	exit 1
fi
