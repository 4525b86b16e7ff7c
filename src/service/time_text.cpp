#include "service/time_text.h"

#include <fmt/format.h>

#include <ctime>

namespace dumpscope::service {

std::string iso_time(int64_t ms_since_epoch) {
    const time_t seconds = static_cast<time_t>(ms_since_epoch / 1000);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                       utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                       ms_since_epoch % 1000);
}

}  // namespace dumpscope::service
