# Shell test helpers: TAP output, a scratch directory, and assertions.
# Source from tests/t_*.sh; $SDC is the binary under test, $BUILD the build
# directory, $VEC the committed vectors.
set -u
BUILD=${BUILD:-build}
SDC=${SDC:-$PWD/$BUILD/sdceremony}
TOOLS="$PWD/$BUILD/tests/tools"
VEC="$PWD/tests/vectors"
T_NUM=0
T_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sdc-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok()      { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM - $*"; }
not_ok()  { T_NUM=$((T_NUM + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_NUM - $*"; }
skip()    { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM - $1 # skip ${2:-}"; }
diag()    { echo "# $*"; }

# check NAME COMMAND...: passes when the command succeeds.
check() {
	local name=$1; shift
	if "$@" >"$TMP/.out" 2>&1; then ok "$name"; else
		not_ok "$name"; sed 's/^/# /' "$TMP/.out" | head -20; fi
}

# expect_exit NAME STATUS COMMAND...: passes when the command exits with
# STATUS; the command's stderr is kept in $TMP/.err for expect_err.
expect_exit() {
	local name=$1 want=$2; shift 2
	"$@" >"$TMP/.out" 2>"$TMP/.err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else
		not_ok "$name (exit $rc, wanted $want)"
		sed 's/^/# stderr: /' "$TMP/.err" | head -10
	fi
}

# expect_err NAME REGEX: the last expect_exit's stderr matches REGEX.
expect_err() {
	if grep -qE -- "$2" "$TMP/.err"; then ok "$1"; else
		not_ok "$1 (stderr does not match '$2')"
		sed 's/^/# stderr: /' "$TMP/.err" | head -10
	fi
}

# size_capped BYTES COMMAND...: runs COMMAND with no file allowed to grow
# past BYTES, as on a full disk: a write beyond fails (EFBIG), SIGXFSZ being
# ignored.  Fill a file to BYTES first to make it the one that cannot grow.
size_capped() {
	local n=$1; shift
	bash -c 'trap "" XFSZ; exec prlimit --fsize="$0" "$@"' "$n" "$@"
}

# Under the sanitizer build, valgrind and the az referee are skipped.
sanitized() { [ "${SDC_SANITIZE:-0}" = 1 ]; }

# need_az NAME: sets az up for an offline run.  Where az cannot be used (the
# sanitizer build; not installed, outside CI) NAME is skipped and the test
# ends; in CI a missing az is a failure.
need_az() {
	if sanitized; then
		skip "$1" "not under the sanitizer build"
		done_testing
		exit
	fi
	if ! command -v az >/dev/null 2>&1; then
		if [ "${CI:-}" = true ]; then
			not_ok "az (azure-cli) is installed: CI needs the interop referee"
		else
			skip "$1" "az not installed (apt-get install azure-cli)"
		fi
		done_testing
		exit
	fi
	export AZURE_CONFIG_DIR="$TMP/az" AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_NO_COLOR=1
	export AZURE_CORE_ONLY_SHOW_ERRORS=1
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
}
