#!/usr/bin/env bash
# Regenerates the exchange-key fixtures of tests/test_attest.c and
# tests/t_exchange.sh (a manual step; the files are committed).  Needs
# openssl and python3 with python3-cryptography (Debian packages).
#
#   tests/vectors/attest/make.sh        (from the top of the work tree)
#
# evidence_2025.bin      the attestation extension's bytes of the real 2025
#                        transfer key (tests/vectors/real-service/)
# copied_extension.pem   a new RSA key's self-signed certificate, CN of the
#                        2025 key, carrying a verbatim copy of that extension
# critical_extension.pem the same, with the extension marked critical
# cert_0_recert.cer      a second certificate for the real custodian key
#                        cert_0.key, under another name (a thumbprint no share has)
# synthetic/             evidence signed under a test root of our own, one file
#                        per check (see synth.py)
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top"
out=tests/vectors/attest
real=tests/vectors/real-service
python3 - "$real/transfer-key-2025.jwk.json" "$out" <<'PY'
import base64, datetime, json, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

jwk = json.load(open(sys.argv[1]))
out = sys.argv[2]
real = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
oid = x509.ObjectIdentifier("1.2.840.113556.10.1.1")
ext = real.extensions.get_extension_for_oid(oid).value.value
open(f"{out}/evidence_2025.bin", "wb").write(ext)

# Fixed dates: the fixtures do not depend on when they were made.
start = datetime.datetime(2025, 4, 22, tzinfo=datetime.timezone.utc)
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = real.subject
for fname, critical in (("copied_extension.pem", False), ("critical_extension.pem", True)):
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(key.public_key()).serial_number(1)
         .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=365))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.UnrecognizedExtension(oid, ext), critical=critical))
    cert = b.sign(key, hashes.SHA256())
    open(f"{out}/{fname}", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
openssl req -new -x509 -key "$real/cert_0.key" -subj "/CN=not-a-custodian" -days 3650 \
	-set_serial 7 -out "$out/cert_0_recert.cer" 2>/dev/null
python3 "$out/synth.py" "$out/synthetic"
