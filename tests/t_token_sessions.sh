#!/usr/bin/env bash
# Every PKCS#11 session is logged out and closed, and every module
# finalised, on every path: OpenSC's pkcs11-spy (Debian opensc-pkcs11), an
# independent module that logs each call and its return value, stands
# between sdceremony and SoftHSM2.  For each command, good or failing, the
# log must show as many C_CloseSession as successful C_OpenSession, as many
# successful C_Logout as successful C_Login, and a C_Finalize for each
# C_Initialize.  (The spy's log holds the PINs it saw; it stays in $TMP.)
. tests/lib.sh
. tests/lib_token.sh

need_softhsm
SPY=/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so
if [ ! -f "$SPY" ]; then
	if [ "${CI:-}" = true ]; then not_ok "pkcs11-spy is installed (opensc-pkcs11)"; else
		skip "PKCS#11 session accounting" "pkcs11-spy not installed (opensc-pkcs11)"; fi
	done_testing
	exit
fi
K="$VEC/sd/keys"
X="$VEC/sd/exchange"
export PKCS11SPY="$SOFTHSM_MODULE" PKCS11SPY_OUTPUT="$TMP/spy.log"
# The spy leaks what it allocates itself, and the certificates it decodes
# (through OpenSSL, hence our allocator) to print C_CreateObject: seen by
# LeakSanitizer in the ASan build, not ours, so only stacks through the spy
# are suppressed (the slow unwinder sees through libcrypto's frames).
echo "leak:pkcs11-spy.so" >"$TMP/lsan.supp"
export LSAN_OPTIONS="suppressions=$TMP/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

mkdir -p "$TMP/pins"
for t in alice:1111 bob:2222 multi:4444 extra:5555 fresh:6666; do
	token_init "${t%%:*}" "${t#*:}"
	echo "${t#*:}" >"$TMP/pins/${t%%:*}"
done
echo 0000 >"$TMP/pins/wrong"
imported=0
token_import alice 1111 "$K/cert_0.key" - 01 sd-wrap "$K/cert_0.cer" &&
	token_import bob 2222 "$K/cert_2.key" "$K/cert_2.pass" 02 sd-wrap "$K/cert_2.cer" &&
	token_import multi 4444 "$K/cert_1.key" - 11 one "$K/cert_1.cer" &&
	token_import multi 4444 "$K/cert_8.key" - 12 two "$K/cert_8.cer" &&
	token_import extra 5555 "$K/cert_8.key" - 08 sd-wrap "$K/cert_8.cer" && imported=1
check "keys imported into the tokens (pkcs11-tool)" test "$imported" = 1
"$TOOLS/sdforge" --certs "$K/cert_0.cer" "$K/cert_2.cer" "$K/cert_4.cer" --required 2 \
	--alg RSA-OAEP --out "$TMP/sd.json" --items-out "$TMP/items.json" ||
	not_ok "sdforge makes the file"
A='pkcs11:token=alice'
B='pkcs11:token=bob'

# accounted NAME STATUS CMD...: CMD (through the spy) exits STATUS, and the
# spy's log balances.
accounted() {
	local name=$1 want=$2
	shift 2
	rm -f "$TMP/spy.log"
	expect_exit "$name" "$want" "$@" --pkcs11-module "$SPY"
	awk '
		/^[0-9]+: C_/ { call = $2 }
		/^Returned:/ { ok = ($2 == 0); n[call]++; if (ok) good[call]++ }
		END {
			printf "%d %d %d %d %d %d %d\n", good["C_OpenSession"],
				n["C_CloseSession"] + 0, good["C_Login"], good["C_Logout"],
				good["C_Initialize"], n["C_Finalize"] + 0, n["C_CloseAllSessions"] + 0
		}' "$TMP/spy.log" >"$TMP/counts"
	read -r open close login logout init fini closeall <"$TMP/counts"
	diag "$name: $open sessions, $login logins, $init modules"
	check "$name: every session closed ($open opened, $close closed)" \
		test "$open" -gt 0 -a "$open" = "$((close))" -o "$open" -gt 0 -a "$closeall" -gt 0
	check "$name: every login logged out ($login, $logout)" test "$login" = "$logout"
	check "$name: every module finalised ($init, $fini)" test "$init" = "$fini" -a "$init" -gt 0
}

accounted "verify with two token keys" 0 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/bob"
accounted "verify: a wrong PIN" 4 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys "$A" "$B" \
	--pin-file "$TMP/pins/wrong" "$TMP/pins/bob"
accounted "verify: a key whose certificate is in no share" 4 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys 'pkcs11:token=extra' "$A" \
	--pin-file "$TMP/pins/extra" "$TMP/pins/alice"
accounted "verify: a URI that names two keys" 2 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys 'pkcs11:token=multi' "$A" \
	--pin-file "$TMP/pins/multi" "$TMP/pins/alice"
accounted "verify: no token matches" 5 \
	"$SDC" verify --sd-file "$TMP/sd.json" --sd-wrapping-keys 'pkcs11:token=nobody' "$A" \
	--pin-file "$TMP/pins/alice" "$TMP/pins/alice"
accounted "restore-blob with two token keys" 0 \
	"$SDC" restore-blob --sd-file "$TMP/sd.json" --sd-exchange-key "$X/exchange.cer" \
	--sd-wrapping-keys "$A" "$B" --pin-file "$TMP/pins/alice" "$TMP/pins/bob" \
	--sd-file-restore-blob "$TMP/blob.json"
accounted "token list" 0 "$SDC" token list --sd-file "$TMP/sd.json"
accounted "token list --login with wrong PINs" 4 \
	"$SDC" token list --sd-file "$TMP/sd.json" --login --pin-file "$TMP/pins/wrong" \
	"$TMP/pins/wrong" "$TMP/pins/wrong" "$TMP/pins/wrong" "$TMP/pins/wrong"
accounted "keygen on a token and two key files" 0 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/kg" \
	--token 'pkcs11:token=fresh' --pin-file "$TMP/pins/fresh" \
	--passphrase-file "$K/cert_2.pass" "$K/cert_4.pass"
accounted "keygen: the label is taken now (fails, nothing left)" 2 \
	"$SDC" keygen --count 3 --quorum 2 --bits 2048 --out "$TMP/kg2" \
	--token 'pkcs11:token=fresh' --pin-file "$TMP/pins/fresh" \
	--passphrase-file "$K/cert_2.pass" "$K/cert_4.pass"
done_testing
