// The server's side of the analysis child (analysis_child.h): starts it with posix_spawn (never
// fork() of the multi-threaded server) in a process group of its own, reads its answer from a
// pipe (bounded), and ends it - with its whole group - on a timeout or when the server stops.
// How it ended decides what happens to the crash (worker_pool.cpp):
//   answered  the child exited and said processed or failed (a deterministic answer)
//   abnormal  killed by a signal, timed out, exited without a whole answer, or could not start:
//             the crash is retried, up to a limit
//   stopped   the server is stopping: the crash goes back to the queue, not counted
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "analysis/symbol_locator.h"
#include "service/analysis_answer.h"

namespace dumpscope::service {

struct AnalysisLimits {
    std::chrono::seconds timeout{120};  // wall clock; also the CPU time limit (RLIMIT_CPU)
    uint64_t memory_mb = 4096;          // RLIMIT_DATA of the child; 0: none
    uint64_t max_answer_bytes = uint64_t{512} << 20;
};

struct AnalysisOutcome {
    enum class End { answered, abnormal, stopped };
    End end = End::abnormal;
    AnalysisAnswer answer;  // answered
    std::string reason;  // abnormal: "analysis killed by SIGSEGV", "analysis timed out after 120 s"
};

struct AnalysisRun {
    std::string program = "/proc/self/exe";  // the dumpscope CLI
    analysis::SymbolOptions symbols;
    AnalysisLimits limits;
};

// Analyses `dump` in a child process. Returns `stopped` as soon as `stop_fd` is readable.
AnalysisOutcome run_analysis_process(const AnalysisRun& run, const std::string& dump, int stop_fd);

}  // namespace dumpscope::service
