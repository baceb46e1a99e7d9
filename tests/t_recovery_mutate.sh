#!/usr/bin/env bash
# Robustness: a few hundred mutated security-domain files (bytes flipped,
# cut, duplicated; JSON values swapped for other types) through inspect and
# restore-blob.  Every run must end with a documented status (0, 3 or 4;
# never a crash or a sanitizer report), a one-line message when it fails,
# and no file left in the output directory unless it succeeded.
. tests/lib.sh

BAD="$VEC/bad"
KEYS="$VEC/sd/keys"
X="$VEC/sd/exchange/exchange.cer"
N=${SDC_MUTATIONS:-150}
mkdir -p "$TMP/m" "$TMP/out"

python3 - "$BAD/good.json" "$TMP/m" "$N" <<'EOF'
import json, random, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(20261125)
text = open(src, "rb").read()
doc = json.loads(text)
others = [None, True, 0, -1, 2**40, 1.5, "", "x", [], {}, [1], {"a": 1}]

def walk(o, path=()):
    yield path
    if isinstance(o, dict):
        for k, v in o.items():
            yield from walk(v, path + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, path + (i,))

paths = [p for p in walk(doc) if p]
for i in range(n):
    kind = i % 4
    if kind == 0:  # flip bytes
        b = bytearray(text)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        data = bytes(b)
    elif kind == 1:  # cut
        data = text[: rng.randrange(len(text))]
    elif kind == 2:  # replace one value by another type
        d = json.loads(text)
        p = rng.choice(paths)
        o = d
        for k in p[:-1]:
            o = o[k]
        o[p[-1]] = rng.choice(others)
        data = json.dumps(d).encode()
    else:  # splice a string value inside a JWE
        d = json.loads(text)
        s = rng.choice([p for p in paths if isinstance(p[-1], str) and p[-1] in ("compact_jwe", "enc_key", "x5t_256", "tag")])
        o = d
        for k in s[:-1]:
            o = o[k]
        v = o[s[-1]]
        cut = rng.randrange(len(v) + 1)
        o[s[-1]] = v[:cut] + rng.choice([".", "..", "=", "+", "/", "A", "\u00e9", ""]) + v[cut:]
        data = json.dumps(d).encode()
    open(f"{out}/m{i:03d}.json", "wb").write(data)
EOF

bad_status=0 bad_msg=0 left=0 crashed=0 seen=" "
for f in "$TMP"/m/m*.json; do
	"$SDC" inspect --sd-file "$f" >/dev/null 2>"$TMP/err"
	rc=$?
	case $rc in 0|3) ;; *) bad_status=$((bad_status + 1)); diag "inspect $f: exit $rc"; sed 's/^/# /' "$TMP/err" | head -5;; esac
	"$SDC" restore-blob --sd-file "$f" --sd-exchange-key "$X" \
		--sd-wrapping-keys "$KEYS/cert_0.key" "$KEYS/cert_1.key" \
		--sd-file-restore-blob "$TMP/out/blob.json" >/dev/null 2>"$TMP/err" </dev/null
	rc=$?
	seen="$seen$rc "
	case $rc in
	0) rm -f "$TMP/out/blob.json" ;;
	3|4) [ "$(wc -l <"$TMP/err")" -eq 1 ] || { bad_msg=$((bad_msg + 1)); diag "restore-blob $f:"; sed 's/^/# /' "$TMP/err" | head -5; } ;;
	*) crashed=$((crashed + 1)); diag "restore-blob $f: exit $rc"; sed 's/^/# /' "$TMP/err" | head -5 ;;
	esac
	if [ -n "$(ls -A "$TMP/out")" ]; then left=$((left + 1)); rm -f "$TMP"/out/* "$TMP"/out/.??*; fi
done
[ "$bad_status" -eq 0 ] && ok "inspect: $N mutants end in 0 or 3" || not_ok "inspect: $bad_status bad exits"
[ "$crashed" -eq 0 ] && ok "restore-blob: $N mutants end in 0, 3 or 4" || not_ok "restore-blob: $crashed bad exits"
[ "$bad_msg" -eq 0 ] && ok "restore-blob: one line per failure" || not_ok "restore-blob: $bad_msg multi-line failures"
[ "$left" -eq 0 ] && ok "restore-blob: nothing left behind" || not_ok "restore-blob: $left runs left files"
case $seen in *" 3 "*) ok "mutants include malformed files" ;; *) not_ok "no mutant was malformed" ;; esac
case $seen in *" 4 "*) ok "mutants include tampered files" ;; *) not_ok "no mutant was tampered" ;; esac
done_testing
