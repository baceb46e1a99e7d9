#!/usr/bin/env bash
# keygen: wall time for 10 RSA-3072 custodian keys, against 10 sequential
# `openssl req -newkey rsa:3072 -nodes -x509` runs (the service quickstart's
# way) in the same run.  RSA key generation time varies a lot from key to key,
# so the commands are interleaved round by round (a busy neighbour hurts all
# of them alike) and the table gives mean, median and the ratio of means.
#
#   BUILD=build bench/b_keygen.sh      (make bench runs it)
# Environment: RUNS (rounds, default 7), BITS (default 3072), COUNT (default 10).
set -euo pipefail
BUILD=${BUILD:-build}
SDC="$PWD/$BUILD/sdceremony"
RUNS=${RUNS:-7}
BITS=${BITS:-3072}
COUNT=${COUNT:-10}
for t in openssl python3; do
	command -v "$t" >/dev/null || { echo "b_keygen: $t is not installed" >&2; exit 1; }
done
[ -x "$SDC" ] || { echo "b_keygen: build $SDC first (make bench)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sdc-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 0 $((COUNT - 1))); do printf 'bench custodian %02d passphrase\n' "$i" >"$tmp/p$i"; done

python3 - "$SDC" "$tmp" "$RUNS" "$BITS" "$COUNT" "$(nproc)" <<'EOF'
import os, resource, shutil, statistics, subprocess, sys, time
sdc, tmp, runs, bits, count, cpus = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]
pfiles = [f"{tmp}/p{i}" for i in range(count)]

def keygen(*extra):
    out = f"{tmp}/set"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([sdc, "keygen", "-n", str(count), "-q", "3", "-o", out, "-b", bits, *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert len(os.listdir(out)) == 2 * count + 2

def openssl_quickstart():
    for i in range(count):
        subprocess.run(["openssl", "req", "-newkey", f"rsa:{bits}", "-nodes", "-keyout",
                        f"{tmp}/o{i}.key", "-x509", "-days", "365", "-subj", f"/CN=custodian {i}",
                        "-out", f"{tmp}/o{i}.cer"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

cases = [
    ("openssl req x%d, sequential" % count, openssl_quickstart),
    ("sdceremony keygen, passphrases", lambda: keygen("--passphrase-file", *pfiles)),
    ("sdceremony keygen --no-passphrase", lambda: keygen("--no-passphrase")),
    ("sdceremony keygen, 1 thread, passphrases", lambda: keygen("--threads", "1", "--passphrase-file", *pfiles)),
]
def cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime

times = {name: [] for name, _ in cases}
cpus_used = {name: [] for name, _ in cases}
for r in range(runs):
    for name, fn in cases:
        c0, t0 = cpu(), time.monotonic()
        fn()
        times[name].append(time.monotonic() - t0)
        cpus_used[name].append(cpu() - c0)

base = statistics.mean(times[cases[0][0]])
cbase = statistics.mean(cpus_used[cases[0][0]])
print(f"keygen: {count} RSA-{bits} keys, {runs} interleaved rounds, {cpus} CPUs, load {os.getloadavg()[0]:.1f}")
print(f"{'':<42} {'wall time, s':^34} {'CPU time, s':^14}")
print(f"{'command':<42} {'mean':>6} {'median':>7} {'min':>6} {'max':>6} {'ratio':>6} {'mean':>7} {'ratio':>6}")
for name, _ in cases:
    t, c = times[name], cpus_used[name]
    print(f"{name:<42} {statistics.mean(t):6.2f} {statistics.median(t):7.2f} {min(t):6.2f} "
          f"{max(t):6.2f} {statistics.mean(t) / base:6.2f} {statistics.mean(c):7.2f} "
          f"{statistics.mean(c) / cbase:6.2f}")
print("ratio = mean / openssl's mean; target: keygen with passphrases, wall time <= 0.60")
EOF
