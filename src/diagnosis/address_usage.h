// The address space by usage, as `!address -summary` sums it (analysis' region classifier):
// committed and reserved (PROT_NONE) bytes of images, heaps, stacks, anonymous memory, mapped
// files. What the memory findings compare the heap walk with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot/snapshot.h"

namespace dumpscope::diagnosis {

struct UsageTotal {
    std::string usage;       // "Heap", "Anonymous", "Image", "Stack", "MappedFile", "Other", ...
    uint64_t committed = 0;  // bytes of accessible mappings
    uint64_t reserved = 0;   // bytes of PROT_NONE mappings (guards, arenas' unused tails)
    uint64_t in_dump = 0;    // bytes of it the dump holds
    uint64_t regions = 0;
};

struct AddressUsage {
    std::vector<UsageTotal> by_usage;  // most committed first
    uint64_t committed = 0;
    uint64_t reserved = 0;
    uint64_t committed_of(const std::string& usage) const;  // 0 for a usage not present
};

AddressUsage address_usage(const Snapshot& snapshot);

}  // namespace dumpscope::diagnosis
