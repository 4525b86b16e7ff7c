#!/usr/bin/env python3
"""Writes tests/fuzz/corpus/heap/seed0..7 for heap_reachability_fuzzer: a 16-byte prefix (the top
chunk's offset, a mask of which data words are roots) and a glibc main heap of 5-60 chunks of
32-320 bytes, each in use, a few of their words pointing into other chunks, then the top chunk."""
import random
import struct
import sys

HEAP = 0x555555600000  # where the fuzzer puts the heap


def seed(number):
    r = random.Random(number)
    chunks, p = [], 0
    for _ in range(r.randint(5, 60)):
        size = 16 * r.randint(2, 20)
        chunks.append((p, size))
        p += size
    top = p
    heap = bytearray(top + 64)
    for at, size in chunks:
        struct.pack_into('<Q', heap, at + 8, size | 1)  # PREV_INUSE: the one before is in use
    struct.pack_into('<Q', heap, top + 8, 0x20000 | 1)
    for at, size in chunks:
        for _ in range(r.randint(0, 3)):
            word = at + 16 + 8 * r.randrange(0, (size - 16) // 8)
            to, to_size = r.choice(chunks)
            struct.pack_into('<Q', heap, word, HEAP + to + 16 + 8 * r.randrange(0, (to_size - 16) // 8))
    return struct.pack('<QQ', top, r.getrandbits(64)) + bytes(heap)


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else 'tests/fuzz/corpus/heap'
    for n in range(8):
        with open(f'{out}/seed{n}', 'wb') as f:
            f.write(seed(n))
