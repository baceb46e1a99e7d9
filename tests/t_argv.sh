#!/usr/bin/env bash
# --passwords on the command line: every value is copied to secret memory
# and wiped from argv while the options are parsed, before the first key is
# touched.  The process is caught waiting at the terminal prompt for the
# FIRST key (its password given empty), and /proc/PID/cmdline must already
# lack the password given for the second key.
. tests/lib.sh

SD="$VEC/sd"
KEYS="$SD/keys"
P3=$(head -n1 "$KEYS/cert_3.pass")
if ! command -v script >/dev/null || ! command -v pgrep >/dev/null; then
	skip "argv wipe" "script(1) or pgrep missing"
	done_testing; exit
fi
check "the password is in the test's own command line (sanity)" test -n "$P3"
(sleep 20) | script -qfec "exec $(printf '%q ' "$SDC" verify --sd-file "$SD/q2_n3.json" \
	--sd-wrapping-keys "$KEYS/cert_2.key" "$KEYS/cert_3.key" --passwords '' "$P3")" \
	"$TMP/typescript" >/dev/null 2>&1 &
spid=$!
pid=""
for _ in $(seq 1 200); do
	if grep -qF -- "Password for key" "$TMP/typescript" 2>/dev/null; then
		pid=$(pgrep -n -x sdceremony -P "$(pgrep -n -x script -P "$$" || echo 0)" || true)
		[ -z "$pid" ] && pid=$(pgrep -n -x sdceremony -s 0 || true)
		[ -n "$pid" ] && break
	fi
	sleep 0.05
done
if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$TMP/cmdline"
	check "waiting at the first key's prompt: argv still names the keys" \
		grep -qF -- "$KEYS/cert_3.key" "$TMP/cmdline"
	check "waiting at the first key's prompt: the second key's password is gone from argv" \
		bash -c '! grep -qF -- "$0" "$1"' "$P3" "$TMP/cmdline"
	kill "$pid" 2>/dev/null
else
	not_ok "caught the process at its password prompt"
	sed 's/^/# /' "$TMP/typescript" 2>/dev/null | head -5
fi
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
done_testing
