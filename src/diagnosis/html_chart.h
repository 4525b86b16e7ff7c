// Horizontal bar charts as inline SVG for the HTML report: no script, no network, every label
// escaped. One bar per row, its length proportional to the row's value; an optional part of it
// (the bytes of a region that are in the dump, say) drawn darker over it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dumpscope::diagnosis {

struct BarRow {
    std::string label;       // untrusted bytes: escaped, shortened to fit, in full in the tooltip
    uint64_t value = 0;      // the bar's length relative to the largest value of the chart
    uint64_t part = 0;       // drawn darker from the start of the bar; 0 for none
    std::string value_text;  // printed right of the bar
    std::string tooltip;     // the bar's <title>, after the label
};

struct BarChart {
    std::string title;       // the SVG's accessible name
    std::string value_name;  // legend of the bar ("size")
    std::string part_name;   // legend of the darker part ("in the dump"), "" when none
    std::vector<BarRow> rows;
};

// An <svg> element (class "chart"); "" when the chart has no rows.
std::string bar_chart_svg(const BarChart& chart);

}  // namespace dumpscope::diagnosis
