#include "procfs/fdinfo.h"

#include <sys/stat.h>

#include <charconv>

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

}  // namespace dumpscope
