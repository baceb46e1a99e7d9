#!/usr/bin/env bash
# Short libFuzzer runs (clang, ASan + UBSan) of the recovery parsers:
# security-domain files, compact JWEs, exchange keys.  Seeds come from the
# committed vectors.  FUZZ_SECONDS (default 8) per harness; a crash, leak or
# sanitizer report fails the test and leaves the input in the log.
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

SECS=${FUZZ_SECONDS:-8}
F="$TMP/fuzz"
mkdir -p "$F"
srcs=(ceremony/cer.c ceremony/secmem.c ceremony/codec.c ceremony/io.c ceremony/crypto.c ceremony/keys.c
      ceremony/sd.c ceremony/recovery.c ceremony/report.c sss/*.c)
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined $(pkg-config --cflags libcrypto libsodium jansson))
libs=($(pkg-config --libs libcrypto libsodium jansson))

# seeds HARNESS: a corpus directory from the vectors.
seeds() {
	local d="$F/corpus_$1" i=0 f
	mkdir -p "$d"
	case $1 in
	sd)
		for f in "$VEC"/sd/*.json "$VEC"/sd/*.txt "$VEC"/bad/*.json; do
			case $f in *.items.json) continue;; esac
			cp "$f" "$d/$(basename "$f")"
		done ;;
	jwe)
		python3 - "$VEC/sd/q2_n3.json" "$VEC/sd/rsa15_q3_n5.json" "$d" <<'EOF'
import json, sys
out = sys.argv[-1]
n = 0
for path in sys.argv[1:-1]:
    doc = json.load(open(path))
    for it in doc["EncData"]["data"]:
        open(f"{out}/item{n}", "w").write(it["compact_jwe"][:2000]); n += 1
    for sh in doc["SharedKeys"]["enc_shares"]:
        open(f"{out}/share{n}", "w").write(sh["enc_key"]); n += 1
EOF
		;;
	exchange)
		cp "$VEC"/sd/exchange/exchange.{cer,der,jwk} "$VEC"/sd/exchange/exchange_rest.json \
			"$VEC"/bad/exchange_* "$d/" ;;
	esac
}

for h in sd jwe exchange; do
	if ! clang "${flags[@]}" -o "$F/fuzz_$h" "tests/fuzz/fuzz_$h.c" "${srcs[@]}" "${libs[@]}" \
		>"$F/build_$h.log" 2>&1; then
		not_ok "fuzz_$h builds"; sed 's/^/# /' "$F/build_$h.log" | head -20
		continue
	fi
	ok "fuzz_$h builds"
	seeds "$h"
	if (cd "$F" && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$h" -max_total_time="$SECS" \
		-max_len=65536 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		"corpus_$h" >"run_$h.log" 2>&1); then
		ok "fuzz_$h: ${SECS}s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
			"$F/run_$h.log" | grep -o '[0-9]*$') runs, no finding"
	else
		not_ok "fuzz_$h found something"
		grep -E "ERROR|SUMMARY|Test unit written|#0 |#1 |#2 |#3 " "$F/run_$h.log" | head -20 |
			sed 's/^/# /'
	fi
done
done_testing
