#include "service/dump_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include "service/crash_id.h"
#include "service/private_dir.h"

namespace dumpscope::service {

namespace {

constexpr std::string_view kTempPrefix = ".upload-";
constexpr size_t kWriteBufferBytes = 256 << 10;

}  // namespace

PendingDump::PendingDump(PendingDump&& other) noexcept
    : fd_(std::move(other.fd_)),
      temp_path_(std::move(other.temp_path_)),
      dir_(std::move(other.dir_)),
      dir_sync_(std::move(other.dir_sync_)),
      buffer_(std::move(other.buffer_)),
      size_(other.size_),
      committed_(std::exchange(other.committed_, true)),
      disk_full_(other.disk_full_) {}

PendingDump::~PendingDump() {
    if (!committed_) ::unlink(temp_path_.c_str());
}

Status PendingDump::write(std::string_view bytes) {
    if (buffer_.capacity() < kWriteBufferBytes) buffer_.reserve(kWriteBufferBytes);
    while (!bytes.empty()) {
        const size_t taken = std::min(bytes.size(), kWriteBufferBytes - buffer_.size());
        buffer_.append(bytes.substr(0, taken));
        bytes.remove_prefix(taken);
        size_ += taken;
        if (buffer_.size() == kWriteBufferBytes) DS_TRY(flush());
    }
    return {};
}

Status PendingDump::flush() {
    if (buffer_.empty()) return {};
    DS_TRY(append_to_file(fd_.get(), buffer_, temp_path_, size_ - buffer_.size(), disk_full_));
    buffer_.clear();
    return {};
}

Status PendingDump::commit(const std::string& id) {
    if (!is_crash_id(id)) return Error{"not a crash id: " + id};
    DS_TRY(flush());
    if (::fsync(fd_.get()) != 0) {
        // Delayed allocation: a full disk may show only now.
        disk_full_ = errno == ENOSPC || errno == EDQUOT;
        return errno_error("cannot sync " + temp_path_);
    }
    fd_.reset();
    const std::string final_path = dir_ + "/" + id;
    if (::rename(temp_path_.c_str(), final_path.c_str()) != 0)
        return errno_error(fmt::format("cannot rename {} to {}", temp_path_, final_path));
    committed_ = true;
    return dir_sync_->sync();
}

Result<std::string> PendingDump::release_temporary() {
    DS_TRY(flush());
    fd_.reset();
    committed_ = true;
    return temp_path_;
}

Result<DumpDirectory> DumpDirectory::open(const std::string& data_dir) {
    DS_TRY(make_private_dir(data_dir));
    return open_directory(data_dir + "/dumps");
}

Result<DumpDirectory> DumpDirectory::open_directory(const std::string& dir,
                                                    int64_t min_leftover_age_s) {
    DS_TRY(make_private_dir(dir));
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) return errno_error("cannot list " + dir);
    const time_t now = ::time(nullptr);
    while (dirent* entry = ::readdir(listing)) {
        const std::string_view name(entry->d_name);
        if (name.empty() || name[0] != '.' || name == "." || name == "..") continue;
        struct stat st {};
        if (::fstatat(::dirfd(listing), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (min_leftover_age_s > 0 && now - st.st_mtime < min_leftover_age_s) continue;
        ::unlinkat(::dirfd(listing), entry->d_name, 0);
    }
    ::closedir(listing);
    auto sync = DirectorySync::open(dir);
    if (!sync.ok()) return sync.error();
    return DumpDirectory(dir, std::move(*sync));
}

Result<std::string> DumpDirectory::path_of(std::string_view id) const {
    if (!is_crash_id(id)) return Error{fmt::format("not a crash id: '{}'", id)};
    return dir_ + "/" + std::string(id);
}

Result<PendingDump> DumpDirectory::begin() const {
    auto suffix = new_crash_id();
    if (!suffix.ok()) return suffix.error();
    std::string temp = dir_ + "/" + std::string(kTempPrefix) + *suffix;
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) return errno_error("cannot create " + temp);
    return PendingDump(std::move(fd), std::move(temp), dir_, sync_);
}

Status DumpDirectory::remove(std::string_view id) const {
    auto path = path_of(id);
    if (!path.ok()) return path.error();
    if (::unlink(path->c_str()) != 0 && errno != ENOENT)
        return errno_error("cannot remove " + *path);
    return {};
}

}  // namespace dumpscope::service
