#include "minidump/minidump_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "common/align.h"
#include "minidump/minidump_format.h"
#include "minidump/process_streams.h"
#include "minidump/stream_blob.h"
#include "minidump/thread_streams.h"
#include "snapshot/capture_record_json.h"

// File layout (docs/streams.md):
//   Header | Directory[N] | small streams (one pwrite) | user streams | [capture slot] |
//   memory bytes | capture
// The memory bytes start on a 4 KiB boundary so that zero pages become holes. The capture record
// is written last because it describes the capture (pause time, unreadable ranges); it goes
// after the memory unless the memory ends so close to 4 GiB that its 32-bit RVA would not reach,
// in which case it goes into a slot reserved before the memory. User streams (--user-stream) are
// the caller's bytes, possibly megabytes: their place is reserved after the small streams and
// they are written once the target's memory is copied, so they never lengthen its pause.

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

std::span<const uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// The streams the writer can put before the memory list, each registered once, in file order:
// when the snapshot and the content call for it, and how it is appended. The Breakpad Linux
// streams are raw copies of /proc and /etc files, written when the content asks for them and the
// file was not empty.
struct StreamWriter {
    using Wanted = bool (*)(const Snapshot&, const DumpContent&);
    using Append = LocationDescriptor (*)(StreamBlob&, const Snapshot&, const DumpContent&,
                                          std::vector<StackReference>&);
    using RawBytes = std::span<const uint8_t> (*)(const Snapshot&);

    StreamType type;
    Wanted wanted = nullptr;       // set for a structured stream
    Append append = nullptr;       // set for a structured stream
    RawBytes raw_bytes = nullptr;  // set for a raw Linux stream

    bool is_wanted(const Snapshot& snapshot, const DumpContent& content) const {
        if (raw_bytes != nullptr) {
            return content.optional_linux_streams && !raw_bytes(snapshot).empty();
        }
        return wanted(snapshot, content);
    }
};

constexpr StreamWriter structured(StreamType type, StreamWriter::Wanted wanted,
                                  StreamWriter::Append append) {
    return {type, wanted, append, nullptr};
}

constexpr StreamWriter raw_linux(StreamType type, StreamWriter::RawBytes bytes) {
    return {type, nullptr, nullptr, bytes};
}

bool always(const Snapshot&, const DumpContent&) { return true; }

const StreamWriter kStreamWriters[] = {
    structured(
        StreamType::SystemInfo, always,
        [](StreamBlob& blob, const Snapshot& s, const DumpContent&, std::vector<StackReference>&) {
            return minidump::append_system_info(blob, s.system);
        }),
    structured(
        StreamType::MiscInfo, always,
        [](StreamBlob& blob, const Snapshot& s, const DumpContent&, std::vector<StackReference>&) {
            return minidump::append_misc_info(blob, s.process);
        }),
    structured(StreamType::ThreadList, always,
               [](StreamBlob& blob, const Snapshot& s, const DumpContent& c,
                  std::vector<StackReference>& stacks) {
                   return minidump::append_thread_list(blob, s, c, stacks);
               }),
    structured(
        StreamType::ThreadNameList, minidump::has_thread_names,
        [](StreamBlob& blob, const Snapshot& s, const DumpContent& c,
           std::vector<StackReference>&) { return minidump::append_thread_name_list(blob, s, c); }),
    structured(
        StreamType::ThreadInfoList,
        [](const Snapshot&, const DumpContent& c) { return c.thread_info; },
        [](StreamBlob& blob, const Snapshot& s, const DumpContent& c,
           std::vector<StackReference>&) { return minidump::append_thread_info_list(blob, s, c); }),
    structured(
        StreamType::DumpscopeThreadExtra,
        [](const Snapshot&, const DumpContent& c) { return !c.threads.empty(); },
        [](StreamBlob& blob, const Snapshot& s, const DumpContent& c,
           std::vector<StackReference>&) { return minidump::append_thread_extra(blob, s, c); }),
    structured(
        StreamType::ModuleList, always,
        [](StreamBlob& blob, const Snapshot& s, const DumpContent& c,
           std::vector<StackReference>&) { return minidump::append_module_list(blob, s, c); }),
    structured(
        StreamType::Exception,
        [](const Snapshot& s, const DumpContent& c) {
            return c.include_exception && s.exception.has_value();
        },
        [](StreamBlob& blob, const Snapshot& s, const DumpContent&, std::vector<StackReference>&) {
            return minidump::append_exception(blob, *s.exception);
        }),
    structured(
        StreamType::MemoryInfoList,
        [](const Snapshot&, const DumpContent& c) { return c.memory_info_list; },
        [](StreamBlob& blob, const Snapshot& s, const DumpContent&, std::vector<StackReference>&) {
            return minidump::append_memory_info_list(blob, s);
        }),
    structured(
        StreamType::HandleData, [](const Snapshot&, const DumpContent& c) { return c.handle_data; },
        [](StreamBlob& blob, const Snapshot& s, const DumpContent&, std::vector<StackReference>&) {
            return minidump::append_handle_data(blob, s);
        }),
    raw_linux(StreamType::LinuxCpuInfo,
              [](const Snapshot& s) { return bytes_of(s.system.cpuinfo); }),
    raw_linux(StreamType::LinuxProcStatus,
              [](const Snapshot& s) { return bytes_of(s.process.status); }),
    raw_linux(StreamType::LinuxLsbRelease,
              [](const Snapshot& s) { return bytes_of(s.system.os_release); }),
    raw_linux(StreamType::LinuxCmdLine,
              [](const Snapshot& s) { return bytes_of(s.process.cmdline); }),
    raw_linux(StreamType::LinuxEnviron,
              [](const Snapshot& s) { return bytes_of(s.process.environ); }),
    raw_linux(StreamType::LinuxAuxv,
              [](const Snapshot& s) { return std::span<const uint8_t>(s.process.auxv); }),
    raw_linux(StreamType::LinuxMaps, [](const Snapshot& s) { return bytes_of(s.process.maps); }),
};

// One small stream of the plan: a registered writer.
struct PlannedStream {
    uint32_t type = 0;
    const StreamWriter* writer = nullptr;
};

// Every small stream, in file order. The user streams, the memory list and the capture record
// always follow, so the directory has plan.size() + content.user_streams.size() + 2 entries.
std::vector<PlannedStream> plan_streams(const Snapshot& snapshot, const DumpContent& content) {
    std::vector<PlannedStream> plan;
    for (const StreamWriter& writer : kStreamWriters) {
        if (writer.is_wanted(snapshot, content)) {
            plan.push_back({static_cast<uint32_t>(writer.type), &writer});
        }
    }
    return plan;
}

LocationDescriptor append_planned_stream(StreamBlob& blob, const PlannedStream& stream,
                                         const Snapshot& snapshot, const DumpContent& content,
                                         std::vector<StackReference>& stacks) {
    if (stream.writer->raw_bytes != nullptr) {
        return minidump::append_raw_stream(blob, stream.writer->raw_bytes(snapshot));
    }
    return stream.writer->append(blob, snapshot, content, stacks);
}

// Reserves each user stream's place after `end` (8-aligned, like every raw stream) and adds its
// directory entry. Returns the file offset of each; the bytes are written later.
std::vector<uint64_t> place_user_streams(const DumpContent& content, uint64_t& end,
                                         std::vector<Directory>& directory) {
    std::vector<uint64_t> offsets;
    for (const UserStream& stream : content.user_streams) {
        end = align_up(end, 8);
        offsets.push_back(end);
        directory.push_back({stream.type,
                             {static_cast<uint32_t>(stream.bytes().size()),
                              static_cast<uint32_t>(std::min(end, kMaxRva))}});
        end += stream.bytes().size();
    }
    return offsets;
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
        if (stream.bytes().size() > kMaxRva) {
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

// Points each thread's Stack descriptor at the bytes of its stack in the range holding its sp.
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

Result<uint64_t> write_minidump(const Snapshot& snapshot, const DumpContent& content,
                                DumpFile& file, const WriteContext& ctx) {
    DS_TRY(validate_content(snapshot, content));

    const std::vector<PlannedStream> plan = plan_streams(snapshot, content);
    const uint32_t stream_count =
        static_cast<uint32_t>(plan.size() + content.user_streams.size() + 2);
    const uint64_t directory_offset = sizeof(minidump::Header);
    StreamBlob blob(align_up(directory_offset + stream_count * sizeof(Directory), 16));

    std::vector<Directory> directory;
    directory.reserve(plan.size());
    std::vector<StackReference> stacks;
    for (const PlannedStream& stream : plan) {
        directory.push_back(
            {stream.type, append_planned_stream(blob, stream, snapshot, content, stacks)});
    }
    uint64_t user_end = blob.end_offset();
    const std::vector<uint64_t> user_offsets = place_user_streams(content, user_end, directory);
    StreamBlob list_blob(align_up(user_end, 8));  // the memory list, after the user streams
    const MemoryPlacement placement = append_memory_list(list_blob, content, directory);
    patch_thread_stacks(blob, content, placement, stacks);
    if (list_blob.end_offset() > kMaxRva) {
        return Error{fmt::format("the minidump's streams end at {} bytes, past 32-bit RVAs",
                                 list_blob.end_offset())};
    }
    // Everything before the first memory range is written out of order (the header last): a
    // compressed dump keeps it in memory until commit.
    uint64_t head = list_blob.end_offset();
    if (placement.capture_in_slot) head = placement.capture_slot_offset + kCaptureSlotSize;
    for (uint64_t offset : placement.range_offsets) head = std::min(head, offset);
    DS_TRY(file.declare_head(head));
    DS_TRY(file.write_at(blob.base(), blob.bytes()));
    DS_TRY(file.write_at(list_blob.base(), list_blob.bytes()));

    auto written = stream_dump_memory(
        snapshot, content, ctx,
        [&](size_t range_index, uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            return file.write_sparse_at(placement.range_offsets[range_index] + offset, bytes);
        });
    if (!written.ok()) return written.error();
    if (ctx.target_memory_done) ctx.target_memory_done();
    for (size_t i = 0; i < content.user_streams.size(); ++i) {
        DS_TRY(file.write_at(user_offsets[i], content.user_streams[i].bytes()));
    }
    const CaptureRecord record = record_to_write(snapshot, ctx, *written);

    const uint64_t capture_offset =
        placement.capture_in_slot
            ? placement.capture_slot_offset
            : align_up(std::max(placement.data_end, list_blob.end_offset()), 8);
    const uint64_t capture_room =
        placement.capture_in_slot ? kCaptureSlotSize : kMaxRva - capture_offset;
    auto capture = capture_json_within(record, capture_room);
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
        static_cast<uint32_t>(std::min<uint64_t>(record.capture_time_unix, kMaxRva));
    header.flags = record.dump_flags;
    StreamBlob front(0);
    front.append(header);
    for (const Directory& entry : directory) front.append(entry);
    if (directory.size() != stream_count) {
        return Error{fmt::format("internal error: planned {} minidump streams, wrote {}",
                                 stream_count, directory.size())};
    }
    DS_TRY(file.write_at(0, front.bytes()));

    const uint64_t file_end =
        std::max({list_blob.end_offset(), placement.data_end, capture_offset + capture->size()});
    return file_end;
}

}  // namespace dumpscope
