// `dumpscope analyze DUMP [DUMP...] [--json] [--html FILE]`: what went wrong, with the evidence
// (crash, deadlock, lock contention, hang, runaway threads; docs/analyze.md). Several dumps of one
// process also give the CPU each thread used between them. --html also writes the report as one
// self-contained page.
#include <fmt/format.h>

#include "cli/analysis_cli.h"
#include "diagnosis/render_html.h"
#include "diagnosis/report.h"

namespace dumpscope {

void add_analyze_command(CLI::App& app, AnalysisInvocation& invocation) {
    CLI::App* command = app.add_subcommand(
        "analyze", "What went wrong: crash, deadlock, lock waits, hang, runaway threads");
    auto dumps = std::make_shared<std::vector<std::string>>();
    auto html = std::make_shared<std::string>();
    command->add_option("DUMP", *dumps, "Minidumps or ELF core files (several: of one process)")
        ->required();
    command
        ->add_option("--symbols", invocation.symbol_dirs,
                     "A directory of symbol files (DIR/.build-id/xx/rest[.debug], DIR/name); "
                     "repeatable")
        ->allow_extra_args(false);
    command->add_flag("--json", invocation.json, "Print JSON (docs/analyze.md)");
    command
        ->add_option("--html", *html,
                     "Also write the report as one self-contained HTML page to FILE (replaced if "
                     "it exists)")
        ->option_text("FILE")
        ->check(CLI::Validator(
            [](std::string& path) { return path.empty() ? "--html needs a file name" : ""; },
            "FILE"));
    command->add_flag("--no-cache", invocation.no_cache,
                      "Do not keep uncompressed copies of debug files");
    command->callback([&invocation, dumps, html] {
        invocation.action = [dumps, html](AnalysisInvocation& inv) {
            std::vector<std::unique_ptr<analysis::DumpAnalysis>> opened;
            std::vector<analysis::DumpAnalysis*> pointers;
            for (const std::string& path : *dumps) {
                inv.dump = path;
                auto dump = open_for(inv, "analyze");
                if (!dump.ok()) {
                    fmt::print(stderr, "dumpscope analyze: {}\n", dump.error().message);
                    return 1;
                }
                pointers.push_back(dump->get());
                opened.push_back(std::move(*dump));
            }
            const diagnosis::Report report = diagnosis::diagnose(pointers);
            if (!html->empty()) {
                const Status written =
                    diagnosis::write_html_report(*html, diagnosis::render_html(report, pointers));
                if (!written.ok()) {
                    fmt::print(stderr, "dumpscope analyze: {}\n", written.error().message);
                    return 1;
                }
            }
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
