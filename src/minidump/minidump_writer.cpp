#include "minidump/minidump_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "minidump/minidump_format.h"
#include "minidump/process_streams.h"
#include "minidump/stream_blob.h"
#include "minidump/thread_streams.h"
#include "snapshot/capture_record_json.h"

// File layout (docs/streams.md):
//   Header | Directory[N] | small streams (one pwrite) | [capture slot] | memory bytes | capture
// The memory bytes start on a 4 KiB boundary so that zero pages become holes. The capture record
// is written last because it describes the capture (pause time, unreadable ranges); it goes
// after the memory unless the memory ends so close to 4 GiB that its 32-bit RVA would not reach,
// in which case it goes into a slot reserved before the memory.

namespace dumpscope {

namespace {

using minidump::Directory;
using minidump::LocationDescriptor;
using minidump::StackReference;
using minidump::StreamBlob;
using minidump::StreamType;

constexpr uint64_t kMaxRva = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kCaptureSlotSize = 1u << 20;  // the most the capture record may take

uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

std::span<const uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// One stream of the plan; user_stream is the index into content.user_streams for user streams.
struct PlannedStream {
    uint32_t type = 0;
    size_t user_stream = 0;
};

// The Breakpad Linux streams: raw copies of /proc and /etc files.
struct RawLinuxStream {
    StreamType type;
    std::span<const uint8_t> bytes;
};

std::vector<RawLinuxStream> linux_streams(const Snapshot& snapshot) {
    return {
        {StreamType::LinuxCpuInfo, bytes_of(snapshot.system.cpuinfo)},
        {StreamType::LinuxProcStatus, bytes_of(snapshot.process.status)},
        {StreamType::LinuxLsbRelease, bytes_of(snapshot.system.os_release)},
        {StreamType::LinuxCmdLine, bytes_of(snapshot.process.cmdline)},
        {StreamType::LinuxEnviron, bytes_of(snapshot.process.environ)},
        {StreamType::LinuxAuxv, snapshot.process.auxv},
        {StreamType::LinuxMaps, bytes_of(snapshot.process.maps)},
    };
}

// Every stream before the memory list, in file order. The memory list and the capture record
// always follow, so the directory has plan.size() + 2 entries.
std::vector<PlannedStream> plan_streams(const Snapshot& snapshot, const DumpContent& content) {
    std::vector<PlannedStream> plan;
    const auto add = [&](StreamType type) { plan.push_back({static_cast<uint32_t>(type), 0}); };
    add(StreamType::SystemInfo);
    add(StreamType::MiscInfo);
    add(StreamType::ThreadList);
    if (minidump::has_thread_names(snapshot, content)) add(StreamType::ThreadNameList);
    if (content.thread_info) add(StreamType::ThreadInfoList);
    if (!content.threads.empty()) add(StreamType::DumpscopeThreadExtra);
    add(StreamType::ModuleList);
    if (content.include_exception && snapshot.exception) add(StreamType::Exception);
    if (content.memory_info_list) add(StreamType::MemoryInfoList);
    if (content.handle_data) add(StreamType::HandleData);
    if (content.optional_linux_streams) {
        for (const RawLinuxStream& stream : linux_streams(snapshot)) {
            if (!stream.bytes.empty()) add(stream.type);
        }
    }
    for (size_t i = 0; i < content.user_streams.size(); ++i) {
        plan.push_back({content.user_streams[i].type, i});
    }
    return plan;
}

LocationDescriptor append_planned_stream(StreamBlob& blob, const PlannedStream& stream,
                                         const Snapshot& snapshot, const DumpContent& content,
                                         std::vector<StackReference>& stacks) {
    switch (static_cast<StreamType>(stream.type)) {
        case StreamType::SystemInfo:
            return minidump::append_system_info(blob, snapshot.system);
        case StreamType::MiscInfo:
            return minidump::append_misc_info(blob, snapshot.process);
        case StreamType::ThreadList:
            return minidump::append_thread_list(blob, snapshot, content, stacks);
        case StreamType::ThreadNameList:
            return minidump::append_thread_name_list(blob, snapshot, content);
        case StreamType::ThreadInfoList:
            return minidump::append_thread_info_list(blob, snapshot, content);
        case StreamType::DumpscopeThreadExtra:
            return minidump::append_thread_extra(blob, snapshot, content);
        case StreamType::ModuleList:
            return minidump::append_module_list(blob, snapshot, content);
        case StreamType::Exception:
            return minidump::append_exception(blob, *snapshot.exception);
        case StreamType::MemoryInfoList:
            return minidump::append_memory_info_list(blob, snapshot);
        case StreamType::HandleData:
            return minidump::append_handle_data(blob, snapshot);
        default:
            break;
    }
    for (const RawLinuxStream& linux_stream : linux_streams(snapshot)) {
        if (static_cast<uint32_t>(linux_stream.type) == stream.type) {
            return minidump::append_raw_stream(blob, linux_stream.bytes);
        }
    }
    return minidump::append_raw_stream(blob, content.user_streams[stream.user_stream].data);
}

Status validate_content(const Snapshot& snapshot, const DumpContent& content) {
    for (size_t index : content.threads) {
        if (index >= snapshot.threads.size()) {
            return Error{
                fmt::format("dump content names thread #{} of {}", index, snapshot.threads.size())};
        }
    }
    for (size_t index : content.modules) {
        if (index >= snapshot.modules.size()) {
            return Error{
                fmt::format("dump content names module #{} of {}", index, snapshot.modules.size())};
        }
    }
    for (size_t i = 0; i < content.memory.size(); ++i) {
        const MemoryRange& range = content.memory[i];
        if (range.size == 0 || range.end() < range.start ||
            (i > 0 && range.start < content.memory[i - 1].end())) {
            return Error{
                fmt::format("dump content memory range {:#x}+{:#x} is empty, wraps or is "
                            "out of order",
                            range.start, range.size)};
        }
    }
    for (const UserStream& stream : content.user_streams) {
        if (stream.type <= minidump::kLastReservedStream) {
            return Error{fmt::format("user stream type {:#x} is reserved (must be above {:#x})",
                                     stream.type, minidump::kLastReservedStream)};
        }
        if (stream.data.size() > kMaxRva) {
            return Error{fmt::format("user stream {:#x} is larger than 4 GiB", stream.type)};
        }
    }
    return {};
}

// Where the memory bytes go in the file, decided once the small streams are built.
struct MemoryPlacement {
    bool use_memory64 = false;
    std::vector<uint64_t> range_offsets;  // file offset of each range of content.memory
    uint64_t data_end = 0;                // end of the last range's bytes
    bool capture_in_slot = false;
    uint64_t capture_slot_offset = 0;
};

// Appends the MemoryList or Memory64List stream (the last small stream) and places the bytes.
MemoryPlacement append_memory_list(StreamBlob& blob, const DumpContent& content,
                                   std::vector<Directory>& directory) {
    MemoryPlacement placement;
    const uint64_t count = content.memory.size();
    const uint64_t total = content.memory_bytes();
    const uint64_t list_offset = align_up(blob.end_offset(), 8);
    const auto list_size = [&](bool memory64) {
        return (memory64 ? sizeof(minidump::Memory64ListHeader) : sizeof(uint32_t)) +
               count * sizeof(minidump::MemoryDescriptor);
    };
    placement.use_memory64 = content.full_memory;
    uint64_t data_base = align_up(list_offset + list_size(placement.use_memory64), kPageSize);
    if (align_up(data_base + total, 8) + kCaptureSlotSize > kMaxRva) {
        // The bytes end too close to 4 GiB for 32-bit RVAs: 64-bit descriptors, and the capture
        // record goes before the bytes.
        placement.use_memory64 = true;
        placement.capture_in_slot = true;
        placement.capture_slot_offset = align_up(list_offset + list_size(true), 8);
        data_base = align_up(placement.capture_slot_offset + kCaptureSlotSize, kPageSize);
    }

    uint64_t offset = data_base;
    for (const MemoryRange& range : content.memory) {
        placement.range_offsets.push_back(offset);
        offset += range.size;
    }
    placement.data_end = offset;

    blob.align(8);
    const uint64_t start = blob.end_offset();
    if (placement.use_memory64) {
        blob.append(minidump::Memory64ListHeader{count, data_base});
        for (const MemoryRange& range : content.memory) {
            blob.append(minidump::MemoryDescriptor64{range.start, range.size});
        }
        directory.push_back(
            {static_cast<uint32_t>(StreamType::Memory64List), blob.location_since(start)});
    } else {
        blob.append(static_cast<uint32_t>(count));
        for (size_t i = 0; i < content.memory.size(); ++i) {
            const MemoryRange& range = content.memory[i];
            blob.append(
                minidump::MemoryDescriptor{range.start,
                                           {static_cast<uint32_t>(range.size),
                                            static_cast<uint32_t>(placement.range_offsets[i])}});
        }
        directory.push_back(
            {static_cast<uint32_t>(StreamType::MemoryList), blob.location_since(start)});
    }
    return placement;
}

// Points each thread's Stack descriptor at the bytes of its stack in the range holding its rsp.
// Bytes beyond a 32-bit RVA keep only the start address (rust-minidump then finds them in
// Memory64List; Breakpad and lldb read memory from the memory list anyway).
void patch_thread_stacks(StreamBlob& blob, const DumpContent& content,
                         const MemoryPlacement& placement,
                         const std::vector<StackReference>& stacks) {
    for (const StackReference& stack : stacks) {
        const MemoryRange& range = content.memory[stack.range_index];
        const uint64_t offset =
            placement.range_offsets[stack.range_index] + (stack.stack.start - range.start);
        minidump::MemoryDescriptor descriptor{stack.stack.start, {0, 0}};
        if (offset + stack.stack.size <= kMaxRva) {
            descriptor.memory = {static_cast<uint32_t>(stack.stack.size),
                                 static_cast<uint32_t>(offset)};
        }
        blob.patch(stack.descriptor_offset, descriptor);
    }
}

// The capture record as JSON of at most max_size bytes: notes are dropped from the end (and
// counted in a last note) until it fits.
Result<std::string> capture_json_within(const CaptureRecord& record, uint64_t max_size) {
    std::string json = capture_record_to_json(record);
    if (json.size() <= max_size) return json;
    CaptureRecord shortened = record;
    size_t keep = record.notes.size();
    while (keep > 0) {
        keep /= 2;
        shortened.notes.assign(record.notes.begin(), record.notes.begin() + keep);
        shortened.notes.push_back(fmt::format("{} more notes omitted", record.notes.size() - keep));
        json = capture_record_to_json(shortened);
        if (json.size() <= max_size) return json;
    }
    return Error{fmt::format("the capture record does not fit in {} bytes", max_size)};
}

}  // namespace

Result<uint64_t> write_minidump(Snapshot& snapshot, const DumpContent& content, DumpFile& file,
                                const WriteContext& ctx) {
    DS_TRY(validate_content(snapshot, content));

    const std::vector<PlannedStream> plan = plan_streams(snapshot, content);
    const uint32_t stream_count = static_cast<uint32_t>(plan.size() + 2);
    const uint64_t directory_offset = sizeof(minidump::Header);
    StreamBlob blob(align_up(directory_offset + stream_count * sizeof(Directory), 16));

    std::vector<Directory> directory;
    directory.reserve(plan.size());
    std::vector<StackReference> stacks;
    for (const PlannedStream& stream : plan) {
        directory.push_back(
            {stream.type, append_planned_stream(blob, stream, snapshot, content, stacks)});
    }
    const MemoryPlacement placement = append_memory_list(blob, content, directory);
    patch_thread_stacks(blob, content, placement, stacks);
    if (blob.end_offset() > kMaxRva) {
        return Error{fmt::format("the minidump's streams end at {} bytes, past 32-bit RVAs",
                                 blob.end_offset())};
    }
    DS_TRY(file.write_at(blob.base(), blob.bytes()));

    DS_TRY(stream_dump_memory(
        snapshot, content, ctx,
        [&](size_t range_index, uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            return file.write_sparse_at(placement.range_offsets[range_index] + offset, bytes);
        }));
    if (ctx.target_memory_done) ctx.target_memory_done();

    const uint64_t capture_offset =
        placement.capture_in_slot ? placement.capture_slot_offset
                                  : align_up(std::max(placement.data_end, blob.end_offset()), 8);
    const uint64_t capture_room =
        placement.capture_in_slot ? kCaptureSlotSize : kMaxRva - capture_offset;
    auto capture = capture_json_within(snapshot.capture, capture_room);
    if (!capture.ok()) return capture.error();
    DS_TRY(file.write_at(capture_offset, bytes_of(*capture)));
    directory.push_back(
        {static_cast<uint32_t>(StreamType::DumpscopeCapture),
         {static_cast<uint32_t>(capture->size()), static_cast<uint32_t>(capture_offset)}});

    minidump::Header header{};
    header.signature = minidump::kMinidumpSignature;
    header.version = minidump::kMinidumpVersion;
    header.number_of_streams = stream_count;
    header.stream_directory_rva = static_cast<uint32_t>(directory_offset);
    header.time_date_stamp =
        static_cast<uint32_t>(std::min<uint64_t>(snapshot.capture.capture_time_unix, kMaxRva));
    header.flags = snapshot.capture.dump_flags;
    StreamBlob front(0);
    front.append(header);
    for (const Directory& entry : directory) front.append(entry);
    if (directory.size() != stream_count) {
        return Error{fmt::format("internal error: planned {} minidump streams, wrote {}",
                                 stream_count, directory.size())};
    }
    DS_TRY(file.write_at(0, front.bytes()));

    const uint64_t file_end =
        std::max({blob.end_offset(), placement.data_end, capture_offset + capture->size()});
    return file_end;
}

}  // namespace dumpscope
