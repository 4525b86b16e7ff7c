// What the library tells its helper before any message: the process, where and what to dump,
// the user streams. Written once into a memfd by the library (at install or at the call, never
// while crashing), read once by the helper (descriptor wire::kSettingsFd).
// Encoding: a 4-byte little-endian length, that many bytes of JSON, then each user stream as
// type (u32), size (u32) and its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"

namespace dumpscope {

struct HandlerSettings {
    int32_t pid = 0;
    uint32_t dump_type = 0;
    std::string dump_dir;                // crash mode
    std::string upload_url;              // crash mode: POST each dump there ("" = no upload)
    bool has_callback = false;           // write mode: the routine is called remotely
    std::vector<int32_t> leave_running;  // write mode: the library's callback thread
    uint64_t annotations_address = 0;    // crash mode: the library's annotation table
    // write mode with an exception: the faulting thread and where its siginfo_t and ucontext_t
    // are in the process (0 = none).
    int32_t exception_tid = 0;
    uint64_t siginfo_address = 0;
    uint64_t ucontext_address = 0;
    std::vector<UserStream> user_streams;
};

std::vector<uint8_t> encode_settings(const HandlerSettings& settings);
Result<HandlerSettings> decode_settings(const std::vector<uint8_t>& bytes);

// A memfd holding the encoded settings, positioned at 0 (the caller closes it).
Result<int> settings_memfd(const HandlerSettings& settings);
// Reads all of fd from offset 0 (at most 1 GiB).
Result<std::vector<uint8_t>> read_settings_fd(int fd);

}  // namespace dumpscope
