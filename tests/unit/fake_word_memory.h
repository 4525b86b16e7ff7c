// Memory a unit test writes word by word (regions of zeros, then 8- and 2-byte values at chosen
// addresses), turned into a dump's memory source (in memory, or in a dump file read by pread):
// each region becomes one range, and addresses outside every region are not in the dump. For
// hand-built heaps and the like.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mapped_file.h"
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
    // The same memory as a dump file would hold it: the regions one after the other in the file
    // at `path` (after a page of other bytes), mapped and kept open, so that scans read it by
    // pread (RangeMemorySource::copies_by_file).
    std::shared_ptr<const RangeMemorySource> file_source(const std::string& path) {
        std::vector<uint8_t> contents(4096, 0xee);
        std::vector<std::pair<uint64_t, size_t>> offsets;
        for (auto& [start, bytes] : regions_) {
            offsets.emplace_back(start, contents.size());
            contents.insert(contents.end(), bytes.begin(), bytes.end());
        }
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(contents.data()),
                   static_cast<std::streamsize>(contents.size()));
        auto opened = MappedFile::open(path, MappedFile::Descriptor::kKeep);
        EXPECT_TRUE(opened.ok()) << path;
        if (!opened.ok()) return nullptr;
        auto file = std::make_shared<MappedFile>(std::move(*opened));
        std::vector<DumpMemoryRange> ranges;
        for (const auto& [start, offset] : offsets)
            ranges.push_back({start, file->bytes().subspan(offset, regions_.at(start).size())});
        auto memory = RangeMemorySource::create(
            std::move(ranges), file, RangeMemorySource::Backing::kReadOnlyFileMapping, file.get());
        EXPECT_TRUE(memory.ok());
        EXPECT_TRUE((*memory)->copies_by_file());
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
