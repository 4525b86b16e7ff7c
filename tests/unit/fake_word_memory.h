// Memory a unit test writes word by word (regions of zeros, then 8- and 2-byte values at chosen
// addresses), turned into a dump's memory source: each region becomes one range, and addresses
// outside every region are not in the dump. For hand-built heaps and the like.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "snapshot/range_memory_source.h"

namespace dumpscope::test {

class FakeWordMemory {
public:
    void region(uint64_t start, uint64_t size) { regions_[start].assign(size, 0); }
    void put(uint64_t addr, uint64_t value) { write(addr, &value, 8); }
    void put16(uint64_t addr, uint16_t value) { write(addr, &value, 2); }
    std::shared_ptr<const MemorySource> source() {
        auto keeper = std::make_shared<std::map<uint64_t, std::vector<uint8_t>>>(regions_);
        std::vector<DumpMemoryRange> ranges;
        for (auto& [start, bytes] : *keeper) ranges.push_back({start, bytes});
        auto memory = RangeMemorySource::create(std::move(ranges), keeper);
        EXPECT_TRUE(memory.ok());
        return *memory;
    }

private:
    void write(uint64_t addr, const void* value, size_t size) {
        for (auto& [start, bytes] : regions_) {
            if (addr >= start && addr + size <= start + bytes.size()) {
                std::memcpy(bytes.data() + (addr - start), value, size);
                return;
            }
        }
        ADD_FAILURE() << "write outside every region: " << std::hex << addr;
    }

    std::map<uint64_t, std::vector<uint8_t>> regions_;
};

}  // namespace dumpscope::test
