#!/usr/bin/env python3
"""Writes tests/vectors/sss_vectors.txt, the known answers for sss/.

A plain, slow model of the scheme: polynomials evaluated term by term with
Python integers, secrets checked by Lagrange interpolation with pow(a, -1, p),
and ChaCha20 (RFC 8439) written out for the deterministic split.  Its output is
committed; run it again only to extend the vectors:

    python3 tests/vectors/sss_vectors.py > tests/vectors/sss_vectors.txt

Line formats (hex is lowercase, shares are little-endian uint16 elements):
    combine ok SECRET SHARE...          the shares rebuild SECRET
    combine ERROR - SHARE...            sss_combine fails with SSS_E<ERROR>
    split N K SEED SECRET SHARE...      sss_split_deterministic's N shares
"""

import random
import struct

P = 257


def rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def chacha20_block(key, counter, nonce):
    const = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    state = const + list(struct.unpack('<8I', key)) + [counter] + \
        list(struct.unpack('<3I', nonce))
    w = list(state)

    def qr(a, b, c, d):
        w[a] = (w[a] + w[b]) & 0xffffffff
        w[d] = rotl(w[d] ^ w[a], 16)
        w[c] = (w[c] + w[d]) & 0xffffffff
        w[b] = rotl(w[b] ^ w[c], 12)
        w[a] = (w[a] + w[b]) & 0xffffffff
        w[d] = rotl(w[d] ^ w[a], 8)
        w[c] = (w[c] + w[d]) & 0xffffffff
        w[b] = rotl(w[b] ^ w[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12)
        qr(1, 5, 9, 13)
        qr(2, 6, 10, 14)
        qr(3, 7, 11, 15)
        qr(0, 5, 10, 15)
        qr(1, 6, 11, 12)
        qr(2, 7, 8, 13)
        qr(3, 4, 9, 14)
    return struct.pack('<16I', *[(a + b) & 0xffffffff for a, b in zip(w, state)])


def deterministic_stream(seed, length):
    """randombytes_buf_deterministic(): ChaCha20-IETF, nonce "LibsodiumDRG"."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += chacha20_block(seed, counter, b'LibsodiumDRG')
        counter += 1
    return bytes(out[:length])


def evaluate(coefs, x):
    return sum(c * pow(x, d, P) for d, c in enumerate(coefs)) % P


def encode(x, ys):
    return b''.join(struct.pack('<H', (x << 9) | y) for y in ys)


def interpolate(points):
    total = 0
    for i, (xi, yi) in enumerate(points):
        num = den = 1
        for m, (xm, _) in enumerate(points):
            if m != i:
                num = num * xm % P
                den = den * (xm - xi) % P
        total += yi * num * pow(den, -1, P)
    return total % P


def make_ys(secret, xs, k, rng):
    polys = [[s] + [rng.randrange(P) for _ in range(k - 1)] for s in secret]
    return {x: [evaluate(f, x) for f in polys] for x in xs}


def rebuild(shares):
    """Decodes shares and interpolates every byte: the model's combine."""
    elems = [struct.unpack('<%dH' % (len(s) // 2), s) for s in shares]
    return [interpolate([(e[j] >> 9, e[j] & 0x1ff) for e in elems])
            for j in range(len(elems[0]))]


def combine_ok(secret, shares):
    assert rebuild(shares) == list(secret)
    print('combine ok', secret.hex(), ' '.join(s.hex() for s in shares))


def combine_err(err, shares):
    print('combine', err, '-', ' '.join(s.hex() for s in shares))


def set_elem(share, j, value):
    b = bytearray(share)
    b[2 * j:2 * j + 2] = struct.pack('<H', value)
    return bytes(b)


def get_elem(share, j):
    return struct.unpack_from('<H', share, 2 * j)[0]


def main():
    rng = random.Random(20261125)
    print('# Known answers for sss/, written by tests/vectors/sss_vectors.py.')

    for k in range(2, 11):
        for length in (1, 2, 31, 32, 33, 255, 256, 257, 300):
            secret = bytes(rng.randrange(256) for _ in range(length))
            pool = rng.sample(range(1, 127), min(126, k + 3))
            ys = make_ys(secret, pool, k, rng)
            use = rng.sample(pool, k + rng.choice((0, 0, 1, 3)))
            combine_ok(secret, [encode(x, ys[x]) for x in use])

    secret = bytes(rng.randrange(256) for _ in range(40))
    ys = make_ys(secret, range(1, 127), 126, rng)
    xs = list(range(1, 127))
    rng.shuffle(xs)
    combine_ok(secret, [encode(x, ys[x]) for x in xs])

    secret = bytes([0, 255, 1, 128] * 20)
    ys = make_ys(secret, [1, 2, 126, 125, 64], 3, rng)
    good = [encode(x, ys[x]) for x in (126, 1, 64)]
    combine_ok(secret, good)
    for j in (0, 1, 79):
        combine_err('X_MIXED', [good[0], set_elem(good[1], j, get_elem(good[1], j) ^ (3 << 9)),
                                good[2]])
        combine_err('Y_RANGE', [good[0], good[1], set_elem(good[2], j, (64 << 9) | 257)])
        combine_err('Y_RANGE', [set_elem(good[0], j, (126 << 9) | 511), good[1], good[2]])
        both = [set_elem(good[0], j, (126 << 9) | 300), good[1],
                set_elem(good[2], 79 - j, (63 << 9) | get_elem(good[2], 79 - j) & 0x1ff)]
        combine_err('X_MIXED', both)
    combine_err('X_RANGE', [good[0], set_elem(good[1], 0, get_elem(good[1], 0) & 0x1ff), good[2]])
    combine_err('X_RANGE', [good[0], set_elem(good[1], 0, (127 << 9) | 5), good[2]])
    combine_err('X_REPEAT', [good[0], good[1], good[0]])

    for j in (0, 33, 79):
        for y in range(P):
            trial = [good[0], good[1], set_elem(good[2], j, (64 << 9) | y)]
            if rebuild(trial)[j] == 256:
                combine_err('INCONSISTENT', trial)
                break
        else:
            raise AssertionError('no inconsistent value found')

    for n, k, length in ((2, 2, 1), (5, 3, 40), (7, 4, 300), (126, 126, 20), (10, 2, 513)):
        seed = bytes(rng.randrange(256) for _ in range(32))
        secret = bytes(rng.randrange(256) for _ in range(length))
        stream = deterministic_stream(seed, 8 * (k - 1) * length)
        words = struct.unpack('<%dQ' % ((k - 1) * length), stream)
        polys = [[s] + [w % P for w in words[(k - 1) * j:(k - 1) * (j + 1)]]
                 for j, s in enumerate(secret)]
        shares = [encode(x, [evaluate(f, x) for f in polys]) for x in range(1, n + 1)]
        assert rebuild(shares[:k]) == list(secret)
        print('split', n, k, seed.hex(), secret.hex(), ' '.join(s.hex() for s in shares))


main()
