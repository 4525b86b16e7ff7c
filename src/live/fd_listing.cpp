#include "live/fd_listing.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>

#include "live/proc_files.h"

namespace dumpscope {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

template <typename T>
void parse_number(std::string_view text, T& out, int base) {
    size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return;
    text.remove_prefix(begin);
    std::from_chars(text.data(), text.data() + text.size(), out, base);
}

}  // namespace

std::string fd_type(std::string_view target, uint32_t mode) {
    if (starts_with(target, "socket:")) return "socket";
    if (starts_with(target, "pipe:")) return "pipe";
    if (starts_with(target, "anon_inode:")) return "anon_inode";
    if (mode != 0) {
        switch (mode & S_IFMT) {
            case S_IFREG:
                return "file";
            case S_IFDIR:
                return "directory";
            case S_IFCHR:
            case S_IFBLK:
                return "device";
            case S_IFIFO:
                return "fifo";
            case S_IFSOCK:
                return "socket";
            case S_IFLNK:
                return "symlink";
            default:
                break;
        }
    }
    return starts_with(target, "/") ? "file" : "unknown";
}

void parse_fdinfo(std::string_view fdinfo, FileDescriptor& fd) {
    while (!fdinfo.empty()) {
        size_t newline = fdinfo.find('\n');
        std::string_view line = fdinfo.substr(0, newline);
        fdinfo.remove_prefix(newline == std::string_view::npos ? fdinfo.size() : newline + 1);
        if (starts_with(line, "pos:")) parse_number(line.substr(4), fd.position, 10);
        if (starts_with(line, "flags:")) parse_number(line.substr(6), fd.flags, 8);
    }
}

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
