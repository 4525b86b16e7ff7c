// Times in the API: ISO 8601 in UTC with milliseconds ("2026-12-05T14:09:08.123Z").
#pragma once

#include <cstdint>
#include <string>

namespace dumpscope::service {

std::string iso_time(int64_t ms_since_epoch);

}  // namespace dumpscope::service
