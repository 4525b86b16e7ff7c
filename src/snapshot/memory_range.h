// A range of addresses [start, start + size): what the plan selects, what a dump holds.
#pragma once

#include <cstdint>

namespace dumpscope {

struct MemoryRange {
    uint64_t start = 0;
    uint64_t size = 0;
    uint64_t end() const { return start + size; }
    bool operator==(const MemoryRange&) const = default;
};

}  // namespace dumpscope
