// `dumpscope analyze`: runs the detectors over one or more dumps and renders the report as text
// for a terminal (findings first, most severe first) and as the JSON of docs/analyze.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/dump_analysis.h"
#include "diagnosis/finding.h"
#include "diagnosis/thread_wait.h"

namespace dumpscope::diagnosis {

// Threads whose stacks are the same frame for frame (pstack | sort | uniq -c).
struct StackGroup {
    std::vector<int32_t> tids;
    std::string wait;  // what the first of them waits on
    std::vector<FrameRef> frames;
};

struct ThreadCpu {
    int32_t tid = 0;
    std::string name;
    char state = '?';
    uint64_t user_ns = 0;
    uint64_t kernel_ns = 0;
};

struct DumpSummary {
    std::string path;
    std::string format;
    int32_t pid = 0;
    std::string process_name;
    std::string dump_type;
    std::vector<ThreadWait> waits;
    std::vector<StackGroup> stack_groups;
    std::vector<ThreadCpu> cpu;  // most CPU first
    bool cpu_known = false;
    std::vector<std::string> notes;  // what this dump lacks for some finding
};

struct Report {
    std::vector<Finding> findings;
    std::string signature;
    std::vector<DumpSummary> dumps;
};

Report diagnose(const std::vector<analysis::DumpAnalysis*>& dumps);

nlohmann::json report_json(const Report& report);
std::string report_text(const Report& report);

// Text views for the debugger words: the lock waits and lock findings (!locks), CPU per thread
// and runaway findings (!runaway).
std::string locks_text(const Report& report);
std::string runaway_text(const Report& report);

}  // namespace dumpscope::diagnosis
