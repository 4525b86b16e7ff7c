#include "minidump/minidump_memory_lists.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "minidump/minidump_format.h"

namespace dumpscope {

using minidump::list_entries;
using minidump::MinidumpFile;
using minidump::read_struct;
using minidump::StreamType;

namespace {

// Where the bytes of the memory ranges lie in the file: a range cut by the end of a truncated
// file must start after every whole one (else the file is damaged, not truncated).
struct RangePlacement {
    const MinidumpFile* file = nullptr;
    Truncation* cut = nullptr;
    uint64_t whole_end = 0;            // the end of the last whole range's bytes
    std::optional<uint64_t> cut_from;  // the offset of the first cut range's bytes
    uint64_t cut_address = 0;

    Result<std::span<const uint8_t>> bytes(uint64_t address, uint64_t offset, uint64_t size) {
        auto in_file =
            file->available(offset, size, fmt::format("the bytes of memory range {:#x}", address));
        if (!in_file.ok()) return in_file;
        if (in_file->size() == size) {
            if (size > 0) whole_end = std::max(whole_end, offset + size);
            return in_file;
        }
        if (!cut_from || offset < *cut_from) {
            cut_from = offset;
            cut_address = address;
        }
        if (cut != nullptr) cut->add_memory(size, in_file->size(), offset + size);
        return in_file;
    }

    Status check() const {
        if (!cut_from || *cut_from >= whole_end) return {};
        return Error{fmt::format(
            "the bytes of memory range {:#x} (offset {:#x}) run past the end of the file ({} "
            "bytes) but start before the end of whole ranges ({:#x}): damaged, not truncated",
            cut_address, *cut_from, file->size(), whole_end)};
    }
};

}  // namespace

Status read_memory_lists(const MinidumpFile& file, std::vector<DumpMemoryRange>& ranges,
                         Truncation* cut) {
    RangePlacement placement;
    placement.file = &file;
    placement.cut = cut;
    if (const auto stream = file.stream(StreamType::MemoryList)) {
        uint32_t count = 0;
        auto entries =
            list_entries(*stream, sizeof(minidump::MemoryDescriptor), "MemoryListStream", count);
        if (!entries.ok()) return entries.error();
        for (uint32_t i = 0; i < count; ++i) {
            auto range = read_struct<minidump::MemoryDescriptor>(
                *entries, uint64_t{i} * sizeof(minidump::MemoryDescriptor), "MemoryListStream");
            if (!range.ok()) return range.error();
            auto bytes = placement.bytes(range->start_of_memory_range, range->memory.rva,
                                         range->memory.data_size);
            if (!bytes.ok()) return bytes.error();
            ranges.push_back({range->start_of_memory_range, *bytes});
        }
    }
    if (const auto stream = file.stream(StreamType::Memory64List)) {
        auto header = read_struct<minidump::Memory64ListHeader>(*stream, 0, "Memory64ListStream");
        if (!header.ok()) return header.error();
        const uint64_t room = (stream->size() - sizeof(minidump::Memory64ListHeader)) /
                              sizeof(minidump::MemoryDescriptor64);
        if (header->number_of_memory_ranges > room) {
            return Error{fmt::format("Memory64ListStream claims {} ranges but has room for {}",
                                     header->number_of_memory_ranges, room)};
        }
        uint64_t offset = header->base_rva;
        for (uint64_t i = 0; i < header->number_of_memory_ranges; ++i) {
            auto range = read_struct<minidump::MemoryDescriptor64>(
                *stream,
                sizeof(minidump::Memory64ListHeader) + i * sizeof(minidump::MemoryDescriptor64),
                "Memory64ListStream");
            if (!range.ok()) return range.error();
            auto bytes = placement.bytes(range->start_of_memory_range, offset, range->data_size);
            if (!bytes.ok()) return bytes.error();
            offset += range->data_size;  // cannot wrap: available() refuses ranges that would
            ranges.push_back({range->start_of_memory_range, *bytes});
        }
    }
    return placement.check();
}

}  // namespace dumpscope
