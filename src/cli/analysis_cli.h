// What the analysis subcommands share: the DUMP argument, --symbols DIR, --json, opening the dump
// and printing a command's text or JSON. Each subcommand lives in its own file
// (stack_command.cpp, threads_command.cpp, ...) and registers itself through add_*_command.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "analysis/command.h"

namespace dumpscope {

struct AnalysisInvocation {
    std::string dump;
    std::vector<std::string> symbol_dirs;
    bool json = false;
    bool no_cache = false;
    std::function<int(AnalysisInvocation&)> action;  // set by the chosen subcommand
};

// DUMP, --symbols DIR (repeatable), --json, --no-cache.
void add_dump_options(CLI::App* command, AnalysisInvocation& invocation);

// Opens the dump, runs one analysis command, prints its text (or JSON with --json). Exit code 1
// with a one-line message on error.
int run_analysis_command(const AnalysisInvocation& invocation, const char* name,
                         analysis::CommandFunction function, const analysis::CommandArgs& args);

// Opens the dump; what the reader could not read (a truncated file) is said once on stderr as
// "dumpscope NAME: warning: ...".
Result<std::unique_ptr<analysis::DumpAnalysis>> open_for(const AnalysisInvocation& invocation,
                                                         const char* name);

// One per file.
void add_vertarget_command(CLI::App& app, AnalysisInvocation& invocation);
void add_threads_command(CLI::App& app, AnalysisInvocation& invocation);
void add_stack_command(CLI::App& app, AnalysisInvocation& invocation);
void add_modules_command(CLI::App& app, AnalysisInvocation& invocation);
void add_exception_command(CLI::App& app, AnalysisInvocation& invocation);
void add_registers_command(CLI::App& app, AnalysisInvocation& invocation);
void add_memory_command(CLI::App& app, AnalysisInvocation& invocation);
void add_regions_command(CLI::App& app, AnalysisInvocation& invocation);
void add_handles_command(CLI::App& app, AnalysisInvocation& invocation);
void add_heap_command(CLI::App& app, AnalysisInvocation& invocation);
void add_debug_command(CLI::App& app, AnalysisInvocation& invocation);
void add_analyze_command(CLI::App& app, AnalysisInvocation& invocation);

// All of the above, for main().
class AnalysisCommands {
public:
    void add_to(CLI::App& app);
    bool requested() const { return static_cast<bool>(invocation_.action); }
    int run() { return invocation_.action(invocation_); }

private:
    AnalysisInvocation invocation_;
};

}  // namespace dumpscope
