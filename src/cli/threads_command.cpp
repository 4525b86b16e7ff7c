// `dumpscope threads DUMP [--json]`: Threads: id, name, state, system call, CPU times, where each
// is (WinDbg ~).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_threads_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "threads", "Threads: id, name, state, system call, CPU times, where each is (WinDbg ~)");
    add_dump_options(command, invocation);
    command->callback([&invocation] {
        invocation.action = [](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "threads", analysis::command_threads, {});
        };
    });
}

}  // namespace dumpscope
