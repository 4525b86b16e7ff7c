// `dumpscope stack DUMP [--thread TID | --all] [--max-frames N] [--json]`: frames with module,
// function+offset, file:line and trust (WinDbg k / ~*k; JSON in minidump-stackwalk's schema).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_stack_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "stack", "Stacks with symbols and how each frame was found (WinDbg k, ~*k)");
    add_dump_options(command, invocation);
    auto tid = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    auto max_frames = std::make_shared<size_t>(0);
    command->add_option("--thread", *tid,
                        "The thread with this id (default: the thread of the "
                        "exception, else the first)");
    command->add_flag("--all", *all, "Every thread");
    command
        ->add_option("--max-frames", *max_frames,
                     "At most N frames per thread (default: the whole stack, up to 100000)")
        ->check(CLI::PositiveNumber);
    command->callback([&invocation, tid, all, max_frames] {
        invocation.action = [tid, all, max_frames](AnalysisInvocation& inv) {
            analysis::CommandArgs args;
            if (*all) args.push_back("--all");
            if (*max_frames != 0)
                args.insert(args.end(), {"--max-frames", std::to_string(*max_frames)});
            if (!tid->empty()) args.insert(args.end(), {"--thread", *tid});
            return run_analysis_command(inv, "stack", analysis::command_stack, args);
        };
    });
}

}  // namespace dumpscope
