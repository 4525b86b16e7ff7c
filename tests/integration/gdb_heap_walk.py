# An independent walk of glibc's malloc heaps for heap_test.cpp, run inside gdb on a core with
# libc's debug information: structure layouts come from gdb's reading of libc's DWARF
# (struct malloc_state, heap_info, mp_, tcache), not from dumpscope's tables. Prints one JSON
# line: per arena the chunks whose header says in use (the next chunk's PREV_INUSE bit) and
# those it says free, with their bytes, and over all threads how many chunks their tcaches and
# the arenas' fastbins hold.
import json

import gdb

HEAP_MAX_SIZE = 64 << 20
LIMIT = 10_000_000  # chunks or list entries: a broken heap must not make gdb loop

inferior = gdb.selected_inferior()


def word(address):
    return int.from_bytes(bytes(inferior.read_memory(address, 8)), "little")


def segments(arena, main_arena):
    top = int(arena["top"])
    if int(arena.address) == int(main_arena.address):
        start = int(gdb.parse_and_eval("mp_")["sbrk_base"])
        return [((start + 15) & ~15, top)]
    heap_info = gdb.lookup_type("heap_info")
    state_size = gdb.lookup_type("struct malloc_state").sizeof
    heap = top & ~(HEAP_MAX_SIZE - 1)
    out = []
    while heap != 0 and len(out) < LIMIT:
        info = gdb.Value(heap).cast(heap_info.pointer()).dereference()
        first = heap + heap_info.sizeof
        if first == int(arena.address):
            first = (int(arena.address) + state_size + 15) & ~15
        size = int(info["size"])
        out.append((first, top if heap <= top < heap + size else heap + size))
        heap = int(info["prev"])
    return out


def walk(arena, main_arena):
    result = {"address": int(arena.address), "in_use_chunks": 0, "in_use_bytes": 0,
              "free_chunks": 0, "free_bytes": 0, "fastbin_chunks": 0}
    for start, end in segments(arena, main_arena):
        p, n = start, 0
        while p < end and n < LIMIT:
            size = word(p + 8) & ~7
            if size == 0:
                break
            key = "in_use" if word(p + size + 8) & 1 else "free"
            result[key + "_chunks"] += 1
            result[key + "_bytes"] += size
            p, n = p + size, n + 1
    fastbins = arena["fastbinsY"]
    for i in range(int(fastbins.type.range()[1]) + 1):
        p, n = int(fastbins[i]), 0
        while p != 0 and n < LIMIT:
            n += 1
            p = ((p + 16) >> 12) ^ word(p + 16)  # safe-linked fd (glibc 2.32 and later)
        result["fastbin_chunks"] += n
    return result


def tcache_chunks():
    total = 0
    for thread in inferior.threads():
        thread.switch()
        tcache = gdb.parse_and_eval("tcache")
        if int(tcache) == 0:
            continue
        counts = tcache.dereference()["counts"]
        total += sum(int(counts[i]) for i in range(int(counts.type.range()[1]) + 1))
    return total


main_arena = gdb.parse_and_eval("main_arena")
arenas, arena = [], main_arena
while len(arenas) < 1024:
    arenas.append(walk(arena, main_arena))
    arena = arena["next"].dereference()
    if int(arena.address) == int(main_arena.address):
        break
print("GDB-HEAP " + json.dumps({"arenas": arenas, "tcache_chunks": tcache_chunks()}))
