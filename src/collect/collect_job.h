// Capture: a live source followed by a writer, steered by a plan. Resolves the target, picks
// the output name, freezes the process, snapshots it, plans, writes, resumes, commits.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "capture/plan.h"
#include "common/result.h"

namespace dumpscope {

enum class DumpFormat { Minidump, ElfCore };

struct CollectRequest {
    std::string target;      // PID or process name
    std::string output;      // file or directory; "" = current directory
    DumpFormat format = DumpFormat::Minidump;
    PlanOptions plan;
    bool overwrite = false;
    std::string trigger = "manual";
    std::string trigger_detail;
    std::function<void(uint64_t, uint64_t)> progress;  // bytes written, total
    std::function<void(const std::string&)> log;       // --verbose step messages
};

struct CollectResult {
    std::string path;
    int32_t pid = 0;
    uint64_t file_size = 0;
    uint64_t disk_usage = 0;
    uint64_t memory_bytes = 0;
    size_t threads = 0;
    size_t modules = 0;
    double pause_ms = 0;
    double total_ms = 0;
};

Result<CollectResult> collect_dump(const CollectRequest& request);

// "<name>_<YYYYMMDD_HHMMSS>.<pid>.dmp" (trigger other than manual: "<name>_<trigger>_<time>...").
std::string default_dump_name(const std::string& process_name, int32_t pid,
                              const std::string& trigger, DumpFormat format, time_t when);

}  // namespace dumpscope
