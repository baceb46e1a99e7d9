#!/usr/bin/env bash
# Many items: a security-domain file just under the 16 MiB input limit with
# 72,000 items (a guarded mapping per item plaintext ran into
# vm.max_map_count, 65530 by default: verify passed, restore-blob ran out of
# memory).  Drill and restore now succeed together, and the blob opens to
# the very items.
. tests/lib.sh
if sanitized; then
	skip "72,000 items" "slow under the sanitizer build; the normal build runs it"
	done_testing; exit
fi

SD="$VEC/sd"
KEYS="$SD/keys"
"$TOOLS/sdforge" --certs "$KEYS/cert_0.cer" "$KEYS/cert_1.cer" "$KEYS/cert_7.cer" --required 2 \
	--out "$TMP/sd.json" --items-out "$TMP/items.json" --item-count 72000 --item-size 16 \
	--seed many-items
size=$(stat -c %s "$TMP/sd.json")
check "the file is under the input limit ($size bytes)" test "$size" -le 16777216
check "the file is over 16,000,000 bytes" test "$size" -gt 16000000

expect_exit "72,000 items: verify" 0 "$SDC" verify --sd-file "$TMP/sd.json" \
	--sd-wrapping-keys "$KEYS/cert_0.key" "$KEYS/cert_1.key"
cp "$TMP/.out" "$TMP/verify.out"
check "72,000 items: the drill verifies" grep -qF -- "Result: VERIFIED" "$TMP/verify.out"
expect_exit "72,000 items: restore-blob" 0 "$SDC" restore-blob --sd-file "$TMP/sd.json" \
	--sd-exchange-key "$SD/exchange/exchange.cer" \
	--sd-wrapping-keys "$KEYS/cert_0.key" "$KEYS/cert_1.key" \
	--sd-file-restore-blob "$TMP/blob.json"
check "72,000 items: the blob opens to every item" "$TOOLS/blobopen" --blob "$TMP/blob.json" \
	--exchange-key-private "$SD/exchange/exchange.key" --expect "$TMP/items.json"
done_testing
