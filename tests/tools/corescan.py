#!/usr/bin/env python3
"""corescan CORE SECRETS: looks for secrets in a core file's ordinary memory.

SECRETS holds one secret a line, "LABEL HEX".  Every anonymous writable
mapping is searched (heap, malloc's mmap'ed chunks, thread arenas, stacks),
except guarded ones: a writable mapping between two inaccessible ones, as
libsodium's sodium_malloc and OpenSSL's secure heap lay out their locked
memory.  File-backed mappings (NT_FILE) are skipped.  Prints each find as
"LABEL at 0xADDR" and exits 1 if any, 0 if none.
"""
import struct
import sys

PT_LOAD, PT_NOTE, NT_FILE = 1, 4, 0x46494c45


def segments(core):
    if core[:4] != b"\x7fELF" or core[4] != 2:
        sys.exit("corescan: not a 64-bit ELF core")
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    loads, files = [], []
    for i in range(phnum):
        p_type, p_flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", core, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((vaddr, memsz, p_flags, off, filesz))
        elif p_type == PT_NOTE:
            files += file_ranges(core[off:off + filesz])
    return sorted(loads), files


def file_ranges(notes):
    out, pos = [], 0
    while pos + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from("<III", notes, pos)
        pos += 12 + ((namesz + 3) & ~3)
        desc = notes[pos:pos + descsz]
        pos += (descsz + 3) & ~3
        if ntype == NT_FILE:
            count, = struct.unpack_from("<Q", desc, 0)
            for k in range(count):
                start, end, _ = struct.unpack_from("<QQQ", desc, 16 + 24 * k)
                out.append((start, end))
    return out


def main():
    core = open(sys.argv[1], "rb").read()
    secrets = []
    for line in open(sys.argv[2]):
        if line.strip():
            label, hexval = line.split()
            secrets.append((label, bytes.fromhex(hexval)))
    loads, files = segments(core)
    found = 0
    for i, (vaddr, memsz, flags, off, filesz) in enumerate(loads):
        if not flags & 2 or filesz == 0:
            continue
        if any(s <= vaddr < e for s, e in files):
            continue
        prev_none = i > 0 and loads[i - 1][2] & 7 == 0 and \
            loads[i - 1][0] + loads[i - 1][1] == vaddr
        next_none = i + 1 < len(loads) and loads[i + 1][2] & 7 == 0 and \
            loads[i + 1][0] == vaddr + memsz
        if prev_none and next_none:
            continue
        data = core[off:off + filesz]
        for label, s in secrets:
            at = data.find(s)
            while at >= 0:
                print("%s at 0x%x" % (label, vaddr + at))
                found += 1
                at = data.find(s, at + 1)
    sys.exit(1 if found else 0)


main()
