#!/usr/bin/env bash
# `make fuzz-run`: runs every built harness ($FUZZ_BUILD/fuzz_*) in turn for
# FUZZ_SECONDS each, on a corpus in $FUZZ_BUILD/corpus/<name> seeded from
# tests/vectors (kept between runs, so a later run starts where the last one
# stopped).  Prints libFuzzer's final line and a summary per harness; a
# crash, leak, timeout or sanitizer report fails the run, and the input
# libFuzzer saved is named ($FUZZ_BUILD/crash-* etc.).
#   FUZZ_HARNESSES="sd qr"  runs only those.  FUZZ_FLAGS adds libFuzzer flags.
#   FUZZ_TIMEOUT (default 10) seconds for one input; raise it for long runs at
#   nice 19 on a busy machine, where a starved process can pass 10 s unfairly.
set -u
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
top=$PWD
vec=$top/tests/vectors
failed=()

# seeds NAME DIR: the committed vectors that fit the harness NAME.
seeds() {
	local name=$1 d=$2 f
	case $name in
	sd)
		for f in "$vec"/sd/*.json "$vec"/sd/*.txt "$vec"/bad/*.json; do
			case $f in *.items.json) continue;; esac
			cp "$f" "$d/"
		done ;;
	jwe)
		python3 - "$vec/sd/q2_n3.json" "$vec/sd/rsa15_q3_n5.json" "$d" <<'PY'
import json, sys
out, n = sys.argv[-1], 0
for path in sys.argv[1:-1]:
    doc = json.load(open(path))
    for it in doc["EncData"]["data"]:
        open(f"{out}/item{n}", "w").write(it["compact_jwe"][:2000]); n += 1
    for sh in doc["SharedKeys"]["enc_shares"]:
        open(f"{out}/share{n}", "w").write(sh["enc_key"]); n += 1
PY
		;;
	exchange)
		cp "$vec"/sd/exchange/exchange.{cer,der,jwk} "$vec"/sd/exchange/exchange_rest.json \
			"$vec"/bad/exchange_* "$vec"/real-service/transfer-key-2025*.json \
			"$vec"/real-service/exchange-2020.pem "$vec"/attest/*.pem "$d/" ;;
	attest)
		cp "$vec"/attest/evidence_2025.bin "$d/"
		for f in "$vec"/attest/synthetic/*.bin; do cp "$f" "$d/synthetic_${f##*/}"; done ;;
	privkey)
		cp "$vec"/sd/keys/*.key "$vec"/sd/exchange/exchange.key "$vec"/bad/*.key "$d/" ;;
	qr)
		cp "$vec"/qr/*.parts "$d/" ;;
	qr_inflate)
		# Two bytes of declared length, then the zlib stream, as SDC2 parts carry it.
		python3 - "$d" "$vec"/sd/q2_n3.json "$vec"/sd/exchange/exchange.cer \
			"$vec"/real-service/cert_0.cer "$vec"/qr/*.parts <<'PY'
import sys, zlib
out = sys.argv[1]
for n, path in enumerate(sys.argv[2:]):
    data = open(path, "rb").read()[:65535]
    open(f"{out}/z{n}", "wb").write(len(data).to_bytes(2, "big") + zlib.compress(data, 9))
PY
		;;
	base45)
		sed 's/^SDC1:[0-9]*\/[0-9]*:[0-9A-F]*://; s/:[0-9A-F]*$//' "$vec"/qr/*.parts |
			split -l 1 - "$d/b45_" ;;
	*)
		# A harness without its own seeds starts from every vector, each
		# named by its path (several directories hold a make.sh).
		find "$vec" -type f -size -64k -print0 | while IFS= read -r -d '' f; do
			rel=${f#"$vec"/}
			cp "$f" "$d/${rel//\//_}"
		done ;;
	esac
	# A seed that once crashed a harness is kept as a regression vector.
	if [ -d "$vec/fuzz/$name" ]; then cp "$vec/fuzz/$name"/* "$d/"; fi
	return 0
}

shopt -s nullglob
for bin in "$FUZZ_BUILD"/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	name=${bin##*/fuzz_}
	if [ -n "${FUZZ_HARNESSES:-}" ] && [[ " $FUZZ_HARNESSES " != *" $name "* ]]; then
		continue
	fi
	corpus="$FUZZ_BUILD/corpus/$name"
	log="$FUZZ_BUILD/run_$name.log"
	mkdir -p "$corpus"
	seeds "$name" "$corpus"
	echo "== fuzz_$name: ${FUZZ_SECONDS}s"
	# libFuzzer writes crash-*/leak-*/timeout-* into the directory it runs in.
	if (cd "$FUZZ_BUILD" && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		"./fuzz_$name" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout="$FUZZ_TIMEOUT" \
		-rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_FLAGS:-} "corpus/$name") >"$log" 2>&1
	then
		final=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1)
		execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
		echo "   ok: $execs execs; $final"
	else
		failed+=("$name")
		echo "   FAILED (log: $log)"
		grep -E 'ERROR|SUMMARY|Test unit written|^ +#[0-9] ' "$log" | head -20 | sed 's/^/   /'
	fi
done
if [ "${#failed[@]}" -ne 0 ]; then
	echo "fuzz-run: findings in ${failed[*]}"
	exit 1
fi
