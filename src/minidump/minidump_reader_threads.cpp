// read_threads and registers_from_context of minidump_reader_parts.h.
#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <map>

#include "minidump/minidump_format.h"
#include "minidump/minidump_reader_parts.h"

namespace dumpscope::minidump {

namespace {

constexpr uint64_t kNanosecondsPer100ns = 100;
// The general registers end with rip: shorter contexts cannot say where a thread is.
constexpr size_t kMinContextSize = offsetof(ContextAmd64, rip) + sizeof(uint64_t);
constexpr size_t kFxsaveEnd = offsetof(ContextAmd64, flt_save) + sizeof(ContextAmd64::flt_save);

Status read_names(const MinidumpFile& file, std::map<uint32_t, std::string>& names) {
    const auto stream = file.stream(StreamType::ThreadNameList);
    if (!stream) return {};
    uint32_t count = 0;
    auto entries = list_entries(*stream, sizeof(ThreadName), "ThreadNameListStream", count);
    if (!entries.ok()) return entries.error();
    for (uint32_t i = 0; i < count; ++i) {
        auto entry = read_struct<ThreadName>(*entries, uint64_t{i} * sizeof(ThreadName),
                                             "ThreadNameListStream");
        if (!entry.ok()) return entry.error();
        auto name = file.string_at(entry->rva_of_thread_name,
                                   fmt::format("the name of thread {}", entry->thread_id));
        if (!name.ok()) return name.error();
        names[entry->thread_id] = std::move(*name);
    }
    return {};
}

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
    for (uint64_t i = 0; i < count; ++i) each(stream.subspan(header_size + i * entry_size));
    return {};
}

Status read_thread_info(const MinidumpFile& file, std::vector<dumpscope::Thread>& threads) {
    const auto stream = file.stream(StreamType::ThreadInfoList);
    if (!stream) return {};
    return for_each_sized_entry<ThreadInfoListHeader>(
        *stream, "ThreadInfoListStream", sizeof(ThreadInfo), [&](std::span<const uint8_t> bytes) {
            ThreadInfo info;
            std::memcpy(&info, bytes.data(), sizeof(info));
            for (dumpscope::Thread& t : threads) {
                if (t.tid != static_cast<int32_t>(info.thread_id)) continue;
                t.user_time_ns = info.user_time * kNanosecondsPer100ns;
                t.kernel_time_ns = info.kernel_time * kNanosecondsPer100ns;
            }
        });
}

Status read_thread_extra(const MinidumpFile& file, std::vector<dumpscope::Thread>& threads) {
    const auto stream = file.stream(StreamType::DumpscopeThreadExtra);
    if (!stream) return {};
    return for_each_sized_entry<ThreadExtraHeader>(
        *stream, "DumpscopeThreadExtra", sizeof(ThreadExtraEntry),
        [&](std::span<const uint8_t> bytes) {
            ThreadExtraEntry e;
            std::memcpy(&e, bytes.data(), sizeof(e));
            for (dumpscope::Thread& t : threads) {
                if (t.tid != static_cast<int32_t>(e.thread_id)) continue;
                t.state = static_cast<char>(e.state);
                t.syscall.in_syscall = e.in_syscall != 0;
                t.syscall.number = e.syscall_number;
                std::copy(std::begin(e.syscall_args), std::end(e.syscall_args),
                          t.syscall.args.begin());
                t.regs.gp.orig_rax = static_cast<uint64_t>(e.syscall_number);
                t.user_time_ns = e.user_time_ns;
                t.kernel_time_ns = e.kernel_time_ns;
                t.start_time_ns_since_boot = e.start_time_ns_since_boot;
                t.priority = e.priority;
                t.nice = e.nice;
                t.regs.gp.fs_base = e.fs_base;
                t.regs.gp.gs_base = e.gs_base;
                t.stack_start = e.stack_start;
                t.stack_end = e.stack_end;
            }
        });
}

}  // namespace

Result<ThreadRegisters> registers_from_context(std::span<const uint8_t> bytes,
                                               std::string_view what) {
    if (bytes.size() < kMinContextSize) {
        return Error{fmt::format("{} has {} bytes, too few for AMD64 registers (at least {})", what,
                                 bytes.size(), kMinContextSize)};
    }
    ContextAmd64 c{};
    std::memcpy(&c, bytes.data(), std::min(bytes.size(), sizeof(c)));
    if ((c.context_flags & kContextAmd64) == 0) {
        return Error{
            fmt::format("{} is not an AMD64 context (flags {:#x})", what, c.context_flags)};
    }
    ThreadRegisters regs;
    X86GeneralRegisters& gp = regs.gp;
    gp.rax = c.rax;
    gp.rcx = c.rcx;
    gp.rdx = c.rdx;
    gp.rbx = c.rbx;
    gp.rsp = c.rsp;
    gp.rbp = c.rbp;
    gp.rsi = c.rsi;
    gp.rdi = c.rdi;
    gp.r8 = c.r8;
    gp.r9 = c.r9;
    gp.r10 = c.r10;
    gp.r11 = c.r11;
    gp.r12 = c.r12;
    gp.r13 = c.r13;
    gp.r14 = c.r14;
    gp.r15 = c.r15;
    gp.rip = c.rip;
    gp.eflags = c.eflags;
    gp.cs = c.seg_cs;
    gp.ds = c.seg_ds;
    gp.es = c.seg_es;
    gp.fs = c.seg_fs;
    gp.gs = c.seg_gs;
    gp.ss = c.seg_ss;
    gp.orig_rax = UINT64_MAX;  // a CONTEXT has no orig_rax: "not in a system call" unless known
    if (bytes.size() >= kFxsaveEnd &&
        (c.context_flags & kContextFloatingPoint) == kContextFloatingPoint) {
        std::memcpy(regs.fxsave.data(), c.flt_save, sizeof(c.flt_save));
        regs.has_fpregs = true;
    }
    return regs;
}

Status read_threads(const MinidumpFile& file, Snapshot& s, std::vector<DumpMemoryRange>& stacks) {
    const auto stream = file.stream(StreamType::ThreadList);
    if (!stream) return {};
    std::map<uint32_t, std::string> names;
    DS_TRY(read_names(file, names));
    uint32_t count = 0;
    auto entries = list_entries(*stream, sizeof(Thread), "ThreadListStream", count);
    if (!entries.ok()) return entries.error();
    for (uint32_t i = 0; i < count; ++i) {
        auto entry =
            read_struct<Thread>(*entries, uint64_t{i} * sizeof(Thread), "ThreadListStream");
        if (!entry.ok()) return entry.error();
        const std::string what = fmt::format("the context of thread {}", entry->thread_id);
        auto context = file.slice(entry->thread_context, what);
        if (!context.ok()) return context.error();
        auto regs = registers_from_context(*context, what);
        if (!regs.ok()) return regs.error();
        dumpscope::Thread t;
        t.tid = static_cast<int32_t>(entry->thread_id);
        t.regs = std::move(*regs);
        t.regs.gp.fs_base = entry->teb;  // Linux writers store the thread pointer there
        t.priority = static_cast<int32_t>(entry->priority);
        if (auto name = names.find(entry->thread_id); name != names.end()) t.name = name->second;
        if (entry->stack.memory.data_size != 0) {
            auto bytes = file.available(entry->stack.memory.rva, entry->stack.memory.data_size,
                                        fmt::format("the stack of thread {}", entry->thread_id));
            if (!bytes.ok()) return bytes.error();
            stacks.push_back({entry->stack.start_of_memory_range, *bytes});
        }
        s.threads.push_back(std::move(t));
    }
    DS_TRY(read_thread_info(file, s.threads));
    return read_thread_extra(file, s.threads);
}

}  // namespace dumpscope::minidump
