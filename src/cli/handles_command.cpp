// `dumpscope handles DUMP [--json]`: File descriptors with type and target (WinDbg !handle).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_handles_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command =
        app.add_subcommand("handles", "File descriptors with type and target (WinDbg !handle)");
    add_dump_options(command, invocation);
    command->callback([&invocation] {
        invocation.action = [](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "handles", analysis::command_handles, {});
        };
    });
}

}  // namespace dumpscope
