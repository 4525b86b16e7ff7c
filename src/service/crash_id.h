// Crash ids: 16 random bytes from the kernel (getrandom) as 32 lowercase hex digits, never
// derived from anything a client sent. An id is the only part of a request that names a file
// (dumps/<id>), so every id from a request is checked with is_crash_id() first.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope::service {

Result<std::string> new_crash_id();
// Exactly 32 characters of [0-9a-f].
bool is_crash_id(std::string_view text);

}  // namespace dumpscope::service
