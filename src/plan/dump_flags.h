// MINIDUMP_TYPE flags and the four strategies of the minidump article (tiny/mini/midi/maxi).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dumpscope {

namespace dump_flag {
#define DS_DUMP_FLAG(name, value, linux_meaning, description) \
    inline constexpr uint32_t name = value;
#include "plan/dump_flags.def"
#undef DS_DUMP_FLAG
}  // namespace dump_flag

struct DumpFlagInfo {
    std::string_view name;
    uint32_t value;
    bool has_linux_meaning;
    std::string_view description;
};

const std::vector<DumpFlagInfo>& all_dump_flags();

// "WithDataSegs,ScanMemory" (names with or without the MiniDump prefix, case-insensitive,
// or hex numbers) -> bits.
Result<uint32_t> parse_dump_flags(std::string_view list);
// bits -> "WithDataSegs|ScanMemory" ("Normal" for 0).
std::string dump_flags_to_string(uint32_t flags);

}  // namespace dumpscope
