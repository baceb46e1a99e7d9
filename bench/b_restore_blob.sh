#!/usr/bin/env bash
# restore-blob end to end, ours against az's, on the same inputs in the same
# run: a security domain of 5 certificates with quorum 3 (made by sdforge,
# items of a real file's size), 3 keys, for RSA-2048 and RSA-4096 wrapping
# keys.  Keys are unencrypted PEM as the service's quickstart makes them, so
# the time is the recovery's, not a password KDF's.  Both blobs are opened by
# blobopen afterwards, so a fast wrong answer cannot pass.
#
#   BUILD=build bench/b_restore_blob.sh      (make bench runs it)
# Environment: RUNS_OURS (default 30), RUNS_AZ (default 5).
set -euo pipefail
BUILD=${BUILD:-build}
SDC="$PWD/$BUILD/sdceremony"
TOOLS="$PWD/$BUILD/tests/tools"
RUNS_OURS=${RUNS_OURS:-30}
RUNS_AZ=${RUNS_AZ:-5}
for t in hyperfine az openssl python3; do
	command -v "$t" >/dev/null || { echo "b_restore_blob: $t is not installed" >&2; exit 1; }
done
for t in "$SDC" "$TOOLS/sdforge" "$TOOLS/blobopen"; do
	[ -x "$t" ] || { echo "b_restore_blob: build $t first (make bench)" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export AZURE_CONFIG_DIR="$tmp/az" AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_ONLY_SHOW_ERRORS=1

openssl req -newkey rsa:2048 -nodes -keyout "$tmp/exchange.key" -x509 -days 30 \
	-subj /CN=exchange -out "$tmp/exchange.cer" 2>/dev/null
for bits in 2048 4096; do
	d="$tmp/rsa$bits"
	mkdir -p "$d"
	for i in 0 1 2 3 4; do
		openssl req -newkey rsa:$bits -nodes -keyout "$d/cert_$i.key" -x509 -days 365 \
			-subj "/CN=custodian $i" -out "$d/cert_$i.cer" 2>/dev/null
	done
	"$TOOLS/sdforge" --certs "$d"/cert_{0,1,2,3,4}.cer --required 3 --shuffle \
		--out "$d/sd.json" --items-out "$d/items.json"
	keys=("$d/cert_4.key" "$d/cert_2.key" "$d/cert_0.key")
	ours="$SDC restore-blob --sd-file $d/sd.json --sd-exchange-key $tmp/exchange.cer"
	ours+=" --sd-wrapping-keys ${keys[*]} --sd-file-restore-blob $d/ours.blob --force"
	azc="az keyvault security-domain restore-blob --sd-file $d/sd.json"
	azc+=" --sd-exchange-key $tmp/exchange.cer --sd-wrapping-keys ${keys[*]}"
	azc+=" --sd-file-restore-blob $d/az.blob"
	hyperfine -N --style basic --warmup 2 --runs "$RUNS_OURS" --export-json "$d/ours.json" \
		-n "sdceremony RSA-$bits" "$ours" >"$d/ours.log" 2>&1 \
		|| { cat "$d/ours.log"; exit 1; }
	hyperfine -N --style basic --warmup 1 --runs "$RUNS_AZ" --export-json "$d/az.json" \
		-n "az RSA-$bits" "$azc" >"$d/az.log" 2>&1 || { cat "$d/az.log"; exit 1; }
	for who in ours az; do
		"$TOOLS/blobopen" --blob "$d/$who.blob" --exchange-key-private "$tmp/exchange.key" \
			--exchange-cert "$tmp/exchange.cer" --expect "$d/items.json" >/dev/null
	done
done

python3 - "$tmp" <<'EOF'
import json, sys
t = sys.argv[1]
print("restore-blob, 3 of 5 keys, end to end (hyperfine): wall time mean +- sd; CPU = user + sys")
print(f"{'wrapping keys':<13} {'sdceremony wall':>18} {'CPU':>8} {'az 2.45 wall':>19} {'CPU':>8}"
      f" {'speed-up':>8}")
for bits in (2048, 4096):
    r = {w: json.load(open(f"{t}/rsa{bits}/{w}.json"))["results"][0] for w in ("ours", "az")}
    wall = lambda x: f"{x['mean'] * 1000:7.1f} +- {x['stddev'] * 1000:5.1f} ms"
    cpu = lambda x: f"{(x['user'] + x['system']) * 1000:5.0f} ms"
    print(f"{'RSA-' + str(bits):<13} {wall(r['ours']):>18} {cpu(r['ours']):>8} "
          f"{wall(r['az']):>19} {cpu(r['az']):>8} {r['az']['mean'] / r['ours']['mean']:7.0f}x")
EOF
