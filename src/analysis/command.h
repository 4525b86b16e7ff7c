// The analysis commands: each takes a dump under analysis and its arguments and produces text
// (WinDbg's layout) and JSON. The same table serves the subcommands of the CLI (`dumpscope
// stack DUMP --all`) and the words of `dumpscope debug` (`~*k`, `lm`, `!address -summary`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/dump_analysis.h"
#include "common/result.h"

namespace dumpscope::analysis {

// bugprone-exception-escape: the implicit move constructor is noexcept because nlohmann::json's
// is; clang-tidy 14 finds a throw inside json's and blames this struct.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct CommandOutput {
    std::string text;
    nlohmann::json json;
};

using CommandArgs = std::vector<std::string>;
using CommandFunction = Result<CommandOutput> (*)(DumpAnalysis&, const CommandArgs&);

// Individual commands (render_*.cpp). Arguments as their WinDbg forms take them.
Result<CommandOutput> command_target(DumpAnalysis& dump, const CommandArgs& args);      // vertarget
Result<CommandOutput> command_threads(DumpAnalysis& dump, const CommandArgs& args);     // ~
Result<CommandOutput> command_stack(DumpAnalysis& dump, const CommandArgs& args);       // k
Result<CommandOutput> command_all_stacks(DumpAnalysis& dump, const CommandArgs& args);  // ~*k
Result<CommandOutput> command_modules(DumpAnalysis& dump, const CommandArgs& args);     // lm
Result<CommandOutput> command_exception(DumpAnalysis& dump, const CommandArgs& args);   // .ecxr
Result<CommandOutput> command_registers(DumpAnalysis& dump, const CommandArgs& args);   // r
Result<CommandOutput> command_memory(DumpAnalysis& dump, const CommandArgs& args);      // db ...
Result<CommandOutput> command_regions(DumpAnalysis& dump, const CommandArgs& args);     // !address
Result<CommandOutput> command_handles(DumpAnalysis& dump, const CommandArgs& args);     // !handle

// Runs one WinDbg-style command line of `dumpscope debug` ("~3s", "db 0x1000 L20", ...).
Result<CommandOutput> run_debugger_command(DumpAnalysis& dump, const std::string& line);

// The words `dumpscope debug` understands, one line each, for `help`.
std::string debugger_help();

// Adds a word to `dumpscope debug` from a layer above analysis (diagnosis/ registers `!analyze`,
// `!locks`, `!runaway` this way, so analysis/ never includes it). A word registered twice keeps
// its first registration. Not thread-safe: register before running commands.
void register_debugger_word(const char* word, CommandFunction run, const char* help);

// "00007ffc`c9a6e800": a pointer as WinDbg prints it.
std::string windbg_pointer(uint64_t value);
// "0x00007ffcc9a6e800": a rust-minidump hexstring.
std::string hex_string(uint64_t value);
// "1.500 MiB".
std::string human_size(uint64_t bytes);

// Why a command about threads shows none: "the dump holds no threads (a tiny dump: its type
// leaves them out)\n".
std::string no_threads_text(const Snapshot& snapshot);

}  // namespace dumpscope::analysis
