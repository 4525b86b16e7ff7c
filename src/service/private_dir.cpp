#include "service/private_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace dumpscope::service {

Status make_private_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
        return errno_error("cannot create the directory " + path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno_error("cannot stat " + path);
    if (!S_ISDIR(st.st_mode)) return Error{path + " exists and is not a directory"};
    return {};
}

Status sync_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open the directory " + dir);
    if (::fsync(fd.get()) != 0) return errno_error("cannot sync the directory " + dir);
    return {};
}

Status append_to_file(int fd, std::string_view bytes, const std::string& path, uint64_t offset,
                      bool& disk_full) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : ENOSPC;
            disk_full = err == ENOSPC || err == EDQUOT;
            return errno_error(fmt::format("cannot write {} at offset {}", path, offset + done),
                               err);
        }
        done += static_cast<size_t>(n);
    }
    return {};
}

}  // namespace dumpscope::service
