// One crash's processing: the same analysis as `dumpscope analyze DUMP --json --html FILE`, in
// process (analysis::open_dump_analysis, diagnosis::diagnose, report_json, render_html). A dump
// that cannot be read is an error carrying the reader's one-line message.
#pragma once

#include <string>

#include "analysis/symbol_locator.h"
#include "common/result.h"
#include "service/crash_store.h"

namespace dumpscope::service {

Result<ProcessedCrash> process_dump(const std::string& path,
                                    const analysis::SymbolOptions& options);

}  // namespace dumpscope::service
