#include "live/proc_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "common/unique_fd.h"

namespace dumpscope {

namespace {

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};

}  // namespace

Result<std::string> read_file_whole(const std::string& path, int* err_out) {
    int ignored = 0;
    int& err = err_out ? *err_out : ignored;
    err = 0;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        err = errno;
        return errno_error("cannot open " + path, err);
    }
    std::string data;
    size_t chunk = 4096;
    for (;;) {
        size_t used = data.size();
        data.resize(used + chunk);
        ssize_t n = ::read(fd.get(), data.data() + used, chunk);
        if (n < 0) {
            if (errno == EINTR) {
                data.resize(used);
                continue;
            }
            err = errno;
            return errno_error("cannot read " + path, err);
        }
        data.resize(used + static_cast<size_t>(n));
        if (n == 0) break;
        chunk = std::min<size_t>(chunk * 2, 1 << 20);
    }
    return data;
}

Result<std::string> read_link(const std::string& path, int* err_out) {
    int ignored = 0;
    int& err = err_out ? *err_out : ignored;
    err = 0;
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
        if (n < 0) {
            err = errno;
            return errno_error("cannot read link " + path, err);
        }
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return buf;
        }
        if (buf.size() >= (1u << 20)) {
            err = ENAMETOOLONG;
            return errno_error("cannot read link " + path, err);
        }
        buf.resize(buf.size() * 2);
    }
}

Result<std::vector<int32_t>> list_numeric_dir(const std::string& path, int* err_out) {
    int ignored = 0;
    int& err = err_out ? *err_out : ignored;
    err = 0;
    std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
    if (!dir) {
        err = errno;
        return errno_error("cannot list " + path, err);
    }
    std::vector<int32_t> ids;
    for (;;) {
        errno = 0;
        dirent* entry = ::readdir(dir.get());
        if (entry == nullptr) {
            if (errno != 0) {
                err = errno;
                return errno_error("cannot list " + path, err);
            }
            break;
        }
        uint64_t id = 0;
        if (parse_u64(entry->d_name, id) && id <= INT32_MAX) {
            ids.push_back(static_cast<int32_t>(id));
        }
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::string proc_dir(int32_t pid) { return "/proc/" + std::to_string(pid); }

std::string task_dir(int32_t pid, int32_t tid) {
    return proc_dir(pid) + "/task/" + std::to_string(tid);
}

std::string chomp(std::string text) {
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

bool parse_u64(const std::string& text, uint64_t& out, int base) {
    if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ') return false;
    errno = 0;
    char* end = nullptr;
    unsigned long long value = std::strtoull(text.c_str(), &end, base);
    if (errno != 0 || end != text.c_str() + text.size()) return false;
    out = value;
    return true;
}

}  // namespace dumpscope
