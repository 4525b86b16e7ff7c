#include "service/process_dump.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/command.h"
#include "analysis/dump_analysis.h"
#include "compress/read_errors.h"
#include "diagnosis/render_html.h"
#include "diagnosis/report.h"

namespace dumpscope::service {

Result<ProcessedCrash> process_dump(const std::string& path,
                                    const analysis::SymbolOptions& options) {
    // Read errors of compressed dumps are recorded process-wide, first one only
    // (compress/read_errors.h): one that appears during this analysis is this dump's.
    const bool had_read_error = compress::first_read_error().has_value();
    auto dump = analysis::open_dump_analysis(path, options);
    if (!dump.ok()) return dump.error();
    const std::vector<analysis::DumpAnalysis*> dumps{dump->get()};
    const diagnosis::Report report = diagnosis::diagnose(dumps);
    ProcessedCrash out;
    out.format = (*dump)->format();
    out.signature = report.signature;
    for (const diagnosis::Finding& finding : report.findings) {
        if (finding.crash) {
            out.crash_class = finding.crash->cls;
            break;
        }
    }
    if (!report.dumps.empty()) out.program = report.dumps.front().process_name;
    out.json = diagnosis::report_json(report).dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
    out.html = diagnosis::render_html(report, dumps);
    // The modules with a build-id and what the analysis had for them, for the symbol index (`lm`'s
    // table: the report page made it already, so the debug files are loaded).
    if (auto modules = analysis::command_modules(**dump, {}); modules.ok()) {
        for (const nlohmann::json& m : modules->json) {
            const std::string build_id = m.value("build_id", "");
            if (!build_id.empty())
                out.modules.push_back({build_id, m.value("name", ""), m.value("symbols", "")});
        }
    }
    if (!had_read_error) {
        if (auto error = compress::first_read_error()) return Error{*error};
    }
    return out;
}

}  // namespace dumpscope::service
