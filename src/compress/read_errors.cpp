#include "compress/read_errors.h"

#include <mutex>

namespace dumpscope::compress {

namespace {

std::mutex& errors_mutex() {
    static std::mutex m;
    return m;
}

std::optional<std::string>& first() {
    static std::optional<std::string> e;
    return e;
}

}  // namespace

void record_read_error(const std::string& message) {
    std::lock_guard lock(errors_mutex());
    if (!first()) first() = message;
}

std::optional<std::string> first_read_error() {
    std::lock_guard lock(errors_mutex());
    return first();
}

}  // namespace dumpscope::compress
