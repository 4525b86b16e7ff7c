// `dumpscope regions DUMP [ADDR] [--summary] [--json]`: memory regions with usage, type, state,
// protection and bytes in the dump; the summary by usage, type and state (WinDbg !address).
#include "cli/analysis_cli.h"

namespace dumpscope {

void add_regions_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "regions", "Memory regions and what uses them (WinDbg !address, !address -summary)");
    add_dump_options(command, invocation);
    auto address = std::make_shared<std::string>();
    auto summary = std::make_shared<bool>(false);
    command->add_option("ADDR", *address, "Only the region holding this address (hexadecimal)");
    command->add_flag("--summary", *summary, "Totals by usage, type and state");
    command->callback([&invocation, address, summary] {
        invocation.action = [address, summary](AnalysisInvocation& inv) {
            analysis::CommandArgs args;
            if (*summary) args.push_back("-summary");
            if (!address->empty()) args.push_back(*address);
            return run_analysis_command(inv, "regions", analysis::command_regions, args);
        };
    });
}

}  // namespace dumpscope
