#!/usr/bin/env bash
# The Debian package: `make deb` builds it, lintian finds no error or
# warning, two builds (other directory, TZ, umask) are the same bytes, and
# (as root, with CI=true or SDC_TEST_DEB_INSTALL=1) `apt-get install ./...deb`
# installs it and /usr/bin/sdceremony passes a smoke test on the vectors.
. tests/lib.sh

if sanitized; then
	skip "Debian package" "built once, in the plain pass"
	done_testing
	exit
fi
missing=
for t in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "the package tools are installed (missing:$missing; make deps installs them)"
	else
		skip "Debian package" "missing:$missing (apt-get install debhelper lintian fakeroot)"
	fi
	done_testing
	exit
fi

deb=sdceremony_$(cat VERSION)_$(dpkg --print-architecture).deb
check "make deb (1)" env TZ=UTC bash -c 'umask 022; make --no-print-directory BUILD="$1" deb' _ "$TMP/one"
check "make deb (2: another directory, TZ, umask)" env TZ=Pacific/Chatham bash -c \
	'umask 027; make --no-print-directory BUILD="$1" deb' _ "$TMP/two/elsewhere"
D1="$TMP/one/$deb" D2="$TMP/two/elsewhere/$deb"
check "the package is named $deb" test -f "$D1"
s1=$(sha256sum <"$D1" | cut -d' ' -f1)
s2=$(sha256sum <"$D2" | cut -d' ' -f1)
if [ -n "$s1" ] && [ "$s1" = "$s2" ]; then ok "both builds are the same bytes: sha256 $s1"; else
	not_ok "the two builds differ: $s1 vs $s2"; fi
check "it holds the binary, the man page and the ceremony guide" bash -c \
	'c=$(dpkg-deb -c "$1"); for f in ./usr/bin/sdceremony ./usr/share/man/man1/sdceremony.1.gz \
	 ./usr/share/doc/sdceremony/ceremony-guide.md.gz ./usr/share/doc/sdceremony/copyright; do
	 grep -q -F -- " $f" <<<"$c" || { echo "missing $f"; exit 1; }; done' _ "$D1"
check "its dependencies come from shlibs (libssl3, libsodium23)" bash -c \
	'd=$(dpkg-deb -f "$1" Depends); grep -q -F -- libssl3 <<<"$d" && grep -q -F -- libsodium23 <<<"$d"' _ "$D1"
lintian --fail-on error,warning "$D1" >"$TMP/lintian.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "lintian: no error, no warning"; else
	not_ok "lintian (exit $rc)"; fi
grep -v -F -- "running with root privileges" "$TMP/lintian.out" | sed 's/^/# lintian: /'

if [ "$(id -u)" != 0 ] || { [ "${CI:-}" != true ] && [ "${SDC_TEST_DEB_INSTALL:-0}" != 1 ]; }; then
	skip "apt-get install ./$deb and the smoke test" "needs root and CI=true or SDC_TEST_DEB_INSTALL=1"
	done_testing
	exit
fi
cp "$D1" "$TMP/$deb"
check "apt-get install ./$deb" bash -c 'cd "$1" && DEBIAN_FRONTEND=noninteractive \
	apt-get install -y "./$2"' _ "$TMP" "$deb"
check "/usr/bin/sdceremony version" grep -q -F -- "sdceremony $(cat VERSION)" \
	<(/usr/bin/sdceremony version)
check "/usr/bin/sdceremony inspect a vector" /usr/bin/sdceremony inspect \
	--sd-file "$VEC/sd/q2_n3.json"
check "/usr/bin/sdceremony verify with the vector keys" /usr/bin/sdceremony verify \
	--sd-file "$VEC/sd/q2_n3.json" --sd-wrapping-keys "$VEC/sd/keys/cert_0.key" \
	"$VEC/sd/keys/cert_1.key"
check "man sdceremony finds the installed page" bash -c 'man -w sdceremony | grep -q -F -- /usr/share/man'
done_testing
