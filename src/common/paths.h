// Pieces of file paths as the process reports them (maps, link_map, /proc/PID/exe).
#pragma once

#include <string>
#include <string_view>

namespace dumpscope {

// The last component of a path: "/usr/lib/libc.so.6" -> "libc.so.6"; a path without a slash is
// its own base name; "/dir/" -> "".
inline std::string base_name(std::string_view path) {
    const size_t slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The directory part of a path: "/a/b" -> "/a", "/b" -> "/", "b" -> ".".
inline std::string directory_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// The path a file had: /proc/PID/maps shows a deleted file as "PATH (deleted)".
inline std::string path_before_deletion(std::string_view path) {
    static constexpr std::string_view kDeleted = " (deleted)";
    if (path.size() > kDeleted.size() && path.ends_with(kDeleted))
        path.remove_suffix(kDeleted.size());
    return std::string(path);
}

}  // namespace dumpscope
