// Where glibc's malloc state is in a dump: which libc the process ran, its release (and so the
// malloc layout), and main_arena, found through libc's symbols (Debian's libc6-dbg has them) or,
// without symbols, as the malloc_state in libc's data whose ring of `next` pointers comes back to
// itself with a top chunk inside a mapping (what pwndbg does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analysis/dwfl_session.h"
#include "common/result.h"
#include "diagnosis/glibc_malloc_layout.h"

namespace dumpscope {

struct GlibcMalloc {
    const Module* libc = nullptr;
    MallocLayout layout;
    uint64_t main_arena = 0;
    std::string found_by;  // "symbol main_arena" / "self-linked malloc_state in libc's data"
};

// Fails with a sentence a user can act on: no glibc in the process (static or another libc), a
// release whose layout is not known, main_arena neither in the symbols nor in the dump.
Result<GlibcMalloc> locate_glibc_malloc(const analysis::DwflSession& session);

// Without symbols: the malloc_state in libc's writable data (its .data/.bss mappings) whose ring
// of `next` pointers comes back to it, every other arena just after a heap_info at a
// heap-aligned address, with a page-multiple system_mem and an aligned top chunk in a mapping.
std::optional<uint64_t> find_main_arena_in_data(const Snapshot& snapshot, const Module& libc,
                                                const MallocLayout& layout);

// The release of the libc module: the banner from its file when the session matched one (same
// build-id), else from the dump's copy of its read-only data.
Result<GlibcVersion> glibc_version_of(const analysis::DwflSession& session, const Module& libc);

}  // namespace dumpscope
