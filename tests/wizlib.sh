# Driving the wizard through tmux, for tests/t_wizard*.sh (after tests/lib.sh).
# The caller sets SOCK (the tmux socket), PANE (the session), TMP and WAIT.

tm() { tmux -S "$SOCK" "$@"; }
pane() { tm capture-pane -p -t "$PANE"; }
keys() { tm send-keys -t "$PANE" "$@"; }
text() { tm send-keys -t "$PANE" -l -- "$1"; }

# wait_for REGEX: polls the pane until REGEX shows (or WAIT seconds pass).
wait_for() {
	local i
	for ((i = 0; i < WAIT * 10; i++)); do
		pane >"$TMP/pane" 2>/dev/null
		grep -qE -- "$1" "$TMP/pane" && return 0
		sleep 0.1
	done
	return 1
}

# screen NAME REGEX: passes when REGEX shows; otherwise fails, shows the
# pane and stops the test (the later steps depend on this one).
screen() {
	if wait_for "$2"; then ok "$1"; return; fi
	not_ok "$1 (waited ${WAIT}s for /$2/)"
	sed 's/^/# | /' "$TMP/pane"
	done_testing
	exit 1
}

# field TEXT: replaces the focused field's text, then Enter.
field() { keys C-u; text "$1"; keys Enter; }
