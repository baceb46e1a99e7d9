#!/usr/bin/env bash
# The documentation cannot drift from the tool: every command line shown in
# README.md and docs/ceremony-guide.md is run or checked here, and the man
# page is checked against the commands' --help.
#
# Convention in the Markdown files (fenced code blocks; the first word of
# the info string is for highlighting, the second says what the test does):
#   ```sh          offline commands: every line starting with "$ " (a line
#                  ending in "\", "|" or "&&" continues on the next) is run,
#                  in order, each by a new bash, in a scratch directory, and
#                  must exit 0.  Other lines are sample output, not compared.
#   ```sh online   commands for the online admin host.  `az` is replaced by a
#                  shell function that checks the command and every --option
#                  against the real `az ... --help`, and plays the HSM:
#                  `security-domain download` makes a security domain for the
#                  given certificates with build/tests/tools/sdforge,
#                  `init-recovery` hands out a test exchange certificate
#                  (CN NAME.managedhsm.azure.net for --hsm-name NAME),
#                  `upload --restore-blob` opens the blob with the exchange
#                  private key (blobopen) and compares every item; the other
#                  az commands are only checked.  Lines without az are run.
#   ```sh by-hand  commands the test cannot run (root, camera, a person at a
#                  prompt): checked with `bash -n`, and for sdceremony lines,
#                  that the command and each --option exist in its --help.
#   ```sh build    README's quick start: each `make TARGET` must be a target
#                  of the Makefile, ./build/sdceremony must run.
# Every document runs in its own scratch directory W with: W/media/{alice,
# bob,carol,dave,transfer} and W/media/carol-new (a fresh medium) standing
# for the mounted media ("/media/" in a command
# becomes "W/media/"), W/pass/{alice,bob,carol,dave} passphrase files (and
# W/pass/NAME-new, a next one for each), the new
# HSM's exchange key from tests/vectors/sd/exchange/, and sdceremony first
# on PATH.
. tests/lib.sh

TOP=$PWD
DOCS=(README.md docs/ceremony-guide.md)
MAN=docs/sdceremony.1
export AZURE_CONFIG_DIR="$TMP/azconfig" AZURE_CORE_COLLECT_TELEMETRY=no
export AZURE_CORE_NO_COLOR=true AZURE_CORE_ONLY_SHOW_ERRORS=true
mkdir -p "$AZURE_CONFIG_DIR" "$TMP/azhelp" "$TMP/bin"
# Private copies, so that a rebuild during the test cannot pull the binaries
# from under it.
if ! cp "$SDC" "$TMP/bin/sdceremony"; then
	not_ok "$SDC is built"
	done_testing
	exit
fi
SDC="$TMP/bin/sdceremony"
mkdir -p "$TMP/tools"
for t in sdforge blobopen; do
	[ -x "$TOOLS/$t" ] && cp "$TOOLS/$t" "$TMP/tools/$t"
done
TOOLS="$TMP/tools"

# extract FILE: one record per command, "LINE<TAB>KIND<TAB>COMMAND".
extract() {
	awk -v OFS='\t' '
	function flush() { if (cmd != "") print start, kind, cmd; cmd = "" }
	{ sub(/\r$/, "") }
	/^[ \t]*```/ {
		flush()
		if (inblock) { inblock = 0; next }
		inblock = 1
		info = $0; sub(/^[ \t]*```[ \t]*/, "", info)
		n = split(info, w, /[ \t]+/)
		if (w[1] != "sh") kind = ""
		else if (n == 1) kind = "run"
		else kind = w[2]
		next
	}
	!inblock || kind == "" { next }
	{
		line = $0; sub(/^[ \t]+/, "", line)
		if (cont) {
			cont = (line ~ /(\\|\||&&)$/)
			sub(/[ \t]*\\$/, "", line)
			cmd = cmd " " line
			if (!cont) flush()
			next
		}
		if (line !~ /^\$ /) next
		line = substr(line, 3)
		start = NR
		cont = (line ~ /(\\|\||&&)$/)
		sub(/[ \t]*\\$/, "", line)
		cmd = line
		if (!cont) flush()
	}
	END { flush() }' "$1"
}

# The --options a command's --help documents, one per line: those on usage
# lines and at the start of option lines (not those quoted in prose).
help_opts() {
	grep -E '^(Usage:|[[:space:]]+(sdceremony|-))' |
		grep -oE -- '--[a-zA-Z][a-zA-Z0-9-]*' | sort -u
}

# check_sdc_options CMDLINE: each sdceremony in CMDLINE names a real command
# and uses only options its --help documents.
check_sdc_options() {
	local words w sub="" insdc=0 bad=""
	read -r -a words <<<"$1"
	for w in "${words[@]}"; do
		case $w in
		sdceremony|*/sdceremony) insdc=1; sub=""; continue ;;
		'|'|'&&'|';'|'||') insdc=0; continue ;;
		esac
		[ "$insdc" = 1 ] || continue
		if [ -z "$sub" ]; then
			sub=$w
			"$SDC" "$sub" --help >"$TMP/.help" 2>&1 ||
				bad="$bad command '$sub' has no --help;"
			continue
		fi
		case $w in
		--*=*) w=${w%%=*} ;;
		--*) ;;
		*) continue ;;
		esac
		grep -qE -- "(^|[^a-zA-Z0-9-])$w([^a-zA-Z0-9-]|$)" "$TMP/.help" ||
			bad="$bad '$sub' has no option $w;"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# The environment every documented command runs in (sourced by bash -c).
cat >"$TMP/prelude.sh" <<'EOF'
az() {
	local a path=() flags=() key
	for a in "$@"; do
		case $a in -*) break ;; esac
		path+=("$a")
	done
	for a in "$@"; do
		case $a in --*) flags+=("${a%%=*}") ;; esac
	done
	key=$(IFS=_; echo "${path[*]}")
	if [ ! -s "$AZHELP/$key" ]; then
		command -v az >/dev/null || { echo "az: the Azure CLI is not installed" >&2; return 127; }
		local try rc
		for try in 1 2 3; do
			command az "${path[@]}" --help >"$AZHELP/$key.tmp" 2>&1
			rc=$?
			[ "$rc" = 0 ] && grep -q '^Arguments\|^Command' "$AZHELP/$key.tmp" && break
			echo "az ${path[*]} --help: exit $rc (try $try)" >&2
			sed 's/^/  /' "$AZHELP/$key.tmp" | head -5 >&2
		done
		[ "$rc" = 0 ] || return 2
		mv "$AZHELP/$key.tmp" "$AZHELP/$key"
	fi
	for a in "${flags[@]}"; do
		grep -qE -- "(^|[[:space:]])$a([[:space:]]|$)" "$AZHELP/$key" ||
			{ echo "az ${path[*]}: no option $a" >&2; return 2; }
	done
	local opt="" certs=() q="" out="" ex="" sd="" blob=0 hsm=""
	for a in "$@"; do
		case $a in
		--sd-wrapping-keys|--sd-quorum|--security-domain-file|--sd-exchange-key|--sd-file|--hsm-name)
			opt=$a; continue ;;
		--restore-blob) blob=1; opt=""; continue ;;
		--*) opt=""; continue ;;
		esac
		case $opt in
		--sd-wrapping-keys) certs+=("$a") ;;
		--sd-quorum) q=$a ;;
		--security-domain-file) out=$a ;;
		--sd-exchange-key) ex=$a ;;
		--sd-file) sd=$a ;;
		--hsm-name) hsm=$a ;;
		esac
	done
	case "${path[*]}" in
	"keyvault security-domain download")
		[ ! -e "$out" ] || { echo "az: $out exists" >&2; return 1; }
		# What goes online holds no private key: keys leave the certificates' directory first.
		local c k
		for c in "${certs[@]}"; do
			for k in "$(dirname "$c")"/*.key "$(dirname "$c")"/*.pfx "$(dirname "$c")"/*.p12; do
				[ ! -e "$k" ] || { echo "az: $k is a private key beside the certificates" \
					"taken online" >&2; return 1; }
			done
		done
		"$TOOLS/sdforge" --certs "${certs[@]}" --required "$q" --out "$out" \
			--items-out "$HSM/items.json" ;;
	"keyvault security-domain init-recovery")
		[ ! -e "$ex" ] || { echo "az: $ex exists" >&2; return 1; }
		# As the service does: a certificate for the HSM's host name.
		openssl req -new -x509 -key "$HSM/exchange.key" -subj "/CN=$hsm.managedhsm.azure.net" \
			-days 30 -out "$HSM/exchange.cer" 2>/dev/null && cp "$HSM/exchange.cer" "$ex" ;;
	"keyvault security-domain upload")
		[ "$blob" = 1 ] || return 0
		"$TOOLS/blobopen" --blob "$sd" --exchange-key-private "$HSM/exchange.key" \
			--exchange-cert "$HSM/exchange.cer" --expect "$HSM/items.json" ;;
	esac
}
EOF

# setup_scratch W: the scratch directory a document's commands run in.
setup_scratch() {
	local w=$1 who
	mkdir -p "$w/media/transfer" "$w/media/carol-new" "$w/pass" "$w/.hsm"
	for who in alice bob carol dave; do
		mkdir -p "$w/media/$who"
		printf '%s\n' "$who's drill passphrase 4 test" >"$w/pass/$who"
		printf '%s\n' "$who's next passphrase 4 test" >"$w/pass/$who-new"
	done
	chmod 700 "$w/pass"
	chmod 600 "$w/pass/"*
	cp "$VEC/sd/exchange/exchange.cer" "$VEC/sd/exchange/exchange.key" "$w/.hsm/"
}

# run_cmd W KIND CMD: runs one documented command in W.  No controlling
# terminal (setsid) and stdin from /dev/null: nothing may prompt.
run_cmd() {
	local w=$1 kind=$2 cmd=$3
	local from=/media/ to="$w/media/"
	cmd=${cmd//"$from"/"$to"}
	( cd "$w" && AZHELP="$TMP/azhelp" HSM="$w/.hsm" TOOLS="$TOOLS" \
		PATH="$TMP/bin:$PATH" timeout 300 setsid -w bash -c \
		". \"\$0\"; set -o pipefail; $cmd" "$TMP/prelude.sh" </dev/null )
}

for t in sdforge blobopen; do
	[ -x "$TOOLS/$t" ] || { not_ok "$TOOLS/$t is built (make check builds it)"; done_testing; exit 1; }
done

# The passphrase files the examples read are explained before the first one.
first_use=$(grep -nF -- "--passphrase-file pass/" README.md | head -1 | cut -d: -f1)
for rule in "umask 077" "12 characters" "all different"; do
	told=$(grep -nF -- "$rule" README.md | head -1 | cut -d: -f1)
	if [ -n "$first_use" ] && [ -n "$told" ] && [ "$told" -lt "$first_use" ]; then
		ok "README: '$rule' said before the first passphrase file is used"
	else
		not_ok "README: '$rule' said before the first passphrase file is used (line ${told:-none}, used at ${first_use:-none})"
	fi
done

for doc in "${DOCS[@]}"; do
	W="$TMP/$(basename "$doc" .md)"
	setup_scratch "$W"
	n=0
	while IFS=$'\t' read -r line kind cmd; do
		n=$((n + 1))
		name="$doc:$line: $(printf '%.70s' "$cmd")"
		case $kind in
		run|online)
			if run_cmd "$W" "$kind" "$cmd" >"$TMP/.out" 2>&1; then
				ok "$name"
			else
				not_ok "$name (exit $?)"
				sed 's/^/# /' "$TMP/.out" | head -15
			fi ;;
		by-hand)
			if ! bash -n -c "$cmd" 2>"$TMP/.out"; then
				not_ok "$name (syntax)"; sed 's/^/# /' "$TMP/.out"
			elif ! check_sdc_options "$cmd" >"$TMP/.out"; then
				not_ok "$name"; sed 's/^/# /' "$TMP/.out"
			else
				ok "$name"
			fi ;;
		build)
			read -r -a w <<<"$cmd"
			[ "${w[0]}" = sudo ] && w=("${w[@]:1}")
			case ${w[0]} in
			make)
				tgt=${w[1]:-all}
				if grep -qE "^$tgt:" Makefile; then ok "$name"; else
					not_ok "$name (no target '$tgt' in the Makefile)"; fi ;;
			./build/sdceremony)
				check "$name" "$SDC" --help ;;
			*)
				not_ok "$name (unknown build command)" ;;
			esac ;;
		*)
			not_ok "$name (unknown block kind '$kind')" ;;
		esac
	done < <(extract "$doc")
	[ "$n" -gt 0 ] && ok "$doc shows $n commands" || not_ok "$doc shows no command"
done

# README's test command is the one CI runs.
check "README's test command is exactly 'make check'" \
	grep -qxE '\$ make check( +#.*)?' README.md
check ".ci/run runs make check" grep -qx 'make check' .ci/run

# The wizard's menu entries and screens the guide names exist in the binary.
grep -oE '[Cc]hoose \*\*[^*]+\*\*|\(\*\*[^*]+\*\*\)|`WARNING: [^`]+`' docs/ceremony-guide.md |
	sed -E 's/^[Cc]hoose //; s/^\(//; s/\)$//; s/^\*\*//; s/\*\*$//; s/^`//; s/`$//' |
	sort -u >"$TMP/labels"
n=0
while read -r label; do
	n=$((n + 1))
	check "the wizard has '$label'" grep -qaF -- "$label" "$SDC"
done <"$TMP/labels"
[ "$n" -ge 4 ] && ok "the guide names wizard screens" || not_ok "the guide names wizard screens"

# Links inside the guide lead to its headings (GitHub's anchors).
awk '/^#+ / { h = $0; sub(/^#+ /, "", h); h = tolower(h)
	      gsub(/[^a-z0-9 -]/, "", h); gsub(/ /, "-", h); print "#" h }' \
	docs/ceremony-guide.md >"$TMP/anchors"
bad=""
for a in $(grep -oE '\]\(#[^)]+\)' docs/ceremony-guide.md README.md | sed -E 's/.*\]\((#[^)]+)\)/\1/'); do
	grep -qxF -- "$a" "$TMP/anchors" || bad="$bad $a"
done
[ -z "$bad" ] && ok "the guide's internal links resolve" ||
	not_ok "the guide's internal links resolve:$bad"

# Links to files in README and the guide lead to files that exist.
bad=""
for d in README.md docs/ceremony-guide.md; do
	for f in $(grep -oE '\]\([^)#:]+\)' "$d" | sed -E 's/^\]\((.*)\)$/\1/'); do
		[ -e "$(dirname "$d")/$f" ] || bad="$bad $d:$f"
	done
done
[ -z "$bad" ] && ok "links to files resolve" || not_ok "links to missing files:$bad"

# Every command of `sdceremony --help` is in the guide, README and man page.
cmds=$("$SDC" --help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { on = 0 } on { print $1 }')
[ -n "$cmds" ] && ok "sdceremony --help lists commands" || not_ok "sdceremony --help lists commands"
for c in $cmds; do
	check "the man page has a section for '$c'" grep -qE "^\.It Cm $c( |$)" "$MAN"
	check "README shows '$c'" grep -qE "sdceremony $c( |$)" README.md
	check "the guide shows '$c'" grep -qE "sdceremony $c( |\`|$)" docs/ceremony-guide.md
done

# Every option of every command's --help is in the man page, and every
# option the man page names exists in some command's --help.
: >"$TMP/allopts"
for c in $cmds; do
	"$SDC" "$c" --help 2>&1 | help_opts >"$TMP/opts.$c"
	cat "$TMP/opts.$c" >>"$TMP/allopts"
	missing=""
	while read -r o; do
		[ "$o" = --help ] && continue
		grep -qE -- "Fl -${o#--}( |$)" "$MAN" || missing="$missing $o"
	done <"$TMP/opts.$c"
	[ -z "$missing" ] && ok "man page documents every option of '$c'" ||
		not_ok "man page lacks options of '$c':$missing"
done
# Global options: those of `sdceremony --help`.
"$SDC" --help 2>&1 | help_opts >>"$TMP/allopts"
sort -u -o "$TMP/allopts" "$TMP/allopts"
unknown=""
for o in $(grep -oE 'Fl -[a-z][a-z0-9-]*' "$MAN" | awk '{ print "-" $NF }' | sort -u); do
	grep -qx -- "$o" "$TMP/allopts" || unknown="$unknown $o"
done
if [ -z "$unknown" ]; then
	ok "every option in the man page exists"
else
	not_ok "the man page names options no command has:$unknown"
fi

# The man page's EXAMPLES: every sdceremony line names real options.
sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$MAN" | awk '
	/^\.Bd -literal/ { on = 1; next }
	/^\.Ed/ { on = 0; next }
	on {
		line = $0; sub(/^[ \t]+/, "", line)
		c = (line ~ /\\e$/); sub(/[ \t]*\\e$/, "", line)
		cmd = cmd (cmd == "" ? "" : " ") line
		if (!c) { print cmd; cmd = "" }
	}' >"$TMP/man-examples"
n=0
while read -r cmd; do
	case $cmd in *sdceremony*) ;; *) continue ;; esac
	n=$((n + 1))
	if check_sdc_options "$cmd" >"$TMP/.out"; then
		ok "man EXAMPLES: $(printf '%.60s' "$cmd")"
	else
		not_ok "man EXAMPLES: $(printf '%.60s' "$cmd")"; sed 's/^/# /' "$TMP/.out"
	fi
done <"$TMP/man-examples"
[ "$n" -gt 3 ] && ok "the man page has examples" || not_ok "the man page has examples"

# Exit statuses: those in `sdceremony --help` are all in the man page.
for code in 0 1 2 3 4 5 6 7; do
	check "sdceremony --help names exit status $code" \
		bash -c '"$0" --help | tr "\n" " " | grep -qE "(status:|,) *$1 "' "$SDC" "$code"
	check "the man page documents exit status $code" \
		bash -c 'sed -n "/^\.Sh EXIT STATUS/,/^\.Sh /p" "$0" | grep -qE "^\.It $1\$|^\.It Li $1\$"' "$MAN" "$code"
done

# The man page renders without warnings.
if command -v groff >/dev/null; then
	groff -mandoc -Tutf8 -ww -z "$MAN" >"$TMP/.man" 2>&1
	[ ! -s "$TMP/.man" ] && ok "man page renders without warnings" ||
		{ not_ok "man page renders without warnings"; sed 's/^/# /' "$TMP/.man" | head; }
	check "man -l renders the man page" bash -c \
		'MANWIDTH=80 man -l "$0" 2>/dev/null | grep -q "EXIT STATUS"' "$MAN"
else
	not_ok "groff is missing (make deps installs groff-base)"
fi
check "make install installs the committed man page" \
	grep -qE 'install .*docs/sdceremony\.1 ' Makefile

done_testing
