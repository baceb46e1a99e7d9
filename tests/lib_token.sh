# Helpers of the PKCS#11 token tests: a private SoftHSM2 (a real PKCS#11
# token, Debian softhsm2) whose tokens live under $TMP, and OpenSC's
# pkcs11-tool (Debian opensc) as an independent reader and writer.  Source
# after tests/lib.sh.  SOFTHSM2_CONF points at $TMP, so the module, loaded
# by p11-kit from its registration or by --pkcs11-module, sees only the
# tokens this test makes.
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
SO_PIN=87654321

# need_softhsm: SoftHSM2 and pkcs11-tool present, or the test is skipped
# (a failure in CI, which installs both with make deps).
need_softhsm() {
	if [ ! -f "$SOFTHSM_MODULE" ] || ! command -v softhsm2-util >/dev/null ||
		! command -v pkcs11-tool >/dev/null; then
		if [ "${CI:-}" = true ]; then
			not_ok "softhsm2 and opensc are installed (make deps)"
		else
			skip "PKCS#11 token tests" "softhsm2 or opensc not installed (make deps)"
		fi
		done_testing
		exit
	fi
	mkdir -p "$TMP/softhsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$TMP/softhsm/tokens" >"$TMP/softhsm/softhsm2.conf"
	export SOFTHSM2_CONF="$TMP/softhsm/softhsm2.conf"
}

# p11tool ARGS...: pkcs11-tool on the private SoftHSM.
p11tool() { pkcs11-tool --module "$SOFTHSM_MODULE" "$@"; }

# token_init LABEL PIN: a fresh token.
token_init() {
	softhsm2-util --init-token --free --label "$1" --pin "$2" --so-pin "$SO_PIN" >/dev/null
}

# token_import LABEL PIN KEY PASSFILE|- ID OBJECT [CERT]: the private key of the
# PEM file KEY (encrypted with the first line of PASSFILE, or - for none)
# written to the token with CKA_ID ID (hex) and CKA_LABEL OBJECT, and CERT,
# when given, as a certificate object with the same id.
token_import() {
	local label=$1 pin=$2 key=$3 pass=$4 id=$5 obj=$6 cert=${7:-}
	local der="$TMP/softhsm/import.der"
	if [ "$pass" = - ]; then
		openssl pkcs8 -topk8 -nocrypt -in "$key" -outform DER -out "$der"
	else
		openssl pkcs8 -topk8 -nocrypt -in "$key" -passin "file:$pass" -outform DER -out "$der"
	fi || return 1
	p11tool --token-label "$label" --login --pin "$pin" --write-object "$der" \
		--type privkey --id "$id" --label "$obj" --usage-decrypt >/dev/null 2>&1 || return 1
	rm -f "$der"
	[ -z "$cert" ] || p11tool --token-label "$label" --login --pin "$pin" \
		--write-object "$cert" --type cert --id "$id" --label "$obj" >/dev/null 2>&1
}

# token_set_flags LABEL HEX: ORs HEX into the token's flags as SoftHSM stores
# them (its object-store attribute CKA_OS_TOKENFLAGS, vendor 0x8000534b), as
# a card reports CKF_USER_PIN_FINAL_TRY or CKF_USER_PIN_LOCKED: SoftHSM
# itself counts no tries and never locks.
token_set_flags() {
	local f
	f=$(grep -lF -- "$(printf '%-32s' "$1")" "$TMP"/softhsm/tokens/*/token.object) || return 1
	python3 - "$f" "$2" <<'PY'
import struct, sys
path, bits = sys.argv[1], int(sys.argv[2], 16)
data = bytearray(open(path, "rb").read())
tag = struct.pack(">QQ", 0x8000534b, 2)
at = data.find(tag)
if at < 0:
    sys.exit("no token flags in " + path)
v = struct.unpack_from(">Q", data, at + 16)[0] | bits
struct.pack_into(">Q", data, at + 16, v)
open(path, "wb").write(data)
PY
}
