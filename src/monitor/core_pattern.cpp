#include "monitor/core_pattern.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "live/proc_files.h"
#include "monitor/crash_handler_config.h"

namespace dumpscope {

Result<std::string> read_core_pattern() {
    auto text = read_file_whole(kCorePatternPath);
    if (!text) return text.error();
    return chomp(*text);
}

Status write_core_pattern(const std::string& pattern) {
    if (pattern.size() > kCorePatternMax)
        return Error{
            fmt::format("core_pattern of {} characters is longer than the kernel keeps "
                        "({})",
                        pattern.size(), kCorePatternMax)};
    UniqueFd fd(::open(kCorePatternPath, O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd.valid()) return errno_error(std::string("cannot open ") + kCorePatternPath);
    const std::string line = pattern + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return errno_error(std::string("cannot write ") + kCorePatternPath);
    return Status::success();
}

Result<std::string> crash_handler_pattern(const std::string& binary, const std::string& config) {
    if (binary.find(' ') != std::string::npos || config.find(' ') != std::string::npos)
        return Error{"the paths in core_pattern cannot contain spaces: " + binary + ", " + config};
    std::string pattern = "|" + binary + " crash-handler collect";
    if (config != kDefaultCrashConfig) pattern += " --config " + config;
    pattern += " %P %s %t %e";
    if (pattern.size() > kCorePatternMax)
        return Error{
            fmt::format("core_pattern '{}' would be {} characters, more than the kernel "
                        "keeps ({}); use shorter paths",
                        pattern, pattern.size(), kCorePatternMax)};
    return pattern;
}

bool is_crash_handler_pattern(const std::string& pattern) {
    return !pattern.empty() && pattern[0] == '|' &&
           pattern.find(" crash-handler collect") != std::string::npos;
}

}  // namespace dumpscope
