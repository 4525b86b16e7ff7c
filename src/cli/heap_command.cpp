// `dumpscope heap DUMP [--stat] [--json]`: glibc's malloc heap walked from the dump (WinDbg's
// !heap -s and !heap -stat).
#include "cli/analysis_cli.h"
#include "diagnosis/heap_commands.h"

namespace dumpscope {

void add_heap_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "heap",
        "glibc malloc heap: arenas, in-use and free bytes (!heap -s); --stat: chunks by "
        "size and C++ class (!heap -stat)");
    add_dump_options(command, invocation);
    auto stat = std::make_shared<bool>(false);
    command->add_flag("--stat", *stat, "In-use chunks grouped by size and type, biggest first");
    command->callback([&invocation, stat] {
        invocation.action = [stat](AnalysisInvocation& inv) {
            return run_analysis_command(inv, "heap", command_heap,
                                        {*stat ? std::string("-stat") : std::string("-s")});
        };
    });
}

}  // namespace dumpscope
