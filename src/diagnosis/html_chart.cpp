// Bar charts as inline SVG (html_chart.h). Geometry in SVG user units; the page's CSS colours
// the classes (bar, bar-part, label, value, legend).
#include "diagnosis/html_chart.h"

#include <fmt/format.h>

#include <algorithm>

#include "diagnosis/html_text.h"

namespace dumpscope::diagnosis {

namespace {

constexpr int kWidth = 820;
constexpr int kLabelEnd = 254;  // labels are right-aligned here
constexpr int kBarStart = 262;
constexpr int kBarSpan = 360;
constexpr int kRowHeight = 22;
constexpr int kBarHeight = 14;
constexpr int kLegendHeight = 24;
constexpr size_t kLabelCodePoints = 36;

// The length of a bar, at least one unit for a non-zero value.
double bar_length(uint64_t value, uint64_t largest) {
    if (value == 0 || largest == 0) return 0;
    return std::max(1.0, kBarSpan * static_cast<double>(value) / static_cast<double>(largest));
}

}  // namespace

std::string bar_chart_svg(const BarChart& chart) {
    if (chart.rows.empty()) return "";
    uint64_t largest = 0;
    for (const BarRow& row : chart.rows) largest = std::max(largest, row.value);
    const int height = kLegendHeight + static_cast<int>(chart.rows.size()) * kRowHeight + 6;
    std::string svg = fmt::format(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{0}\" "
        "height=\"{1}\" viewBox=\"0 0 {0} {1}\" aria-label=\"{2}\">\n",
        kWidth, height, html_text(chart.title));
    // The legend.
    svg += fmt::format(
        "<rect class=\"bar\" x=\"{}\" y=\"5\" width=\"12\" height=\"12\"/>"
        "<text class=\"legend\" x=\"{}\" y=\"15\">{}</text>\n",
        kBarStart, kBarStart + 16, html_text(chart.value_name));
    if (!chart.part_name.empty()) {
        svg += fmt::format(
            "<rect class=\"bar-part\" x=\"{}\" y=\"5\" width=\"12\" height=\"12\"/>"
            "<text class=\"legend\" x=\"{}\" y=\"15\">{}</text>\n",
            kBarStart + 150, kBarStart + 166, html_text(chart.part_name));
    }
    for (size_t i = 0; i < chart.rows.size(); ++i) {
        const BarRow& row = chart.rows[i];
        const int top = kLegendHeight + static_cast<int>(i) * kRowHeight;
        const int baseline = top + kBarHeight - 2;
        const std::string label = valid_utf8(row.label);
        const std::string tooltip =
            html_text(label + (row.tooltip.empty() ? "" : ": " + row.tooltip));
        svg += fmt::format("<g class=\"row\"><title>{}</title>", tooltip);
        svg += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\">{}</text>", kLabelEnd, baseline,
                           html_text(shorten_utf8(label, kLabelCodePoints)));
        const double length = bar_length(row.value, largest);
        svg += fmt::format("<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"/>",
                           kBarStart, top, length, kBarHeight);
        if (row.part > 0) {
            const double part = std::min(length, bar_length(row.part, largest));
            svg += fmt::format(
                "<rect class=\"bar-part\" x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"/>",
                kBarStart, top, part, kBarHeight);
        }
        svg += fmt::format("<text class=\"value\" x=\"{:.1f}\" y=\"{}\">{}</text></g>\n",
                           kBarStart + length + 6, baseline, html_text(row.value_text));
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace dumpscope::diagnosis
