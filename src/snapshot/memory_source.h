// Where a snapshot's memory bytes come from: a live process, a clone, or a dump file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.h"

namespace dumpscope {

class MemorySource {
public:
    virtual ~MemorySource() = default;

    // Reads up to out.size() bytes at addr. Returns how many bytes were read from the start
    // of the range (a short count means the rest is not readable / not in the dump).
    // Never fills bytes it did not read.
    virtual Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const = 0;

    // How many bytes of [addr, addr + size) can be read. The default reads the range page by
    // page; sources that know their ranges (dump files) answer without reading.
    virtual uint64_t bytes_present(uint64_t addr, uint64_t size) const;
};

}  // namespace dumpscope
