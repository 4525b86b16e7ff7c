// /proc/PID/status: "Key:\tvalue" lines (TracerPid, PPid, Uid, Gid, Tgid, Name ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dumpscope {

// The value of "key:" with surrounding blanks trimmed, or nullopt if the key is absent.
std::optional<std::string> status_field(std::string_view status, std::string_view key);

// The first number of a field ("Uid:\t1000\t1000\t1000\t1000" -> 1000).
std::optional<int64_t> status_number(std::string_view status, std::string_view key);

}  // namespace dumpscope
