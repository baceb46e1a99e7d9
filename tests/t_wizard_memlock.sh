#!/usr/bin/env bash
# The wizard when memory cannot be locked, through a real terminal (tmux):
# as a user with Debian's default 8 MiB lock limit, the start screen says so
# plainly; going on asks for a confirmation, which n refuses (back to the
# start screen, nothing accepted in the transcript) and y gives (the menu,
# and the transcript records the warning and the acceptance).  With
# --allow-unlocked-memory the flag is the acceptance: no question, the
# transcript records it all the same.  As root (locked), none of this.
# Needs root to run the wizard as another user (setpriv, prlimit).
. tests/lib.sh

SOCK="$TMP/tmux.sock"
WAIT=${SDC_WIZ_WAIT:-30}

if sanitized; then
	skip "wizard with unlocked memory" "the sanitizer build is exempt from mlockall"
	done_testing; exit
fi
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
	skip "wizard with unlocked memory" "needs root, setpriv and prlimit"
	done_testing; exit
fi
if ! command -v tmux >/dev/null; then
	not_ok "tmux is installed (Debian package tmux; needed by this test)"
	done_testing; exit 1
fi

trap 'tmux -S "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT

# The user's copy of the binary, and a directory it may write its transcripts in.
cp "$SDC" "$TMP/sdc" && chmod 755 "$TMP/sdc"
mkdir -m 777 "$TMP/w"
chmod a+rx "$TMP"

tm() { tmux -S "$SOCK" "$@"; }

# start NAME COMMAND: a tmux session NAME running COMMAND (a shell line),
# which prints "wizard exited STATUS" when the wizard ends.
start() {
	tm new-session -d -s "$1" -x 100 -y 30 -c "$TMP/w" \
		"$2; echo \"wizard exited \$?\"; sleep 600"
}
# as_user ARGS...: the shell words running the wizard's binary as nobody
# with an 8 MiB locked-memory limit.
as_user() {
	printf 'prlimit --memlock=8388608:8388608 setpriv --reuid=65534 --regid=65534 '
	printf -- '--clear-groups env HOME=%q LANG=C.UTF-8 TERM=screen %q' "$TMP/w" "$TMP/sdc"
	printf ' %q' "$@"
}

# wait_for PANE REGEX: polls PANE until REGEX shows (or WAIT seconds pass).
wait_for() {
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		tm capture-pane -p -t "$1" >"$TMP/pane" 2>/dev/null
		grep -qE -- "$2" "$TMP/pane" && return 0
		sleep 0.1
	done
	return 1
}
# screen PANE NAME REGEX: passes when REGEX shows on PANE; otherwise fails,
# shows the pane and stops (later steps depend on this one).
screen() {
	if wait_for "$1" "$3"; then ok "$2"; return; fi
	not_ok "$2 (waited ${WAIT}s for /$3/)"
	sed 's/^/# | /' "$TMP/pane"
	done_testing
	exit 1
}
# past_airgap PANE: after Enter on the start screen, confirms the air-gap
# warning if this machine has a network (it has nothing to do with memory).
past_airgap() {
	wait_for "$1" "not air-gapped|memory not locked|What are we doing" || true
	if grep -qF -- "not air-gapped" "$TMP/pane"; then tm send-keys -t "$1" y; fi
}

LIMIT='memory cannot be locked: the locked-memory limit \(ulimit -l\) is 8192 KiB'

# ---- an 8 MiB limit: the question, refused then accepted ----
T1="$TMP/w/t1.txt"
start lim "$(as_user wizard --transcript "$T1")"
screen lim "8 MiB limit: the start screen says memory cannot be locked, and why" \
	"WARNING: $LIMIT"
tm send-keys -t lim Enter
past_airgap lim
screen lim "going on asks to confirm unlocked memory" "WARNING: memory not locked"
check "... saying what it risks" grep -qF -- "may be written to swap" "$TMP/pane"
check "... and what to do instead" grep -qF -- "ulimit -l" "$TMP/pane"
tm send-keys -t lim n
screen lim "n: back to the start screen" "Compare the binary's SHA-256"
check "n: the menu is not reached" bash -c '! grep -qF -- "What are we doing" "$0"' "$TMP/pane"
check "n: the transcript records no acceptance" \
	bash -c '! grep -qF -- "accepted unlocked memory" "$0" 2>/dev/null' "$T1"
tm send-keys -t lim Enter
screen lim "Enter again asks again" "WARNING: memory not locked"
tm send-keys -t lim y
screen lim "y: the menu" "What are we doing"
check "the transcript records the warning and the operator's acceptance" grep -qE -- \
	"memory: WARNING $LIMIT.*; operator accepted unlocked memory" "$T1"
check "... once" test "$(grep -cF -- "operator accepted unlocked memory" "$T1")" -eq 1
pid=$(pgrep -f -n -- "$TMP/sdc wizard --transcript $T1" || true)
if [ -n "$pid" ]; then
	# Not locked as a whole: what is locked (a guarded buffer or two, if
	# any) is a small part of what it has in memory.
	check "the wizard really runs unlocked (VmLck far below VmRSS)" awk \
		'/^VmLck:/ { l = $2 } /^VmRSS:/ { r = $2 } END { exit !(r > 0 && l * 4 < r) }' \
		"/proc/$pid/status"
else
	not_ok "the wizard's process is found"
fi
tm send-keys -t lim q
screen lim "the wizard quits with status 0" "wizard exited 0"

# ---- --allow-unlocked-memory: the flag is the acceptance ----
T2="$TMP/w/t2.txt"
start flag "$(as_user --allow-unlocked-memory wizard --transcript "$T2")"
screen flag "--allow-unlocked-memory: the start screen still warns" "WARNING: $LIMIT"
tm send-keys -t flag Enter
past_airgap flag
screen flag "--allow-unlocked-memory: no question, the menu" "What are we doing"
check "--allow-unlocked-memory: the transcript records the warning and the acceptance" \
	grep -qE -- "memory: WARNING $LIMIT.*; operator accepted unlocked memory" "$T2"
tm send-keys -t flag q
screen flag "--allow-unlocked-memory: quits with status 0" "wizard exited 0"

# ---- root: locked, so no warning, no question, nothing in the transcript ----
T3="$TMP/w/t3.txt"
start root "env LANG=C.UTF-8 TERM=screen $(printf '%q' "$SDC") wizard --transcript $(printf '%q' "$T3")"
screen root "root: the start screen" "Compare the binary's SHA-256"
check "root: no memory warning" bash -c '! grep -qF -- "memory cannot be locked" "$0"' "$TMP/pane"
tm send-keys -t root Enter
past_airgap root
screen root "root: the menu without a memory question" "What are we doing"
check "root: the transcript says nothing about memory" \
	bash -c 'grep -qF -- "wizard started" "$0" && ! grep -qF -- "memory:" "$0"' "$T3"
tm send-keys -t root q
screen root "root: quits with status 0" "wizard exited 0"

done_testing
