#include "snapshot/range_memory_source.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace dumpscope {

Result<std::shared_ptr<RangeMemorySource>> RangeMemorySource::create(
    std::vector<DumpMemoryRange> ranges, std::shared_ptr<const void> keeper, Backing backing,
    const MappedFile* file) {
    std::erase_if(ranges, [](const DumpMemoryRange& r) { return r.bytes.empty(); });
    for (const DumpMemoryRange& r : ranges) {
        if (r.bytes.size() > UINT64_MAX - r.address) {
            return Error{
                fmt::format("memory range {:#x} of {} bytes wraps around the address space",
                            r.address, r.bytes.size())};
        }
    }
    std::sort(ranges.begin(), ranges.end(), [](const DumpMemoryRange& a, const DumpMemoryRange& b) {
        return a.address < b.address;
    });
    for (size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].address < ranges[i - 1].end()) {
            return Error{fmt::format("memory ranges {:#x}-{:#x} and {:#x}-{:#x} overlap",
                                     ranges[i - 1].address, ranges[i - 1].end(), ranges[i].address,
                                     ranges[i].end())};
        }
    }
    return std::shared_ptr<RangeMemorySource>(
        new RangeMemorySource(std::move(ranges), std::move(keeper), backing, file));
}

std::vector<DumpMemoryRange>::const_iterator RangeMemorySource::first_after(uint64_t addr) const {
    return std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                            [](uint64_t a, const DumpMemoryRange& r) { return a < r.end(); });
}

template <typename Fill>
Result<size_t> RangeMemorySource::fill_from(uint64_t addr, std::span<uint8_t> out,
                                            Fill fill) const {
    size_t done = 0;
    auto it = first_after(addr);
    while (done < out.size() && it != ranges_.end()) {
        const uint64_t at = addr + done;
        if (at < it->address) break;  // a gap: the rest is not in the dump
        const uint64_t skip = at - it->address;
        const size_t n =
            static_cast<size_t>(std::min<uint64_t>(out.size() - done, it->bytes.size() - skip));
        Result<size_t> got = fill(it->bytes.subspan(skip, n), out.subspan(done, n));
        if (!got.ok()) return done == 0 ? got : Result<size_t>(done);
        done += *got;
        if (*got != n) break;
        ++it;
    }
    return done;
}

Result<size_t> RangeMemorySource::read(uint64_t addr, std::span<uint8_t> out) const {
    return fill_from(addr, out,
                     [](std::span<const uint8_t> from, std::span<uint8_t> to) -> Result<size_t> {
                         std::memcpy(to.data(), from.data(), from.size());
                         return from.size();
                     });
}

Result<size_t> RangeMemorySource::copy(uint64_t addr, std::span<uint8_t> out) const {
    if (!copies_by_file()) return read(addr, out);
    const uint8_t* const base = file_->bytes().data();
    return fill_from(addr, out, [&](std::span<const uint8_t> from, std::span<uint8_t> to) {
        return file_->read_at(static_cast<uint64_t>(from.data() - base), to);
    });
}

void RangeMemorySource::will_read(uint64_t addr, uint64_t size) const {
    if (backing_ != Backing::kReadOnlyFileMapping || size == 0) return;
    static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    for (auto it = first_after(addr); it != ranges_.end() && it->address < end; ++it) {
        const auto data = reinterpret_cast<uintptr_t>(it->bytes.data());
        const uintptr_t first = (data + (std::max(addr, it->address) - it->address)) & ~(page - 1);
        const uintptr_t last =
            (data + (std::min(end, it->end()) - it->address) + page - 1) & ~(page - 1);
        // An older kernel without MADV_POPULATE_READ says EINVAL: then reads fault as before.
        if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_READ);
    }
}

std::span<const uint8_t> RangeMemorySource::view(uint64_t addr, uint64_t size) const {
    auto it = first_after(addr);
    if (it == ranges_.end() || addr < it->address) return {};
    const uint64_t skip = addr - it->address;
    return it->bytes.subspan(skip, std::min<uint64_t>(size, it->bytes.size() - skip));
}

uint64_t RangeMemorySource::bytes_present(uint64_t addr, uint64_t size) const {
    const uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    uint64_t present = 0;
    for (auto it = first_after(addr); it != ranges_.end() && it->address < end; ++it) {
        present += std::min(end, it->end()) - std::max(addr, it->address);
    }
    return present;
}

void RangeMemorySource::release(uint64_t addr, uint64_t size) const {
    if (backing_ != Backing::kReadOnlyFileMapping || size == 0 || total_ < kKeepResident) return;
    static const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    // A read fault maps the pages around the one read too (the kernel's fault-around, 64 KiB):
    // what is let go of is rounded outwards to that, within the range's own pages. The mapping
    // is read-only and private, so a page dropped here (even one the next read wants) is read
    // again, never lost.
    constexpr uintptr_t kFaultAround = 64 * 1024;
    const uint64_t end = size > UINT64_MAX - addr ? UINT64_MAX : addr + size;
    for (auto it = first_after(addr); it != ranges_.end() && it->address < end; ++it) {
        const auto data = reinterpret_cast<uintptr_t>(it->bytes.data());
        const uintptr_t lowest = data & ~(page - 1);
        const uintptr_t highest = (data + it->bytes.size() + page - 1) & ~(page - 1);
        const uintptr_t from = data + (std::max(addr, it->address) - it->address);
        const uintptr_t to = data + (std::min(end, it->end()) - it->address);
        const uintptr_t first = std::max(lowest, from & ~(kFaultAround - 1));
        const uintptr_t last = std::min(highest, (to + kFaultAround - 1) & ~(kFaultAround - 1));
        if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    }
}

}  // namespace dumpscope
