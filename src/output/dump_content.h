// What of a snapshot goes into one dump file: the output of the plan (plan/plan.h),
// the input of every writer. Pure data.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "snapshot/memory_range.h"

namespace dumpscope {

// A caller's stream (--user-stream). Its bytes are shared, not copied, between the options and
// every DumpContent planned from them: planning happens while the target is stopped.
struct UserStream {
    uint32_t type = 0;  // > 0xffff
    std::shared_ptr<const std::vector<uint8_t>> data;

    static UserStream of(uint32_t type, std::vector<uint8_t> bytes) {
        return {type, std::make_shared<const std::vector<uint8_t>>(std::move(bytes))};
    }
    std::span<const uint8_t> bytes() const {
        return data ? std::span<const uint8_t>(*data) : std::span<const uint8_t>();
    }
};

struct DumpContent {
    std::vector<size_t> threads;         // indices into Snapshot::threads, in order
    std::vector<size_t> modules;         // indices into Snapshot::modules, in order
    std::vector<MemoryRange> memory;     // sorted by start, non-overlapping, non-adjacent
    std::vector<MemoryRange> zeroed;     // FilterMemory: bytes written as zero, sorted
    bool include_exception = true;       // Exception stream / NT_SIGINFO when the snapshot has one
    bool full_memory = false;            // WithFullMemory: minidump uses Memory64List
    bool memory_info_list = false;       // WithFullMemoryInfo: MemoryInfoList stream
    bool handle_data = false;            // WithHandleData: HandleData stream
    bool thread_info = false;            // WithThreadInfo: ThreadInfoList stream
    bool module_basenames_only = false;  // FilterModulePaths
    bool optional_linux_streams = true;  // the Breakpad Linux streams (off for tiny)
    bool omit_environment = false;       // FilterTriage: no environ stream (secrets)
    // ELF core: each range widened to whole pages (zeros outside `memory`). Off when converting
    // a dump, whose ranges are exactly the bytes it holds: no zeros that look like memory.
    bool whole_pages = true;
    std::vector<UserStream> user_streams;

    uint64_t memory_bytes() const {
        uint64_t total = 0;
        for (const auto& r : memory) total += r.size;
        return total;
    }
};

}  // namespace dumpscope
