// read_threads of minidump_reader_parts.h.
#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <map>

#include "arch/arch.h"
#include "minidump/minidump_decoders.h"
#include "minidump/minidump_format.h"
#include "minidump/minidump_reader_parts.h"

namespace dumpscope::minidump {

namespace {

constexpr uint64_t kNanosecondsPer100ns = 100;

// A list with a header that says how big it and each entry are (ThreadInfoList, ThreadExtra):
// calls `each(entry_bytes)` for every entry.
template <typename Header, typename Each>
Status for_each_sized_entry(std::span<const uint8_t> stream, std::string_view what,
                            size_t min_entry, Each each) {
    auto header = read_struct<Header>(stream, 0, what);
    if (!header.ok()) return header.error();
    const uint64_t header_size = header->size_of_header;
    const uint64_t entry_size = header->size_of_entry;
    if (header_size < sizeof(Header) || header_size > stream.size() || entry_size < min_entry) {
        return Error{fmt::format("{} has a header of {} bytes and entries of {} bytes", what,
                                 header_size, entry_size)};
    }
    const uint64_t count = header->number_of_entries;
    if (count > (stream.size() - header_size) / entry_size) {
        return Error{fmt::format("{} claims {} entries of {} bytes but has room for {}", what,
                                 count, entry_size, (stream.size() - header_size) / entry_size)};
    }
    for (uint64_t i = 0; i < count; ++i)
        each(stream.subspan(header_size + i * entry_size, entry_size));
    return {};
}

Status read_thread_info(const MinidumpFile& file, std::vector<dumpscope::Thread>& threads) {
    const auto stream = file.entry(StreamType::ThreadInfoList);
    if (!stream) return {};
    return for_each_sized_entry<ThreadInfoListHeader>(
        stream->bytes, stream->describe(), sizeof(ThreadInfo), [&](std::span<const uint8_t> bytes) {
            ThreadInfo info;
            std::memcpy(&info, bytes.data(), sizeof(info));
            for (dumpscope::Thread& t : threads) {
                if (t.tid != static_cast<int32_t>(info.thread_id)) continue;
                t.user_time_ns = info.user_time * kNanosecondsPer100ns;
                t.kernel_time_ns = info.kernel_time * kNanosecondsPer100ns;
            }
        });
}

// The thread fields of DumpscopeThreadExtra; its register fields go into `registers` (same
// index as `threads`).
Status read_thread_extra(const MinidumpFile& file, std::vector<dumpscope::Thread>& threads,
                         std::vector<arch::MinidumpRegisters>& registers) {
    const auto stream = file.entry(StreamType::DumpscopeThreadExtra);
    if (!stream) return {};
    return for_each_sized_entry<ThreadExtraHeader>(
        stream->bytes, stream->describe(), kThreadExtraEntryV1Size,
        [&](std::span<const uint8_t> bytes) {
            ThreadExtraEntry e{};  // an older file's entry ends before `name`: no name
            std::memcpy(&e, bytes.data(), std::min(bytes.size(), sizeof(e)));
            for (size_t i = 0; i < threads.size(); ++i) {
                dumpscope::Thread& t = threads[i];
                if (t.tid != static_cast<int32_t>(e.thread_id)) continue;
                t.state = static_cast<char>(e.state);
                t.syscall.in_syscall = e.in_syscall != 0;
                t.syscall.number = e.syscall_number;
                std::copy(std::begin(e.syscall_args), std::end(e.syscall_args),
                          t.syscall.args.begin());
                t.user_time_ns = e.user_time_ns;
                t.kernel_time_ns = e.kernel_time_ns;
                t.start_time_ns_since_boot = e.start_time_ns_since_boot;
                t.priority = e.priority;
                t.nice = e.nice;
                t.stack_start = e.stack_start;
                t.stack_end = e.stack_end;
                // The name's bytes, which ThreadNameList's UTF-16 may have lost.
                const std::string_view name(e.name, strnlen(e.name, sizeof(e.name)));
                if (!name.empty()) t.name = std::string(name);
                arch::MinidumpRegisters& regs = registers[i];
                regs.has_syscall = true;
                regs.syscall_number = e.syscall_number;
                regs.has_thread_pointers = true;
                regs.thread_pointer = e.fs_base;
                regs.thread_pointer2 = e.gs_base;
            }
        });
}

}  // namespace

Status read_threads(const MinidumpFile& file, const arch::ArchOps& arch, Snapshot& s,
                    std::vector<DumpMemoryRange>& stacks,
                    std::map<int32_t, arch::MinidumpRegisters>& register_parts) {
    auto decoded = decode_threads(file);
    if (!decoded.ok()) return decoded.error();
    // Each thread's registers are in three places (its CONTEXT, Teb and DumpscopeThreadExtra
    // entry): gathered first, then turned into one CpuContext by the architecture.
    std::vector<arch::MinidumpRegisters> registers;
    for (const DecodedThread& thread : *decoded) {
        const Thread& entry = thread.entry;
        arch::MinidumpRegisters regs;
        regs.context.assign(thread.context.begin(), thread.context.end());
        regs.teb = entry.teb;
        registers.push_back(std::move(regs));
        dumpscope::Thread t;
        t.tid = static_cast<int32_t>(entry.thread_id);
        t.priority = static_cast<int32_t>(entry.priority);
        t.name = thread.name;
        if (!thread.stack.empty()) {
            stacks.push_back({entry.stack.start_of_memory_range, thread.stack});
        }
        s.threads.push_back(std::move(t));
    }
    DS_TRY(read_thread_info(file, s.threads));
    DS_TRY(read_thread_extra(file, s.threads, registers));
    for (size_t i = 0; i < s.threads.size(); ++i) {
        auto context = arch.from_minidump(
            registers[i], fmt::format("the context of thread {}", s.threads[i].tid));
        if (!context.ok()) return context.error();
        s.threads[i].regs = std::move(*context);
        registers[i].context.clear();
        register_parts[s.threads[i].tid] = std::move(registers[i]);
    }
    return {};
}

}  // namespace dumpscope::minidump
