#include "minidump/minidump_memory_lists.h"

#include <fmt/format.h>

#include "minidump/minidump_format.h"

namespace dumpscope {

using minidump::list_entries;
using minidump::MinidumpFile;
using minidump::read_struct;
using minidump::StreamType;

Status read_memory_lists(const MinidumpFile& file, std::vector<DumpMemoryRange>& ranges) {
    if (const auto stream = file.stream(StreamType::MemoryList)) {
        uint32_t count = 0;
        auto entries =
            list_entries(*stream, sizeof(minidump::MemoryDescriptor), "MemoryListStream", count);
        if (!entries.ok()) return entries.error();
        for (uint32_t i = 0; i < count; ++i) {
            auto range = read_struct<minidump::MemoryDescriptor>(
                *entries, uint64_t{i} * sizeof(minidump::MemoryDescriptor), "MemoryListStream");
            if (!range.ok()) return range.error();
            auto bytes = file.slice(range->memory, fmt::format("the bytes of memory range {:#x}",
                                                               range->start_of_memory_range));
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
            auto bytes = file.slice(
                offset, range->data_size,
                fmt::format("the bytes of memory range {:#x}", range->start_of_memory_range));
            if (!bytes.ok()) return bytes.error();
            offset += range->data_size;  // cannot wrap: the slice lies inside the file
            ranges.push_back({range->start_of_memory_range, *bytes});
        }
    }
    return {};
}

}  // namespace dumpscope
