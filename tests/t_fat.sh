#!/usr/bin/env bash
# Custodians' USB sticks are FAT: no hard links, no file modes.  Every writer
# must still put a file in place whole, never replacing one: keygen --key-out
# onto a stick, package, qr join, restore-blob.  The stick is a real FAT
# file system (mkfs.vfat) mounted through FUSE (fusefat), as the test cannot
# load the kernel's vfat driver.
. tests/lib.sh

W="$TMP/w"
STICK="$TMP/stick"
mkdir -p "$W" "$STICK"
for t in mkfs.vfat fusefat fusermount; do
	if ! command -v "$t" >/dev/null; then
		not_ok "$t is installed (Debian packages dosfstools, fusefat)"
		done_testing
		exit 1
	fi
done
trap 'fusermount -u "$STICK" 2>/dev/null; rm -rf "$TMP"' EXIT
truncate -s 16M "$TMP/fat.img" && mkfs.vfat -n STICK "$TMP/fat.img" >/dev/null
if [ ! -e /dev/fuse ] || ! fusefat -o rw+ "$TMP/fat.img" "$STICK" >/dev/null 2>&1; then
	skip "writers on a FAT stick" "FUSE is not available here (/dev/fuse)"
	done_testing
	exit 0
fi
check "the stick is FAT: no hard links" bash -c '! ln "$0/x" "$0/y" 2>/dev/null' \
	"$(touch "$STICK/x"; echo "$STICK")"
rm -f "$STICK/x"

for i in 0 1 2; do printf 'fat stick passphrase %d\n' "$i" >"$W/p$i"; done
mkdir "$STICK/alice"
check "keygen --key-out writes keys onto the FAT stick" "$SDC" keygen -n 3 -q 2 -b 2048 \
	-o "$W/set" --passphrase-file "$W/p0" "$W/p1" "$W/p2" \
	--key-out "$STICK/alice" "$STICK/bob.key" "$STICK/carol.key"
check "... alice's key opens with her passphrase" \
	openssl pkey -in "$STICK/alice/cert_0.key" -passin "file:$W/p0" -noout
check "... bob's certificate is beside his key" cmp "$STICK/bob.cer" "$W/set/cert_1.cer"
check "... and no temporary is left on the stick" \
	bash -c '! find "$0" -name "*.tmp-*" | grep -q .' "$STICK"
expect_exit "keygen --key-out never replaces a key on the stick" 5 "$SDC" keygen -n 3 -q 2 \
	-b 2048 -o "$W/set2" --passphrase-file "$W/p0" "$W/p1" "$W/p2" \
	--key-out "$STICK/alice" "$STICK/b2.key" "$STICK/c2.key"

check "package writes onto the stick" "$SDC" package --certs "$W"/set/cert_{0,1,2}.cer \
	--quorum 2 --out "$STICK/pkg"
check "... the same request as keygen's" cmp "$STICK/pkg/download-request.json" \
	"$W/set/download-request.json"

"$SDC" qr split "$W/set/cert_0.cer" --out "$W/qr" >/dev/null 2>&1
check "qr join writes onto the stick" "$SDC" qr join "$W"/qr/*.txt --out "$STICK/c0.cer"
check "... byte for byte" cmp "$STICK/c0.cer" "$W/set/cert_0.cer"
expect_exit "... and never replaces a file there" 5 "$SDC" qr join "$W"/qr/*.txt --out "$STICK/c0.cer"
expect_err "... saying so" "already exists"

"$TOOLS/sdforge" --certs "$W"/set/cert_{0,1,2}.cer --required 2 --out "$W/sd.json" \
	--items-out "$W/items.json" >"$TMP/.out" 2>&1 || not_ok "sdforge made a security domain"
check "restore-blob writes the blob onto the stick" "$SDC" restore-blob --sd-file "$W/sd.json" \
	--sd-exchange-key "$VEC/sd/exchange/exchange.cer" \
	--sd-wrapping-keys "$STICK/alice/cert_0.key" "$STICK/bob.key" \
	--password-files "$W/p0" "$W/p1" --sd-file-restore-blob "$STICK/blob.json"
check "... which opens to the items" "$TOOLS/blobopen" --blob "$STICK/blob.json" \
	--exchange-key-private "$VEC/sd/exchange/exchange.key" --expect "$W/items.json"
# fusefat loses a directory's contents when it is renamed: a split that
# would say it was written must say it was not.
expect_exit "qr split onto this stick fails loudly instead of leaving an empty directory" 5 \
	"$SDC" qr split "$W/set/cert_0.cer" --out "$STICK/qr"
expect_err "... naming the cause" "lost the parts when the directory was renamed"
check "... and leaves no empty directory" test ! -e "$STICK/qr"
check "no temporary is left anywhere on the stick" \
	bash -c '! find "$0" -name "*.tmp-*" | grep -q .' "$STICK"
done_testing
