// `dumpscope exception DUMP [--json]`: The exception: signal, code, address, thread, registers
// (WinDbg .ecxr).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_exception_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "exception", "The exception: signal, code, address, thread, registers (WinDbg .ecxr)");
    add_dump_options(command, invocation);
    command->callback([&invocation] {
        invocation.action = [](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "exception", analysis::command_exception, {});
        };
    });
}

}  // namespace dumpscope
