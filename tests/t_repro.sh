#!/usr/bin/env bash
# Reproducible build: the commit under test is cloned twice, into two
# different temporary directories, and built with a different TZ, umask,
# LC_ALL, -j and (as root) user; build/sdceremony must be the same bytes.
# Builds the committed HEAD: uncommitted changes are not part of the test.
. tests/lib.sh

if sanitized; then
	skip "reproducible build" "compared once, on the plain build"
	done_testing
	exit
fi
if ! git rev-parse HEAD >/dev/null 2>&1; then
	skip "reproducible build" "not a git checkout"
	done_testing
	exit
fi
head=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	diag "the work tree has uncommitted changes; testing the commit $head"

# clone DIR: a fresh checkout of HEAD at DIR.
clone() {
	git clone -q --no-hardlinks "$PWD" "$1" && git -C "$1" checkout -q --detach "$head"
}

A="$TMP/first/sdceremony-src"
B="$TMP/second-place/other/name"
mkdir -p "$TMP/first" "$TMP/second-place/other"
check "clone into $A" clone "$A"
check "clone into $B" clone "$B"

build_a() {
	cd "$A" && env -u SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C bash -c 'umask 022; make -j1 all' >build.log 2>&1
}
# The second build as another user when we are root (the clone handed to that user, so
# that git trusts it).
as_other() {
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
		chown -R nobody "$B"
		chmod go+x "$TMP" "$TMP/second-place" "$TMP/second-place/other"
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups env HOME="$B" "$@"
	else
		"$@"
	fi
}
build_b() {
	cd "$B" && as_other env -u SOURCE_DATE_EPOCH TZ=Asia/Kolkata LC_ALL=C.UTF-8 LANG=de_DE.UTF-8 \
		bash -c 'umask 077; sleep 1; make -j2 all' >build.log 2>&1
}
check "build 1 (TZ=UTC, LC_ALL=C, umask 022, -j1)" build_a
check "build 2 (TZ=Asia/Kolkata, LC_ALL=C.UTF-8, umask 077, -j2$( [ "$(id -u)" = 0 ] && echo ', user nobody'))" build_b
sa=$(sha256sum <"$A/build/sdceremony" | cut -d' ' -f1)
sb=$(sha256sum <"$B/build/sdceremony" | cut -d' ' -f1)
if [ -n "$sa" ] && [ "$sa" = "$sb" ]; then
	ok "build/sdceremony is the same bytes in both: sha256 $sa"
else
	not_ok "build/sdceremony differs: $sa vs $sb"
	if command -v readelf >/dev/null; then
		diff <(readelf -wi "$A/build/sdceremony" 2>/dev/null | grep -i comp_dir | sort -u) \
			<(readelf -wi "$B/build/sdceremony" 2>/dev/null | grep -i comp_dir | sort -u) |
			head -5 | sed 's/^/# /'
	fi
fi
check "build 1: version names the commit" grep -q -F -- "commit   $head" \
	<("$A/build/sdceremony" version)
check "build 2: version names the commit" grep -q -F -- "commit   $head" \
	<("$B/build/sdceremony" version)
check "build 1: version names the compiler" grep -q -E -- '^compiler .+' \
	<("$A/build/sdceremony" version)
check "build 1: no checkout path inside the binary" bash -c '! grep -q -a -F -- "$1" "$2"' _ \
	"$A" "$A/build/sdceremony"
done_testing
