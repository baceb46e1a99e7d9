#!/usr/bin/env bash
# `make layers`: the layering rules of DESIGN.md, checked on the sources
# under ROOT (default .): ui -> ceremony -> sss.
#   sss/       includes nothing of ceremony/ or ui/
#   ceremony/  includes no curses and no ui/ header, and never prints to the
#              terminal (printf, puts, perror, putchar, or a write to stdout
#              or stderr): it reports through return codes and callbacks
#              and names no command-line flag in its strings: a face words
#              a typed reason (cer_errreason) in its own terms; only the
#              flags of the az commands ceremony/ writes out may appear
#   ui/        includes no sss/ header (it goes through ceremony/)
# Prints one line per violation (file:line: rule: text); exits 1 if any.
set -u
root=${1:-.}
bad=0

# rule DIR RULE REGEX: lines of DIR/*.[ch] matching the extended REGEX (comments
# at the start of a line are skipped).
rule() {
	local dir=$1 what=$2 re=$3 hit
	[ -d "$root/$dir" ] || return 0
	while IFS= read -r hit; do
		echo "$hit: $what"
		bad=1
	done < <(cd "$root" && grep -HnE -- "$re" "$dir"/*.[ch] 2>/dev/null |
		grep -vE -- '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
}

rule sss 'sss/ must not include ceremony/ or ui/' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](ceremony|ui)/'
rule ceremony 'ceremony/ must not include curses' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](n?curses(w)?/)?n?curses(w)?\.h'
rule ceremony 'ceremony/ must not include ui/ headers' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]ui/'
rule ceremony 'ceremony/ must not print to the terminal' \
	'(^|[^[:alnum:]_])(v?printf|puts|perror|putchar)[[:space:]]*\(|(fv?printf|fputs|fputc|putc|fwrite)[[:space:]]*\([^;]*std(out|err)|(^|[^[:alnum:]_])write[[:space:]]*\([[:space:]]*(1|2|STDOUT_FILENO|STDERR_FILENO)[[:space:]]*,'
# The flags of the az commands ceremony/ quotes for the online host
# (keygen's download command, restore-blob's upload command).
az_flags='--(hsm-name|sd-wrapping-keys|sd-quorum|security-domain-file|sd-file|restore-blob)([^[:alnum:]-]|$)'
while IFS= read -r hit; do
	text=${hit#*:*:}
	if printf '%s\n' "$text" | sed -E "s/$az_flags/\2/g" | grep -qE -- '"[^"]*--[a-z]'; then
		echo "$hit: ceremony/ must not name a command-line flag (give a reason instead)"
		bad=1
	fi
done < <([ -d "$root/ceremony" ] && cd "$root" && grep -HnE -- '"[^"]*--[a-z]' ceremony/*.[ch] 2>/dev/null |
	grep -vE -- '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)')
rule ui 'ui/ must not include sss/ headers' '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]sss/'
exit "$bad"
