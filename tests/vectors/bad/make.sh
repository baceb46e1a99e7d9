#!/usr/bin/env bash
# Regenerates the bad-input fixtures of tests/t_recovery_errors.sh (a manual
# step; the files are committed).  Needs openssl, python3 and
# build/tests/tools/sdforge.  Security domains are made for the committed
# test keys tests/vectors/sd/keys/cert_0..2 (cert_0 and cert_1 have no
# password, cert_2's is in cert_2.pass), quorum 2, then spoiled one way each.
#
#   tests/vectors/bad/make.sh        (from the top of the work tree)
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top"
forge="$top/build/tests/tools/sdforge"
[ -x "$forge" ] || { echo "make.sh: build $forge first" >&2; exit 1; }
bad=tests/vectors/bad
keys=tests/vectors/sd/keys
certs=("$keys/cert_0.cer" "$keys/cert_1.cer" "$keys/cert_2.cer")
rm -f "$bad"/*.json "$bad"/*.txt "$bad"/*.cer "$bad"/*.key "$bad"/*.jwk
items=$(mktemp)
trap 'rm -f "$items"' EXIT

# sd NAME [sdforge options]: a quorum-2 domain over cert_0..2.
sd() {
	local name=$1; shift
	"$forge" --certs "${certs[@]}" --required 2 --out "$bad/$name.json" --items-out "$items" \
		--seed "sdceremony bad $name" \
		--tags hsm_backup:300,base_enclave_backup:200,kmsp_enclave_backup:100 "$@"
}

sd good
sd tampered_share --corrupt share:1
sd tampered_share_key --corrupt share-key:1
sd tampered_share_tag --corrupt share-tag:1
sd tampered_item --corrupt item:base_enclave_backup
sd inconsistent --corrupt inconsistent:1
sd share_alg --corrupt share-alg:1=A128KW
sd share_enc --corrupt share-enc:1=A128GCM
sd item_enc --corrupt item-enc:kmsp_enclave_backup=A128GCM

# Edits of the good file: one defect each.
python3 - "$bad" <<'PY'
import json, sys
d = sys.argv[1]
text = open(d + "/good.json").read()
good = json.loads(text)

def put(name, obj):
    with open(f"{d}/{name}.json", "w") as f:
        json.dump(obj, f, indent=1)

def edit(name, fn):
    obj = json.loads(text)
    fn(obj)
    put(name, obj)

open(d + "/truncated.json", "w").write(text[: len(text) // 2])
open(d + "/not_json.json", "w").write("EncData: this is not JSON\n")
open(d + "/array.json", "w").write("[1, 2, 3]\n")
open(d + "/empty.json", "w").write("")
edit("required_string", lambda o: o["SharedKeys"].__setitem__("required", "2"))
edit("required_1", lambda o: o["SharedKeys"].__setitem__("required", 1))
edit("data_object", lambda o: o["EncData"].__setitem__("data", {}))
edit("version_3", lambda o: o.__setitem__("version", 3))
edit("no_encdata", lambda o: o.pop("EncData"))
edit("no_shared_keys", lambda o: o.pop("SharedKeys"))
edit("no_enc_shares", lambda o: o["SharedKeys"].pop("enc_shares"))
edit("kdf_unknown", lambda o: o["EncData"].__setitem__("kdf", "hkdf"))
edit("item_no_tag", lambda o: o["EncData"]["data"][1].pop("tag"))
edit("item_jwe_number", lambda o: o["EncData"]["data"][0].__setitem__("compact_jwe", 12))

def spoil_item(fn):
    def f(o):
        it = o["EncData"]["data"][0]
        it["compact_jwe"] = fn(it["compact_jwe"])
    return f

def spoil_share(i, fn):
    def f(o):
        sh = o["SharedKeys"]["enc_shares"][i]
        sh["enc_key"] = fn(sh["enc_key"])
    return f

# item 0 is hsm_backup; share i belongs to cert_i (sdforge keeps the order).
edit("item_bad_b64", spoil_item(lambda j: j[:-10] + "+" + j[-9:]))
edit("item_4_parts", spoil_item(lambda j: j.rsplit(".", 1)[0]))
edit("item_6_parts", spoil_item(lambda j: j + ".AAAA"))
edit("share_bad_b64", spoil_share(1, lambda j: j.replace(".", ".*", 1)))
edit("share_4_parts", spoil_share(1, lambda j: j.rsplit(".", 1)[0]))
edit("share_no_enc_key", lambda o: o["SharedKeys"]["enc_shares"][1].pop("enc_key"))
# Several defects at once, for inspect to list them all.
def many(o):
    spoil_item(lambda j: j + ".AAAA")(o)
    o["EncData"]["data"][2].pop("tag")
    spoil_share(0, lambda j: j.replace(".", ".*", 1))(o)
    o["SharedKeys"]["enc_shares"][2]["x5t_256"] = "not a thumbprint"
edit("many_defects", many)
PY

# Exchange keys that must be refused, and files that are not what they claim.
tmp=$(mktemp -d)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/w.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/w.key" -days 30 -subj "/CN=weak exchange" -out "$bad/exchange_rsa1024.cer"
cp "$tmp/w.key" "$bad/weak_wrapping.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/ec.key" -days 30 -subj "/CN=ec exchange" -out "$bad/exchange_ec.cer"
cp "$tmp/ec.key" "$bad/ec_wrapping.key"
openssl req -new -x509 -key "$tmp/ec.key" -days 30 -subj "/CN=ec custodian" -out "$bad/ec_wrapping.cer"
rm -rf "$tmp"
echo '{"key_format": "jwk", "transfer_key": "{\"kty\": \"RSA\"}"}' >"$bad/exchange_no_x5c.json"
# A JWK whose n/e are the exchange key's but whose x5c is another certificate.
python3 - "$bad/exchange_jwk_mismatch.jwk" tests/vectors/sd/exchange/exchange.jwk "$keys/cert_0.cer" <<'PY'
import base64, json, sys
jwk = json.load(open(sys.argv[2]))
pem = open(sys.argv[3]).read().split("-----")[2]
jwk["x5c"] = [base64.b64encode(base64.b64decode(pem)).decode()]
open(sys.argv[1], "w").write(json.dumps(jwk, indent=1) + "\n")
PY
echo "this is not a key" >"$bad/not_a_key.key"
cp "$keys/cert_1.key" "$bad/lonely.key"            # no lonely.cer beside it
cp "$keys/cert_1.key" "$bad/mismatch.key"          # mismatch.cer is another key's
cp "$keys/cert_0.cer" "$bad/mismatch.cer"
chmod 0644 "$bad"/*
echo "made $(ls "$bad" | wc -l) files in $bad"
