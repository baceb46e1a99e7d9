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

# ---- the tests that type secrets (t_wizard_slips, _rekey, _token) ----

# wiz_session: the tmux session's defaults and clean-up, and tmux itself
# (Debian package tmux) present, or the test fails.
wiz_session() {
	WAIT=${SDC_WIZ_WAIT:-30}
	sanitized && WAIT=120
	trap 'tmux -S "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP"' EXIT
	if ! command -v tmux >/dev/null; then
		not_ok "tmux is installed (Debian package tmux; needed by this test)"
		done_testing
		exit 1
	fi
}

# Every snapshot goes to SCREENS; one that shows a dialog (a question that
# could take the next keys) over a key-file, passphrase or PIN prompt is
# also kept in DIALOG_AT_PROMPT.
SCREENS="$TMP/screens"
DIALOG_AT_PROMPT="$TMP/dialog-at-prompt"
: >"$SCREENS"
: >"$DIALOG_AT_PROMPT"
snap() {
	sleep 0.2
	pane >"$TMP/snap" 2>/dev/null || return 0
	cat "$TMP/snap" >>"$SCREENS"
	if grep -qE -- 'Your key file|Your passphrase|Token PIN|^ +Passphrase( again)? ' "$TMP/snap" &&
		grep -qE -- '\[Enter\] OK|\[y\] yes' "$TMP/snap"; then
		cat "$TMP/snap" >>"$DIALOG_AT_PROMPT"
	fi
}
# k KEY...: keys, then a snapshot; shot NAME REGEX: a snapshot, then screen.
k() { keys "$@"; snap; }
shot() { snap; screen "$@"; }
# f TEXT: field, then a snapshot.
f() { field "$1"; snap; }

# never_shown TRANSCRIPT SECRET...: no four consecutive characters of any
# SECRET on any captured screen or in TRANSCRIPT, and no dialog was open at
# a secret's prompt (the last two checks of these tests).
never_shown() {
	local t=$1 p frag i leaks=0
	shift
	check "$(grep -c . "$SCREENS") screen lines captured" test -s "$SCREENS"
	for p in "$@"; do
		for ((i = 0; i + 4 <= ${#p}; i++)); do
			frag=${p:i:4}
			if grep -qF -- "$frag" "$SCREENS" "$t"; then
				leaks=$((leaks + 1))
				diag "characters '$frag' of a secret shown: $(grep -lF -- "$frag" "$SCREENS" "$t" | tr '\n' ' ')"
			fi
		done
	done
	check "no four characters of any secret typed on any screen or in the transcript" \
		test "$leaks" = 0
	check "no dialog was open at a key-file, passphrase or PIN prompt" test ! -s "$DIALOG_AT_PROMPT"
}
