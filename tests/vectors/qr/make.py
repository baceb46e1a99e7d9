#!/usr/bin/env python3
"""Writes the QR part fixtures of tests/t_qr.sh from exchange.cer, by the
format of docs/qr.md (independent of the C code): an SDC1 set as the first
version wrote it, and SDC2 sets whose parts are each well formed (check
values right) but whose zlib stream is truncated, corrupted, or a bomb."""
import hashlib, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
def b45(b):
    o = ""
    for i in range(0, len(b) - 1, 2):
        n = b[i] * 256 + b[i + 1]
        o += A[n % 45] + A[n // 45 % 45] + A[n // 2025]
    if len(b) % 2:
        o += A[b[-1] % 45] + A[b[-1] // 45]
    return o
def parts(magic, length, md, body, size=600):
    st = length.to_bytes(4, "big") + md + body
    ch = [st[i:i + size] for i in range(0, len(st), size)]
    out = []
    for n, p in enumerate(ch, 1):
        t = "%s:%d/%d:%s:%s" % (magic, n, len(ch), md[:8].hex().upper(), b45(p))
        out.append(t + ":" + hashlib.sha256(t.encode()).digest()[:4].hex().upper())
    return "\n".join(out) + "\n"
f = open("tests/vectors/sd/exchange/exchange.cer", "rb").read()
md = hashlib.sha256(f).digest()
z = zlib.compress(f, 9)
bad = bytearray(z); bad[-1] ^= 0x01  # the Adler-32 trailer
w = lambda name, s: open("tests/vectors/qr/" + name, "w").write(s)
w("exchange-sdc1.txt", parts("SDC1", len(f), md, f))
w("sdc2-truncated.txt", parts("SDC2", len(f), md, z[:-12]))
w("sdc2-corrupted.txt", parts("SDC2", len(f), md, bytes(bad)))
w("sdc2-bomb.txt", parts("SDC2", len(f), md, zlib.compress(bytes(8 << 20), 9), 800))
