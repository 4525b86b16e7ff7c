// The analysis of one uploaded dump in a process of its own, so that a dump which crashes the
// analysis (a reader bug, a stack overflow, memory exhausted) or never ends costs that process,
// not the server. The child is dumpscope itself, started by the server (analysis_process.h) from
// /proc/self/exe with kAnalysisChildArg (the CLI's main() hands it to analysis_child_main). It
// dies with the server thread that started it (PR_SET_PDEATHSIG), limits itself (RLIMIT_DATA,
// RLIMIT_CPU, no core file), runs process_dump() and writes its answer (analysis_answer.h) to the
// result descriptor.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/symbol_locator.h"
#include "common/result.h"

namespace dumpscope::service {

inline constexpr const char* kAnalysisChildArg = "--internal-analysis-child";

struct AnalysisChildArgs {
    std::string dump;
    int result_fd = -1;
    pid_t parent = 0;          // the child exits at once if its parent is not this one
    uint64_t memory_mb = 0;    // RLIMIT_DATA; 0: none
    uint64_t cpu_seconds = 0;  // RLIMIT_CPU; 0: none
    analysis::SymbolOptions symbols;
};

// {kAnalysisChildArg, --dump, PATH, ...}: the arguments after argv[0].
std::vector<std::string> analysis_child_arguments(const AnalysisChildArgs& args);
// argv as main() gets it: argv[1] is kAnalysisChildArg.
Result<AnalysisChildArgs> parse_analysis_child_arguments(int argc, char** argv);

int analysis_child_main(int argc, char** argv);

}  // namespace dumpscope::service
