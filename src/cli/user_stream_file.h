// --user-stream TYPE:FILE: the file is read whole when the options are parsed, before the target
// is touched, and at most `limit` bytes of it (an endless file like /dev/zero, or a huge one, is
// an error instead of an allocation failure).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope {

constexpr uint64_t kDefaultUserStreamLimitMib = 16;

Result<std::vector<uint8_t>> read_user_stream_file(const std::string& path, uint64_t limit_bytes);

}  // namespace dumpscope
