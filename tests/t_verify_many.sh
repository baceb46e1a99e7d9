#!/usr/bin/env bash
# verify with several --sd-file: the same custodians for several HSMs.  Each
# key is asked for once and tried against every file; the report and the exit
# status cover each file (JSON: one entry per file).
. tests/lib.sh

K="$VEC/sd/keys"
for f in a b; do
	"$TOOLS/sdforge" --certs "$K/cert_2.cer" "$K/cert_0.cer" "$K/cert_1.cer" --required 2 \
		--out "$TMP/$f.json" --items-out "$TMP/$f.items.json"
done
"$TOOLS/sdforge" --certs "$K/cert_7.cer" "$K/cert_8.cer" "$K/cert_9.cer" --required 2 \
	--out "$TMP/other.json" --items-out "$TMP/other.items.json"
KEYS=(--sd-wrapping-keys "$K/cert_2.key" "$K/cert_0.key" --password-files "$K/cert_2.pass")

check "two files, one drill" "$SDC" verify --sd-file "$TMP/a.json" --sd-file "$TMP/b.json" "${KEYS[@]}"
cp "$TMP/.out" "$TMP/two.out"
check "  ... each file verified" test "$(grep -cF -- "Result: VERIFIED" "$TMP/two.out")" = 2
check "az-style values: --sd-file A B" "$SDC" verify --sd-file "$TMP/a.json" "$TMP/b.json" "${KEYS[@]}"
check "--passwords serve every file (not wiped after the first)" \
	"$SDC" verify --sd-file "$TMP/a.json" "$TMP/b.json" --sd-wrapping-keys "$K/cert_2.key" \
	"$K/cert_0.key" --passwords "$(head -n1 "$K/cert_2.pass")"
expect_exit "a file these keys do not open: exit 4" 4 "$SDC" verify --sd-file "$TMP/a.json" \
	"$TMP/other.json" "$TMP/b.json" "${KEYS[@]}" --json
cp "$TMP/.out" "$TMP/mixed.json"
check "  ... JSON: one entry per file, each with its status" python3 - "$TMP/mixed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["report"] == "verify_files" and r["exit_status"] == 4, r
assert [f["result"] for f in r["files"]] == ["verified", "failed", "verified"], r
assert [f["exit_status"] for f in r["files"]] == [0, 4, 0], r
PY
expect_exit "a missing file: exit 5, the others still drilled" 5 "$SDC" verify \
	--sd-file "$TMP/missing\"file.json" "$TMP/a.json" "${KEYS[@]}" --json
cp "$TMP/.out" "$TMP/missing.json"
check "  ... JSON names it, quoted right" python3 - "$TMP/missing.json" "$TMP/missing\"file.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit_status"] == 5 and len(r["files"]) == 2, r
assert r["files"][0]["sd_file"] == sys.argv[2] and r["files"][0]["exit_status"] == 5, r
assert "cannot open" in r["files"][0]["message"], r
assert r["files"][1]["result"] == "verified", r
PY
check "one file with --json is the single report, as before" bash -c \
	'"$0" verify --sd-file "$1" --sd-wrapping-keys "$2/cert_0.key" "$2/cert_1.key" --json |
	 python3 -c "import json,sys; assert json.load(sys.stdin)[\"report\"] == \"verify\""' \
	"$SDC" "$TMP/a.json" "$K"

if command -v script >/dev/null; then
	P2=$(head -n1 "$K/cert_2.pass")
	(sleep 1; printf '%s\n' "$P2"; sleep 3) | timeout 30 script -qec \
		"$(printf '%q ' "$SDC" verify --sd-file "$TMP/a.json" "$TMP/b.json" \
		--sd-wrapping-keys "$K/cert_2.key" "$K/cert_0.key")" /dev/null >"$TMP/tty.out" 2>&1
	check "on a terminal the key is asked for once" \
		test "$(grep -cF -- "Password for key" "$TMP/tty.out")" = 1
	check "  ... and both files verified" test "$(grep -cF -- "Result: VERIFIED" "$TMP/tty.out")" = 2
else
	skip "password prompt" "script(1) missing"
fi

done_testing
