// A signature's trend on a page: its crashes per day as a small bar chart in inline SVG (no
// script, nothing loaded). One bar per day, oldest on the left, the highest day filling the
// height; a day without crashes is a grey baseline. Each bar has a <title> ("2026-12-05: 3
// crashes") that browsers show on hover, and the chart an aria-label listing every count.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace dumpscope::service {

struct TrendSize {
    int bar_width = 5;
    int gap = 1;
    int height = 20;
};

// `daily[i]` is the number of crashes on the day starting at first_day_ms + i days (UTC).
std::string trend_svg(std::span<const int64_t> daily, int64_t first_day_ms, TrendSize size = {});

}  // namespace dumpscope::service
