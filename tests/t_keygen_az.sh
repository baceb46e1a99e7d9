#!/usr/bin/env bash
# The real client accepts what keygen makes: az's own download code builds
# the same request body from our certificates, and Debian's
# `az keyvault security-domain restore-blob --passwords` opens our scrypt
# PKCS#8 keys on a security domain made for our certificates (by sdforge);
# blobopen checks the blob against sdforge's items.  Our restore-blob with
# --password-files must do the same.
. tests/lib.sh

need_az "keygen az interop"
EXCH="$VEC/sd/exchange"
W="$TMP/w"
mkdir -p "$W"
for i in 0 1 2 3; do printf 'Custodian %d says: open sesame\n' "$i" >"$W/p$i"; done
pw() { head -n 1 "$W/p$1"; }

# az_download_body OUT CERT... Q: the body az's security_domain_download would
# POST, captured from az's own code with a stand-in client (no network).
az_download_body() {
	/usr/bin/python3 - "$@" <<'EOF'
import importlib.util, json, os, sys
import azure.cli.command_modules.keyvault as kv
from azure.cli.command_modules.keyvault import custom

models = os.path.join(os.path.dirname(kv.__file__), "vendored_sdks/azure_keyvault_t1/v7_2/models")

def model(module, name):
    spec = importlib.util.spec_from_file_location(module, os.path.join(models, module + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, name)

found = {"CertificateSet": model("certificate_set_py3", "CertificateSet"),
         "SecurityDomainJsonWebKey": model("security_domain_json_web_key_py3",
                                           "SecurityDomainJsonWebKey")}

class Cmd:
    def get_models(self, name, resource_type=None):
        return found[name]

class Client:
    def download(self, vault_base_url, certificates):
        with open(sys.argv[1], "w") as f:
            json.dump(certificates.serialize(), f)
        raise SystemExit(0)

custom.security_domain_download(Cmd(), Client(), hsm_name="hsm", sd_wrapping_keys=sys.argv[2:-1],
                                security_domain_file=sys.argv[1] + ".sd", sd_quorum=int(sys.argv[-1]))
sys.exit("az's download did not call the service")
EOF
}
same_json() { python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$1" "$2"; }

K="$W/keys"
check "keygen: 4 keys, quorum 3, RSA-2048, passphrases" \
	"$SDC" keygen -n 4 -q 3 -o "$K" -b 2048 --passphrase-file "$W/p0" "$W/p1" "$W/p2" "$W/p3"
check "az's download code builds the same request from our certificates" \
	az_download_body "$W/az-body.json" "$K/cert_0.cer" "$K/cert_1.cer" "$K/cert_2.cer" "$K/cert_3.cer" 3
check "... which is our download-request.json" same_json "$W/az-body.json" "$K/download-request.json"

check "sdforge makes a security domain for our certificates" \
	"$TOOLS/sdforge" --certs "$K/cert_0.cer" "$K/cert_1.cer" "$K/cert_2.cer" "$K/cert_3.cer" \
	--required 3 --shuffle --out "$W/sd.json" --items-out "$W/items.json"
check "az restore-blob opens our scrypt keys with --passwords" \
	az keyvault security-domain restore-blob --sd-file "$W/sd.json" \
	--sd-exchange-key "$EXCH/exchange.cer" \
	--sd-wrapping-keys "$K/cert_3.key" "$K/cert_0.key" "$K/cert_2.key" \
	--passwords "$(pw 3)" "$(pw 0)" "$(pw 2)" --sd-file-restore-blob "$W/az.blob"
check "az's blob unwraps to sdforge's items" \
	"$TOOLS/blobopen" --blob "$W/az.blob" --exchange-key-private "$EXCH/exchange.key" \
	--exchange-cert "$EXCH/exchange.der" --expect "$W/items.json"
expect_exit "az refuses our key with a wrong password" 1 \
	az keyvault security-domain restore-blob --sd-file "$W/sd.json" \
	--sd-exchange-key "$EXCH/exchange.cer" \
	--sd-wrapping-keys "$K/cert_1.key" "$K/cert_0.key" "$K/cert_2.key" \
	--passwords "$(pw 0)" "$(pw 0)" "$(pw 2)" --sd-file-restore-blob "$W/az-bad.blob"
check "our restore-blob with --password-files" \
	"$SDC" restore-blob --sd-file "$W/sd.json" --sd-exchange-key "$EXCH/exchange.cer" \
	--sd-wrapping-keys "$K/cert_1.key" "$K/cert_2.key" "$K/cert_3.key" \
	--password-files "$W/p1" "$W/p2" "$W/p3" --sd-file-restore-blob "$W/ours.blob"
check "our blob unwraps to sdforge's items" \
	"$TOOLS/blobopen" --blob "$W/ours.blob" --exchange-key-private "$EXCH/exchange.key" \
	--exchange-cert "$EXCH/exchange.der" --expect "$W/items.json"

# Unencrypted keys (--no-passphrase) work with az too, without --passwords.
P="$W/plain"
check "keygen --no-passphrase, 3 keys" "$SDC" keygen -n 3 -q 2 -o "$P" -b 2048 --no-passphrase
check "sdforge for them" "$TOOLS/sdforge" --certs "$P/cert_0.cer" "$P/cert_1.cer" "$P/cert_2.cer" \
	--required 2 --out "$W/sd-plain.json" --items-out "$W/items-plain.json"
check "az restore-blob opens unencrypted keys" \
	az keyvault security-domain restore-blob --sd-file "$W/sd-plain.json" \
	--sd-exchange-key "$EXCH/exchange.cer" --sd-wrapping-keys "$P/cert_2.key" "$P/cert_1.key" \
	--sd-file-restore-blob "$W/az-plain.blob"
check "... to sdforge's items" \
	"$TOOLS/blobopen" --blob "$W/az-plain.blob" --exchange-key-private "$EXCH/exchange.key" \
	--expect "$W/items-plain.json"

# package of the service quickstart's certificates is what az would send too.
for i in 0 1 2; do
	openssl req -newkey rsa:2048 -nodes -keyout "$W/qs_$i.key" -x509 -days 365 \
		-subj "/CN=qs$i" -out "$W/qs_$i.cer" 2>/dev/null
done
check "package of quickstart certificates" \
	"$SDC" package --certs "$W/qs_0.cer" "$W/qs_1.cer" "$W/qs_2.cer" -q 2 -o "$W/pkg"
check "az's download code builds the same request" \
	az_download_body "$W/az-qs.json" "$W/qs_0.cer" "$W/qs_1.cer" "$W/qs_2.cer" 2
check "... which is package's download-request.json" same_json "$W/az-qs.json" "$W/pkg/download-request.json"

done_testing
