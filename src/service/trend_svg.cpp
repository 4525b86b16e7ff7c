#include "service/trend_svg.h"

#include <fmt/format.h>

#include <algorithm>

#include "service/time_text.h"

namespace dumpscope::service {

namespace {

constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;

}  // namespace

std::string trend_svg(std::span<const int64_t> daily, int64_t first_day_ms, TrendSize size) {
    const int64_t highest = daily.empty() ? 0 : *std::max_element(daily.begin(), daily.end());
    const int step = size.bar_width + size.gap;
    const int width = static_cast<int>(daily.size()) * step - size.gap;
    std::string counts;
    for (const int64_t n : daily) counts += (counts.empty() ? "" : ", ") + std::to_string(n);
    std::string svg = fmt::format(
        "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"crashes per day, the last {2} days: "
        "{3}\">",
        std::max(width, 0), size.height, daily.size(), counts);
    for (size_t day = 0; day < daily.size(); ++day) {
        const int64_t n = daily[day];
        // At least one pixel for a day with crashes, whatever the highest day.
        const int bar =
            n <= 0 ? 1
                   : std::max<int>(1, static_cast<int>((n * size.height + highest - 1) / highest));
        const std::string date = iso_time(first_day_ms + static_cast<int64_t>(day) * kDayMs)
                                     .substr(0, 10);  // "2026-12-05"
        svg += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" data-count=\"{}\">"
            "<title>{}: {} crash{}</title></rect>",
            static_cast<int>(day) * step, size.height - bar, size.bar_width, bar,
            n > 0 ? "#c0392b" : "#ccc", n, date, n, n == 1 ? "" : "es");
    }
    return svg + "</svg>";
}

}  // namespace dumpscope::service
