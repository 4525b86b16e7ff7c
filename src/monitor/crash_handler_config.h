// The crash handler's settings, in a small "key = value" file (default
// /etc/dumpscope/crash-handler.conf), written by `crash-handler install` and read by the
// collector the kernel starts for every crash. It also keeps the core_pattern that was there
// before, for `uninstall`.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace dumpscope {

inline constexpr const char* kDefaultCrashConfig = "/etc/dumpscope/crash-handler.conf";

struct CrashHandlerConfig {
    std::string output_dir = "/var/lib/dumpscope/crashes";
    std::string dump_type = "mini";  // preset of the minidump
    bool keep_core = false;          // keep the kernel's ELF core next to the minidump
    uint64_t quota_mb = 1024;        // dumps in output_dir above this: the oldest go first
    int compress_level = 0;          // 1-19: dumps written zstd-compressed (.zst); 0: plain
    std::string upload_url;          // http://HOST:PORT/submit: each minidump is posted there
    std::string previous_core_pattern;

    Status validate() const;
};

// Missing keys keep their defaults; unknown keys and bad values are errors naming the line.
Result<CrashHandlerConfig> read_crash_config(const std::string& path);
// Creates the file's directory; writes a temporary and renames it into place (mode 0644).
Status write_crash_config(const std::string& path, const CrashHandlerConfig& config);

// mkdir -p (mode 0755 for what it creates).
Status make_directories(const std::string& dir);

}  // namespace dumpscope
