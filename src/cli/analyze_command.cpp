// `dumpscope analyze DUMP [DUMP...] [--json]`: what went wrong, with the evidence (crash,
// deadlock, lock contention, hang, runaway threads; docs/analyze.md). Several dumps of one
// process also give the CPU each thread used between them.
#include <fmt/format.h>

#include "cli/analysis_cli.h"
#include "diagnosis/report.h"

namespace dumpscope {

void add_analyze_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "analyze", "What went wrong: crash, deadlock, lock waits, hang, runaway threads");
    auto dumps = std::make_shared<std::vector<std::string>>();
    command->add_option("DUMP", *dumps, "Minidumps or ELF core files (several: of one process)")
        ->required();
    command
        ->add_option("--symbols", invocation.symbol_dirs,
                     "A directory of symbol files (DIR/.build-id/xx/rest[.debug], DIR/name); "
                     "repeatable")
        ->allow_extra_args(false);
    command->add_flag("--json", invocation.json, "Print JSON (docs/analyze.md)");
    command->add_flag("--no-cache", invocation.no_cache,
                      "Do not keep uncompressed copies of debug files");
    command->callback([&invocation, dumps] {
        invocation.action = [dumps](AnalysisInvocation& inv) {
            std::vector<std::unique_ptr<analysis::DumpAnalysis>> opened;
            std::vector<analysis::DumpAnalysis*> pointers;
            for (const std::string& path : *dumps) {
                inv.dump = path;
                auto dump = open_for(inv);
                if (!dump.ok()) {
                    fmt::print(stderr, "dumpscope analyze: {}\n", dump.error().message);
                    return 1;
                }
                pointers.push_back(dump->get());
                opened.push_back(std::move(*dump));
            }
            const diagnosis::Report report = diagnosis::diagnose(pointers);
            if (inv.json) {
                fmt::print("{}\n", diagnosis::report_json(report).dump(
                                       2, ' ', false, nlohmann::json::error_handler_t::replace));
            } else {
                fmt::print("{}", diagnosis::report_text(report));
            }
            return 0;
        };
    });
}

}  // namespace dumpscope
