#include "common/units.h"

#include <fmt/format.h>

namespace dumpscope {

std::string human_bytes(uint64_t bytes) {
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0) return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string human_rate(double bytes_per_second) {
    if (bytes_per_second >= 1e9) return fmt::format("{:.2f} GB/s", bytes_per_second / 1e9);
    if (bytes_per_second >= 1e6) return fmt::format("{:.0f} MB/s", bytes_per_second / 1e6);
    return fmt::format("{:.0f} kB/s", bytes_per_second / 1e3);
}

std::string human_duration_ms(double ms) {
    if (ms < 10) return fmt::format("{:.1f} ms", ms);
    if (ms < 1000) return fmt::format("{:.0f} ms", ms);
    return fmt::format("{:.1f} s", ms / 1000);
}

}  // namespace dumpscope
