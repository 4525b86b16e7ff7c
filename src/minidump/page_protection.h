// A mapping's access as a MemoryInfo Protect value and back, from page_protections.def.
//
// Windows' WRITECOPY protections are those of a view of a file where a write makes a private
// copy of the page instead of changing the file: on Linux, a writable MAP_PRIVATE file mapping
// ("rw-p" / "rwxp" with a path), such as a module's .data. Anonymous private memory is
// READWRITE (there is no file to copy from), a shared mapping is READWRITE (writes reach the
// file or the other processes).
#pragma once

#include <cstdint>

#include "snapshot/snapshot.h"

namespace dumpscope::minidump {

struct PageAccess {
    bool read = false;
    bool write = false;
    bool execute = false;
    bool copy_on_write = false;
};

// The Protect value of a mapping: PAGE_NOACCESS ... PAGE_EXECUTE_WRITECOPY. Write-only mappings
// (x86-64 cannot make them) are read-write.
uint32_t page_protection(const Mapping& mapping);

// What a Protect value allows: the union of its base protections (a well-formed value has one);
// the modifier bits (PAGE_GUARD, ...) change nothing. 0 allows nothing.
PageAccess page_access(uint32_t protect);

}  // namespace dumpscope::minidump
