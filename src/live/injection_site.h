// Where dumpscope puts the few bytes of code an injected system call needs: in the padding after
// the end of an executable PT_LOAD segment of a mapped ELF object. Those bytes lie inside an
// executable mapping but belong to no function, so nothing of the target ever runs them, and if
// dumpscope died before putting them back they would stay harmless.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "snapshot/memory_source.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

struct InjectionSite {
    uint64_t address = 0;  // kInjectionCodeSize bytes, 16-byte aligned
    std::string path;      // the object whose padding it is
};

// Looks through ELF objects mapped at file offset 0 (the main executable `exe_path` first),
// skipping mappings marked MADV_DONTFORK / MADV_WIPEONFORK. `mappings` sorted by start. Error
// when no object has enough padding.
Result<InjectionSite> find_injection_site(const std::vector<Mapping>& mappings,
                                          const MemorySource& memory, const std::string& exe_path,
                                          uint64_t page_size);

}  // namespace dumpscope
