#include "service/crash_id.h"

#include <sys/random.h>

#include <array>
#include <cstdint>

#include "common/hex.h"

namespace dumpscope::service {

Result<std::string> new_crash_id() {
    std::array<uint8_t, 16> bytes{};
    size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error("getrandom for a crash id");
        got += static_cast<size_t>(n);
    }
    return to_hex(bytes);
}

bool is_crash_id(std::string_view text) {
    if (text.size() != 32) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace dumpscope::service
