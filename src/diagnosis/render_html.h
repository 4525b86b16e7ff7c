// `dumpscope analyze --html FILE`: the report as one self-contained HTML page. Summary first
// (process, dumps, signature, findings by severity), then the findings with their evidence and
// next step, then per dump every thread's stack (as `stack --all` shows it; collapsible), the
// memory by usage (`!address -summary`) and the heap's in-use chunks by size and type
// (`!heap -stat`) as SVG charts, and the modules. No network: the CSS, the small script and the
// charts are inline, and the page's Content-Security-Policy forbids loading anything. Everything
// read from a dump is HTML-escaped and made valid UTF-8 (html_text.h).
#pragma once

#include <string>
#include <vector>

#include "analysis/dump_analysis.h"
#include "common/result.h"
#include "diagnosis/report.h"

namespace dumpscope::diagnosis {

// The page for `report`, which diagnose() made from `dumps` (same order).
std::string render_html(const Report& report, const std::vector<analysis::DumpAnalysis*>& dumps);

// Writes `page` to `path` atomically: a temporary file in the same directory, renamed over `path`
// once complete (an existing file is replaced); on error nothing is left behind and the message
// names the path.
Status write_html_report(const std::string& path, const std::string& page);

}  // namespace dumpscope::diagnosis
