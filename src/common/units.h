// Human-readable sizes, rates and durations for progress and reports.
#pragma once

#include <cstdint>
#include <string>

namespace dumpscope {

std::string human_bytes(uint64_t bytes);             // "1.5 GiB", "512 B"
std::string human_rate(double bytes_per_second);     // "1.2 GB/s"
std::string human_duration_ms(double milliseconds);  // "41 ms", "3.2 s"

}  // namespace dumpscope
