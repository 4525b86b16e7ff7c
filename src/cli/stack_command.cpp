// `dumpscope stack DUMP [--thread TID | --all] [--json]`: frames with module, function+offset,
// file:line and trust (WinDbg k / ~*k; JSON in minidump-stackwalk's schema).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_stack_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "stack", "Stacks with symbols and how each frame was found (WinDbg k, ~*k)");
    add_dump_options(command, invocation);
    auto tid = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    command->add_option("--thread", *tid,
                        "The thread with this id (default: the thread of the "
                        "exception, else the first)");
    command->add_flag("--all", *all, "Every thread");
    command->callback([&invocation, tid, all] {
        invocation.action = [tid, all](AnalysisInvocation& inv) {
            analysis::CommandArgs args;
            if (*all) args.push_back("--all");
            if (!tid->empty()) args.insert(args.end(), {"--thread", *tid});
            return run_analysis_command(inv, "stack", analysis::command_stack, args);
        };
    });
}

}  // namespace dumpscope
