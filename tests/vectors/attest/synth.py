#!/usr/bin/env python3
"""Synthetic SGX evidence for tests/test_attest.c, one file per check.

A test root, a test intermediate and a test PCK leaf (P-256) stand for
Intel's; evidence is laid out as FORMAT.md section 9 says and signed by them,
then spoiled one field at a time *before* signing, so that each check of
ceremony/attest.c is reached on its own.  The test root is trusted only by
the test hook cer_sgx_verify_anchor; under the pinned Intel root every file
here must be refused.

    python3 synth.py OUTDIR
"""
import datetime, hashlib, os, struct, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

INTEL_QE_MRSIGNER = bytes.fromhex(
    "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff")
QE_VENDOR = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
MRSIGNER = bytes(range(32))
MRENCLAVE = bytes(range(32, 64))
SPKI_DIGEST = hashlib.sha256(b"synthetic exchange key").digest()
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, key, issuer, issuer_key, ca, path_len=None):
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(START).not_valid_after(START + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                                      key_encipherment=False, data_encipherment=False,
                                      key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer_key.public_key()), critical=False))
    return b.sign(issuer_key, hashes.SHA256())


def raw_sig(key, msg):
    r, s = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def body(mrsigner, mrenclave, prodid, svn, debug, report_data):
    b = bytearray(384)
    b[48] = 0x05 | (0x02 if debug else 0)     # INIT | MODE64BIT (| DEBUG)
    b[64:96] = mrenclave
    b[128:160] = mrsigner
    struct.pack_into("<HH", b, 256, prodid, svn)
    b[320:384] = report_data
    return bytes(b)


def evidence(chain_pem, pck_key, spoil=None):
    spoil = spoil or set()
    att = ec.generate_private_key(ec.SECP256R1())
    nums = att.public_key().public_numbers()
    att_xy = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
    auth = bytes(range(32))
    qe_rd = hashlib.sha256((att_xy if "qe_unbound" not in spoil else att_xy[::-1]) + auth).digest()
    qe = body(INTEL_QE_MRSIGNER if "qe_not_intel" not in spoil else bytes(32), bytes(32),
              1, 8, "debug_qe" in spoil, qe_rd + bytes(32))
    qe_signer = pck_key if "qe_sig" not in spoil else ec.generate_private_key(ec.SECP256R1())
    qe_sig = raw_sig(qe_signer, qe)
    rd = SPKI_DIGEST if "report_unbound" not in spoil else hashlib.sha256(b"another key").digest()
    isv = body(MRSIGNER, MRENCLAVE, 1, 2, "debug_enclave" in spoil, rd + bytes(32))
    header = struct.pack("<HHIHH", 3, 2, 0, 8, 13) + QE_VENDOR + bytes(20)
    quote_signer = att if "quote_sig" not in spoil else ec.generate_private_key(ec.SECP256R1())
    sig = raw_sig(quote_signer, header + isv)
    cert_data = chain_pem + b"\0"
    sigdata = (sig + att_xy + qe + qe_sig + struct.pack("<H", len(auth)) + auth +
               struct.pack("<HI", 5, len(cert_data)) + cert_data)
    quote = header + isv + struct.pack("<I", len(sigdata)) + sigdata
    return struct.pack("<IIQ", 1, 2, len(quote)) + quote


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    pck_key = ec.generate_private_key(ec.SECP256R1())
    root = cert("Test SGX Root CA", root_key, "Test SGX Root CA", root_key, True, 1)
    mid = cert("Test SGX PCK Platform CA", mid_key, "Test SGX Root CA", root_key, True, 0)
    leaf = cert("Test SGX PCK Certificate", pck_key, "Test SGX PCK Platform CA", mid_key, False)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    chain = pem(leaf) + pem(mid) + pem(root)
    open(f"{out}/root.pem", "wb").write(pem(root))
    open(f"{out}/spki_sha256.hex", "w").write(SPKI_DIGEST.hex() + "\n")
    cases = ["good", "qe_sig", "qe_unbound", "qe_not_intel", "debug_qe", "quote_sig",
             "debug_enclave", "report_unbound"]
    for case in cases:
        spoil = set() if case == "good" else {case}
        open(f"{out}/{case}.bin", "wb").write(evidence(chain, pck_key, spoil))
    # A chain whose leaf another CA signed: the chain check must refuse it.
    other = ec.generate_private_key(ec.SECP256R1())
    stray = cert("Test SGX PCK Certificate", pck_key, "Test SGX PCK Platform CA", other, False)
    open(f"{out}/chain_broken.bin", "wb").write(evidence(pem(stray) + pem(mid) + pem(root), pck_key))


if __name__ == "__main__":
    main()
