#include "minidump/thread_streams.h"

#include <algorithm>
#include <cstring>

#include "arch/arch.h"

namespace dumpscope::minidump {

namespace {

constexpr uint64_t kNanosecondsPer100ns = 100;

}  // namespace

long find_memory_range(const DumpContent& content, uint64_t addr) {
    auto it = std::upper_bound(content.memory.begin(), content.memory.end(), addr,
                               [](uint64_t a, const MemoryRange& r) { return a < r.start; });
    if (it == content.memory.begin()) return -1;
    --it;
    if (addr >= it->end()) return -1;
    return static_cast<long>(it - content.memory.begin());
}

MemoryRange stack_part_of_range(const dumpscope::Thread& thread, const MemoryRange& range) {
    const uint64_t sp = thread.regs.sp();
    if (thread.stack_start >= thread.stack_end || sp < thread.stack_start ||
        sp >= thread.stack_end) {
        return range;
    }
    const uint64_t start = std::max(range.start, thread.stack_start);
    const uint64_t end = std::min(range.end(), thread.stack_end);
    return MemoryRange{start, end - start};
}

LocationDescriptor append_thread_list(StreamBlob& blob, const Snapshot& snapshot,
                                      const DumpContent& content,
                                      std::vector<StackReference>& stacks) {
    // Contexts first (16-aligned, as Windows writes them), then the list that points at them.
    std::vector<arch::MinidumpRegisters> registers;
    std::vector<uint64_t> context_offsets;
    registers.reserve(content.threads.size());
    context_offsets.reserve(content.threads.size());
    for (size_t index : content.threads) {
        const CpuContext& context = snapshot.threads[index].regs;
        registers.push_back(arch::ops_or_first(context).to_minidump(context));
        blob.align(16);
        context_offsets.push_back(blob.append_bytes(registers.back().context));
    }

    blob.align(8);
    const uint64_t start = blob.append(static_cast<uint32_t>(content.threads.size()));
    for (size_t i = 0; i < content.threads.size(); ++i) {
        const dumpscope::Thread& thread = snapshot.threads[content.threads[i]];
        minidump::Thread entry{};
        entry.thread_id = static_cast<uint32_t>(thread.tid);
        entry.teb = registers[i].teb;
        entry.thread_context = {static_cast<uint32_t>(registers[i].context.size()),
                                static_cast<uint32_t>(context_offsets[i])};
        const long range = find_memory_range(content, thread.regs.sp());
        const uint64_t entry_offset = blob.append(entry);
        if (range >= 0) {
            const MemoryRange& holding_sp = content.memory[static_cast<size_t>(range)];
            stacks.push_back({entry_offset + offsetof(minidump::Thread, stack),
                              static_cast<size_t>(range), stack_part_of_range(thread, holding_sp)});
        }
    }
    return blob.location_since(start);
}

bool has_thread_names(const Snapshot& snapshot, const DumpContent& content) {
    return std::any_of(content.threads.begin(), content.threads.end(),
                       [&](size_t index) { return !snapshot.threads[index].name.empty(); });
}

LocationDescriptor append_thread_name_list(StreamBlob& blob, const Snapshot& snapshot,
                                           const DumpContent& content) {
    std::vector<ThreadName> names;
    for (size_t index : content.threads) {
        const dumpscope::Thread& thread = snapshot.threads[index];
        if (thread.name.empty()) continue;
        names.push_back({static_cast<uint32_t>(thread.tid), blob.append_string(thread.name)});
    }
    blob.align(8);
    const uint64_t start = blob.append(static_cast<uint32_t>(names.size()));
    for (const ThreadName& name : names) blob.append(name);
    return blob.location_since(start);
}

LocationDescriptor append_thread_info_list(StreamBlob& blob, const Snapshot& snapshot,
                                           const DumpContent& content) {
    blob.align(8);
    const ThreadInfoListHeader header{sizeof(ThreadInfoListHeader), sizeof(ThreadInfo),
                                      static_cast<uint32_t>(content.threads.size())};
    const uint64_t start = blob.append(header);
    const uint64_t boot_unix_ns = snapshot.system.boot_time_unix * 1000000000ull;
    for (size_t index : content.threads) {
        const dumpscope::Thread& thread = snapshot.threads[index];
        ThreadInfo info{};
        info.thread_id = static_cast<uint32_t>(thread.tid);
        if (snapshot.system.boot_time_unix != 0) {
            const uint64_t start_unix_ns = boot_unix_ns + thread.start_time_ns_since_boot;
            info.create_time = kFiletimeUnixEpoch + start_unix_ns / kNanosecondsPer100ns;
        }
        info.kernel_time = thread.kernel_time_ns / kNanosecondsPer100ns;
        info.user_time = thread.user_time_ns / kNanosecondsPer100ns;
        blob.append(info);
    }
    return blob.location_since(start);
}

LocationDescriptor append_thread_extra(StreamBlob& blob, const Snapshot& snapshot,
                                       const DumpContent& content) {
    blob.align(8);
    const ThreadExtraHeader header{sizeof(ThreadExtraHeader), sizeof(ThreadExtraEntry),
                                   static_cast<uint32_t>(content.threads.size())};
    const uint64_t start = blob.append(header);
    for (size_t index : content.threads) {
        const dumpscope::Thread& thread = snapshot.threads[index];
        ThreadExtraEntry entry{};
        entry.thread_id = static_cast<uint32_t>(thread.tid);
        entry.state = static_cast<uint8_t>(thread.state);
        entry.in_syscall = thread.syscall.in_syscall ? 1 : 0;
        entry.syscall_number = thread.syscall.number;
        for (size_t i = 0; i < thread.syscall.args.size(); ++i) {
            entry.syscall_args[i] = thread.syscall.args[i];
        }
        entry.user_time_ns = thread.user_time_ns;
        entry.kernel_time_ns = thread.kernel_time_ns;
        entry.start_time_ns_since_boot = thread.start_time_ns_since_boot;
        entry.priority = thread.priority;
        entry.nice = thread.nice;
        const arch::MinidumpRegisters regs =
            arch::ops_or_first(thread.regs).to_minidump(thread.regs);
        entry.fs_base = regs.thread_pointer;
        entry.gs_base = regs.thread_pointer2;
        entry.stack_start = thread.stack_start;
        entry.stack_end = thread.stack_end;
        std::memcpy(entry.name, thread.name.data(),
                    std::min(thread.name.size(), sizeof(entry.name) - 1));
        blob.append(entry);
    }
    return blob.location_since(start);
}

}  // namespace dumpscope::minidump
