// The memory of a dump file: address ranges whose bytes lie in a mapped file. Reads copy from
// the mapping; an address no range holds ends the read (a short count), so bytes that are not in
// the dump are never made up.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/mapped_file.h"
#include "common/result.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

struct DumpMemoryRange {
    uint64_t address = 0;
    std::span<const uint8_t> bytes;  // inside the mapped file
    uint64_t end() const { return address + bytes.size(); }
};

class RangeMemorySource final : public MemorySource {
public:
    // What the ranges' bytes are: memory the keeper owns, or a read-only private mapping of a
    // dump file (which release() may drop pages of).
    enum class Backing : uint8_t { kOwnedMemory, kReadOnlyFileMapping };

    // Sorts the ranges and drops empty ones. Ranges that wrap around the address space or
    // overlap each other are an Error naming them. `keeper` owns the mapping the spans point
    // into and lives as long as the source.
    // `file`, when given, is the mapped file the spans point into (kept alive by `keeper`):
    // copy() then reads it by pread when it was kept open.
    static Result<std::shared_ptr<RangeMemorySource>> create(
        std::vector<DumpMemoryRange> ranges, std::shared_ptr<const void> keeper,
        Backing backing = Backing::kOwnedMemory, const MappedFile* file = nullptr);

    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override;
    // What read() returns, read from the dump file by pread when copies_by_file(): no page of
    // the mapping is touched (for scans of large ranges; see MappedFile::Descriptor).
    Result<size_t> copy(uint64_t addr, std::span<uint8_t> out) const;
    bool copies_by_file() const { return file_ != nullptr && file_->can_read_at(); }
    uint64_t bytes_present(uint64_t addr, uint64_t size) const override;

    // A hint from a scan that has moved past [addr, addr + size): for a file mapping, the
    // process drops those pages (madvise MADV_DONTNEED; they stay in the page cache and the
    // next read faults them back in), so that scanning a gigabyte of a dump does not leave a
    // gigabyte resident. Never changes what a read returns; does nothing for owned memory, nor
    // for a dump holding less than kKeepResident of memory (reading its pages again would cost
    // more than keeping them).
    void release(uint64_t addr, uint64_t size) const;
    static constexpr uint64_t kKeepResident = 256u << 20;

    // A hint from a scan about to read [addr, addr + size): for a file mapping, the process
    // maps those pages in one call (madvise MADV_POPULATE_READ) rather than a fault at a time.
    void will_read(uint64_t addr, uint64_t size) const;

    // The dump's bytes from addr on, in place (no copy; valid as long as the source), up to
    // `size` and as far as the one range holding addr goes: empty when addr is not in the dump.
    std::span<const uint8_t> view(uint64_t addr, uint64_t size) const;

    const std::vector<DumpMemoryRange>& ranges() const { return ranges_; }

private:
    RangeMemorySource(std::vector<DumpMemoryRange> ranges, std::shared_ptr<const void> keeper,
                      Backing backing, const MappedFile* file)
        : ranges_(std::move(ranges)), keeper_(std::move(keeper)), backing_(backing), file_(file) {
        for (const DumpMemoryRange& r : ranges_) total_ += r.bytes.size();
    }

    // Fills `out` from addr on, range by range up to the first gap: fill(the range's bytes,
    // where they go) gives how many it filled; a short count or an error ends it there.
    template <typename Fill>
    Result<size_t> fill_from(uint64_t addr, std::span<uint8_t> out, Fill fill) const;

    // The first range that ends after addr.
    std::vector<DumpMemoryRange>::const_iterator first_after(uint64_t addr) const;

    std::vector<DumpMemoryRange> ranges_;
    std::shared_ptr<const void> keeper_;
    Backing backing_;
    const MappedFile* file_ = nullptr;  // owned through keeper_
    uint64_t total_ = 0;                // bytes in all ranges
};

}  // namespace dumpscope
