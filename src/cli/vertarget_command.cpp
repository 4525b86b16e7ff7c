// `dumpscope vertarget DUMP [--json]`: System, kernel, CPU, process, command line, dump time,
// uptimes (WinDbg vertarget).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_vertarget_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "vertarget",
        "System, kernel, CPU, process, command line, dump time, uptimes (WinDbg vertarget)");
    add_dump_options(command, invocation);
    command->callback([&invocation] {
        invocation.action = [](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "vertarget", analysis::command_target, {});
        };
    });
}

}  // namespace dumpscope
