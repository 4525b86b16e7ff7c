#include "cli/user_stream_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/unique_fd.h"
#include "common/units.h"

namespace dumpscope {

namespace {

Error too_big(const std::string& path, uint64_t limit_bytes) {
    return Error{fmt::format("user stream file {} is larger than the {} limit (--max-user-stream)",
                             path, human_bytes(limit_bytes))};
}

}  // namespace

Result<std::vector<uint8_t>> read_user_stream_file(const std::string& path, uint64_t limit_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot read user stream file " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error("cannot read user stream file " + path);
    if (S_ISDIR(st.st_mode)) return Error{"user stream file " + path + " is a directory"};
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > limit_bytes)
        return too_big(path, limit_bytes);
    // Devices, pipes and files that grow: read until the end or one byte past the limit.
    std::vector<uint8_t> bytes;
    uint8_t buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("cannot read user stream file " + path);
        }
        if (n == 0) break;
        if (bytes.size() + static_cast<size_t>(n) > limit_bytes) return too_big(path, limit_bytes);
        bytes.insert(bytes.end(), buffer, buffer + n);
    }
    return bytes;
}

}  // namespace dumpscope
