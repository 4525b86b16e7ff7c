#include "minidump/minidump_decoders.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "snapshot/capture_record_json.h"

namespace dumpscope::minidump {

namespace {

// The entries of a list stream with a u32 count, each read as an Entry and handed to `each`
// with its index.
template <typename Entry, typename Each>
Status for_each_list_entry(const StreamEntry& stream, Each each) {
    const std::string what = stream.describe();
    uint32_t count = 0;
    auto entries = list_entries(stream.bytes, sizeof(Entry), what, count);
    if (!entries.ok()) return entries.error();
    for (uint32_t i = 0; i < count; ++i) {
        auto entry = read_struct<Entry>(*entries, uint64_t{i} * sizeof(Entry), what);
        if (!entry.ok()) return entry.error();
        DS_TRY(each(i, *entry));
    }
    return {};
}

// The bytes of a location that may be absent (size 0).
Result<std::span<const uint8_t>> optional_slice(const MinidumpFile& file,
                                                const LocationDescriptor& location,
                                                const std::string& what) {
    if (location.data_size == 0) return std::span<const uint8_t>();
    return file.slice(location, what);
}

// Where the bytes of the memory ranges lie in the file: a range cut by the end of a truncated
// file must start after every whole one (else the file is damaged, not truncated).
struct RangePlacement {
    const MinidumpFile* file = nullptr;
    Truncation* cut = nullptr;
    uint64_t whole_end = 0;            // the end of the last whole range's bytes
    std::optional<uint64_t> cut_from;  // the offset of the first cut range's bytes
    uint64_t cut_address = 0;

    Result<std::span<const uint8_t>> bytes(uint64_t address, uint64_t offset, uint64_t size,
                                           const std::string& what) {
        auto in_file = file->available(offset, size, what);
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

Result<std::map<uint32_t, std::string>> decode_thread_names(const MinidumpFile& file) {
    std::map<uint32_t, std::string> names;
    const auto stream = file.entry(StreamType::ThreadNameList);
    if (!stream) return names;
    Status status = for_each_list_entry<ThreadName>(
        *stream, [&](uint32_t i, const ThreadName& entry) -> Status {
            auto name =
                file.string_at(entry.rva_of_thread_name,
                               fmt::format("{} entry {}: the name of thread {}",
                                           stream_type_name(stream->type), i, entry.thread_id));
            if (!name.ok()) return name.error();
            names.emplace(entry.thread_id, std::move(*name));  // the first name wins
            return {};
        });
    if (!status.ok()) return status.error();
    return names;
}

}  // namespace

Result<std::optional<DecodedSystemInfo>> decode_system_info(const MinidumpFile& file) {
    const auto stream = file.entry(StreamType::SystemInfo);
    if (!stream) return std::optional<DecodedSystemInfo>();
    DecodedSystemInfo out;
    auto info = read_struct<SystemInfo>(stream->bytes, 0, stream->describe());
    if (!info.ok()) return info.error();
    out.info = *info;
    if (info->csd_version_rva != 0) {
        auto csd = file.string_at(info->csd_version_rva, "the SystemInfo CSD string");
        if (!csd.ok()) return csd.error();
        out.csd = std::move(*csd);
    }
    return std::optional<DecodedSystemInfo>(std::move(out));
}

std::optional<DecodedMiscInfo> decode_misc_info(const MinidumpFile& file) {
    const auto stream = file.stream(StreamType::MiscInfo);
    if (!stream || stream->size() < offsetof(MiscInfo, process_id) + sizeof(uint32_t)) {
        return std::nullopt;
    }
    DecodedMiscInfo out;
    out.size = stream->size();
    std::memcpy(&out.info, stream->data(), std::min(stream->size(), sizeof(out.info)));
    return out;
}

Result<std::vector<DecodedThread>> decode_threads(const MinidumpFile& file) {
    std::vector<DecodedThread> threads;
    const auto stream = file.entry(StreamType::ThreadList);
    if (!stream) return threads;
    auto names = decode_thread_names(file);
    if (!names.ok()) return names.error();
    Status status =
        for_each_list_entry<Thread>(*stream, [&](uint32_t i, const Thread& entry) -> Status {
            const std::string at = fmt::format("{} entry {}: ", stream_type_name(stream->type), i);
            DecodedThread thread;
            thread.entry = entry;
            if (auto name = names->find(entry.thread_id); name != names->end()) {
                thread.name = name->second;
            }
            auto context =
                file.slice(entry.thread_context,
                           fmt::format("{}the context of thread {}", at, entry.thread_id));
            if (!context.ok()) return context.error();
            thread.context = *context;
            // A stack cut by the end of a truncated file keeps the bytes before the end.
            auto stack =
                file.available(entry.stack.memory.rva, entry.stack.memory.data_size,
                               fmt::format("{}the stack of thread {}", at, entry.thread_id));
            if (!stack.ok()) return stack.error();
            thread.stack = *stack;
            threads.push_back(std::move(thread));
            return {};
        });
    if (!status.ok()) return status.error();
    return threads;
}

Result<std::vector<DecodedModule>> decode_modules(const MinidumpFile& file) {
    std::vector<DecodedModule> modules;
    const auto stream = file.entry(StreamType::ModuleList);
    if (!stream) return modules;
    Status status =
        for_each_list_entry<Module>(*stream, [&](uint32_t i, const Module& entry) -> Status {
            const std::string at = fmt::format("{} entry {}: ", stream_type_name(stream->type), i);
            DecodedModule module;
            module.entry = entry;
            auto name = file.string_at(entry.module_name_rva,
                                       fmt::format("{}the name of module {}", at, i));
            if (!name.ok()) return name.error();
            module.name = std::move(*name);
            auto cv = optional_slice(file, entry.cv_record,
                                     fmt::format("{}the CodeView record of {}", at, module.name));
            if (!cv.ok()) return cv.error();
            module.cv_record = *cv;
            modules.push_back(std::move(module));
            return {};
        });
    if (!status.ok()) return status.error();
    return modules;
}

Result<std::vector<DumpMemoryRange>> decode_memory_lists(const MinidumpFile& file,
                                                         Truncation* cut) {
    std::vector<DumpMemoryRange> ranges;
    RangePlacement placement;
    placement.file = &file;
    placement.cut = cut;
    if (const auto stream = file.entry(StreamType::MemoryList)) {
        Status status = for_each_list_entry<MemoryDescriptor>(
            *stream, [&](uint32_t i, const MemoryDescriptor& range) -> Status {
                auto bytes = placement.bytes(
                    range.start_of_memory_range, range.memory.rva, range.memory.data_size,
                    fmt::format("{} entry {}: the bytes of memory range {:#x}",
                                stream_type_name(stream->type), i, range.start_of_memory_range));
                if (!bytes.ok()) return bytes.error();
                ranges.push_back({range.start_of_memory_range, *bytes});
                return {};
            });
        if (!status.ok()) return status.error();
    }
    if (const auto stream = file.entry(StreamType::Memory64List)) {
        const std::string what = stream->describe();
        auto header = read_struct<Memory64ListHeader>(stream->bytes, 0, what);
        if (!header.ok()) return header.error();
        const uint64_t room =
            (stream->bytes.size() - sizeof(Memory64ListHeader)) / sizeof(MemoryDescriptor64);
        if (header->number_of_memory_ranges > room) {
            return Error{fmt::format("{} claims {} ranges but has room for {}", what,
                                     header->number_of_memory_ranges, room)};
        }
        uint64_t offset = header->base_rva;
        for (uint64_t i = 0; i < header->number_of_memory_ranges; ++i) {
            auto range = read_struct<MemoryDescriptor64>(
                stream->bytes, sizeof(Memory64ListHeader) + i * sizeof(MemoryDescriptor64), what);
            if (!range.ok()) return range.error();
            auto bytes = placement.bytes(
                range->start_of_memory_range, offset, range->data_size,
                fmt::format("{} entry {}: the bytes of memory range {:#x}",
                            stream_type_name(stream->type), i, range->start_of_memory_range));
            if (!bytes.ok()) return bytes.error();
            offset += range->data_size;  // cannot wrap: available() refuses ranges that would
            ranges.push_back({range->start_of_memory_range, *bytes});
        }
    }
    DS_TRY(placement.check());
    return ranges;
}

Result<std::optional<DecodedException>> decode_exception(const MinidumpFile& file) {
    const auto stream = file.entry(StreamType::Exception);
    if (!stream) return std::optional<DecodedException>();
    DecodedException out;
    auto exception = read_struct<ExceptionStream>(stream->bytes, 0, stream->describe());
    if (!exception.ok()) return exception.error();
    out.stream = *exception;
    auto context = optional_slice(file, exception->thread_context,
                                  stream->describe() + ": the context of the exception");
    if (!context.ok()) return context.error();
    out.context = *context;
    return std::optional<DecodedException>(out);
}

Result<std::optional<CaptureRecord>> decode_capture(const MinidumpFile& file) {
    const auto stream = file.entry(StreamType::DumpscopeCapture);
    if (!stream) return std::optional<CaptureRecord>();
    auto record = capture_record_from_json(
        std::string(reinterpret_cast<const char*>(stream->bytes.data()), stream->bytes.size()));
    if (!record.ok()) return Error{stream->describe() + ": " + record.error().message};
    return std::optional<CaptureRecord>(std::move(*record));
}

}  // namespace dumpscope::minidump
