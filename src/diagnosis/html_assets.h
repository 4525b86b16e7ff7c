// The style sheet and the script of the HTML report, inlined into every page (no network).
#pragma once

namespace dumpscope::diagnosis {

// CSS for the page and its SVG charts (light and dark colour schemes).
extern const char* const kReportStyle;
// Opens a collapsed thread when a link points to it; expands or collapses every stack of a dump.
// The page is complete without it.
extern const char* const kReportScript;

}  // namespace dumpscope::diagnosis
