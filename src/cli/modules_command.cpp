// `dumpscope modules DUMP [--json]`: Modules: range, name, build-id, symbol status (WinDbg lm).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_modules_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command =
        app.add_subcommand("modules", "Modules: range, name, build-id, symbol status (WinDbg lm)");
    add_dump_options(command, invocation);
    command->callback([&invocation] {
        invocation.action = [](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "modules", analysis::command_modules, {});
        };
    });
}

}  // namespace dumpscope
