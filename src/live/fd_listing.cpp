#include "live/fd_listing.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>

#include "live/proc_files.h"
#include "procfs/fdinfo.h"

namespace dumpscope {

Result<std::vector<FileDescriptor>> list_fds(int32_t pid) {
    std::string base = proc_dir(pid);
    auto numbers = list_numeric_dir(base + "/fd");
    if (!numbers) return numbers.error();
    std::vector<FileDescriptor> fds;
    fds.reserve(numbers->size());
    for (int32_t number : *numbers) {
        std::string link = base + "/fd/" + std::to_string(number);
        auto target = read_link(link);
        if (!target) continue;  // closed since the listing
        FileDescriptor fd;
        fd.fd = number;
        fd.target = std::move(target).value();
        // Cached attributes only: a hung network file system must not hang the dump.
        struct statx st {};
        uint32_t mode = ::statx(AT_FDCWD, link.c_str(), AT_STATX_DONT_SYNC, STATX_TYPE, &st) == 0
                            ? st.stx_mode
                            : 0;
        fd.type = fd_type(fd.target, mode);
        if (auto info = read_file_whole(base + "/fdinfo/" + std::to_string(number))) {
            parse_fdinfo(*info, fd);
        }
        fds.push_back(std::move(fd));
    }
    return fds;
}

}  // namespace dumpscope
