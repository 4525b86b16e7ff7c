#include "output/dump_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "common/paths.h"
#include "compress/seekable_writer.h"

namespace dumpscope {

namespace {

constexpr const char* kTempPrefix = ".dumpscope-tmp.";
constexpr size_t kPage = 4096;

bool all_zero(const uint8_t* p, size_t n) {
    // Word-at-a-time scan; pages are 4 KiB aligned in size so this is cheap.
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        if (w != 0) return false;
    }
    for (; i < n; ++i)
        if (p[i] != 0) return false;
    return true;
}

Status pwrite_all(int fd, uint64_t offset, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("cannot write the dump");
        }
        data += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return {};
}

// What a directory entry is, for errors: "a FIFO", "a symbolic link".
std::string kind_of(mode_t mode) {
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

Error not_regular_error(const std::string& path, mode_t mode) {
    return Error{path + " is " + kind_of(mode) +
                 "; a dump replaces only regular files, even with --overwrite (remove it or "
                 "choose another name)"};
}

// Moves temp to final_path without ever replacing anything but a regular file, and without
// following a symbolic link in the last component. The entry is checked, then exchanged
// atomically with the temporary; if what was swapped out is not a regular file (it changed
// after the check), it is swapped back; if even that fails, temp_holds_original is set and the
// error says where it is.
Status replace_regular_file(const std::string& temp, const std::string& final_path,
                            bool& temp_holds_original) {
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) != 0) {
        if (errno != ENOENT) return errno_error("cannot look at " + final_path);
        if (::link(temp.c_str(), final_path.c_str()) != 0) {
            if (errno == EEXIST)  // created meanwhile: look again
                return replace_regular_file(temp, final_path, temp_holds_original);
            return errno_error("cannot move the dump to " + final_path);
        }
        ::unlink(temp.c_str());
        return {};
    }
    if (!S_ISREG(st.st_mode)) return not_regular_error(final_path, st.st_mode);
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) != 0) {
        if (errno == ENOENT)  // removed meanwhile
            return replace_regular_file(temp, final_path, temp_holds_original);
        if (errno != EINVAL && errno != ENOSYS)
            return errno_error("cannot rename the dump to " + final_path);
        // The file system cannot exchange: rename right after the check.
        if (::rename(temp.c_str(), final_path.c_str()) != 0)
            return errno_error("cannot rename the dump to " + final_path);
        return {};
    }
    struct stat old {};
    if (::lstat(temp.c_str(), &old) == 0 && !S_ISREG(old.st_mode)) {
        if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) !=
            0) {
            temp_holds_original = true;
            return Error{final_path + " became " + kind_of(old.st_mode) +
                         " during the dump and could not be put back; it is now at " + temp};
        }
        return not_regular_error(final_path, old.st_mode);
    }
    ::unlink(temp.c_str());  // the replaced file
    return {};
}

// A temporary belongs to a live writer if its pid exists and is a dumpscope (pids are reused).
bool writer_is_alive(pid_t pid) {
    if (::kill(pid, 0) != 0 && errno != EPERM) return false;
    FILE* f = std::fopen(fmt::format("/proc/{}/comm", pid).c_str(), "r");
    if (f == nullptr) return true;  // cannot tell: keep the file
    char comm[32] = {};
    const bool got = std::fgets(comm, sizeof comm, f) != nullptr;
    std::fclose(f);
    return !got || std::string(comm).rfind("dumpscope", 0) == 0;
}

}  // namespace

Result<DumpFile> DumpFile::create(const std::string& final_path, bool overwrite,
                                  std::optional<int> zstd_level) {
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) return not_regular_error(final_path, st.st_mode);
        if (!overwrite)
            return Error{final_path + " already exists (use --overwrite to replace it)"};
    }
    const std::string dir = directory_of(final_path);
    clean_stale_temporaries(dir);
    std::random_device rd;
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::string temp = fmt::format("{}/{}{}.{:08x}.{}", dir, kTempPrefix, ::getpid(), rd(),
                                       base_name(final_path));
        int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::fchmod(fd, 0600);  // whatever the umask: dumps hold secrets
            DumpFile file(fd, final_path, std::move(temp), overwrite);
            file.zstd_level_ = zstd_level;
            return file;
        }
        if (errno != EEXIST) return errno_error("cannot create a file in " + dir);
    }
    return Error{"cannot create a temporary file in " + dir};
}

DumpFile::DumpFile(int fd, std::string final_path, std::string temp_path, bool overwrite)
    : fd_(fd),
      final_path_(std::move(final_path)),
      temp_path_(std::move(temp_path)),
      overwrite_(overwrite),
      writeback_(std::make_unique<EarlyWriteback>(fd)) {}

DumpFile::DumpFile(DumpFile&& other) noexcept
    : fd_(other.fd_),
      final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      overwrite_(other.overwrite_),
      committed_(other.committed_),
      completed_(other.completed_),
      adopted_(other.adopted_),
      zstd_level_(other.zstd_level_),
      zstd_(std::move(other.zstd_)),
      writeback_(std::move(other.writeback_)),
      never_block_(other.never_block_),
      compression_summary_(std::move(other.compression_summary_)) {
    other.fd_ = -1;
    other.committed_ = true;
}

DumpFile::~DumpFile() { discard(); }

Status DumpFile::start_compressor(uint64_t head) {
    compress::SeekableWriterOptions options;
    options.level = *zstd_level_;
    options.deferred_head = head;
    options.spill_dir = directory_of(final_path_);
    const int fd = fd_;  // stays the same when the DumpFile moves, and so does *writeback_
    auto writer = compress::SeekableZstdWriter::create(
        [fd, writeback = writeback_.get()](uint64_t offset,
                                           std::span<const uint8_t> bytes) -> Status {
            DS_TRY(pwrite_all(fd, offset, bytes.data(), bytes.size()));
            writeback->wrote(offset, bytes.size());
            return Status{};
        },
        options, final_path_);
    if (!writer.ok()) return writer.error();
    zstd_ = std::move(*writer);
    zstd_->set_never_block(never_block_);
    return {};
}

void DumpFile::set_never_block(bool on) {
    never_block_ = on;
    if (zstd_) zstd_->set_never_block(on);
}

Status DumpFile::declare_head(uint64_t size) {
    if (fd_ < 0 || completed_) return Error{"dump file is closed"};
    if (!zstd_level_) return {};
    if (zstd_)
        return Error{final_path_ +
                     ": the head of a compressed dump is declared twice "
                     "or after a write"};
    return start_compressor(size);
}

void DumpFile::discard() {
    zstd_.reset();  // stops its threads before the file goes
    if (fd_ >= 0) {
        if (adopted_ && !committed_) (void)!::ftruncate(fd_, 0);
        ::close(fd_);
        fd_ = -1;
    }
    if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
    committed_ = true;
}

Status DumpFile::write_at(uint64_t offset, std::span<const uint8_t> bytes) {
    if (fd_ < 0 || completed_) return Error{"dump file is closed"};
    if (zstd_level_) {
        if (!zstd_) DS_TRY(start_compressor(0));
        return zstd_->write_at(offset, bytes);
    }
    DS_TRY(pwrite_all(fd_, offset, bytes.data(), bytes.size()));
    writeback_->wrote(offset, bytes.size());
    return {};
}

Status DumpFile::write_sparse_at(uint64_t offset, std::span<const uint8_t> bytes) {
    if (fd_ < 0 || completed_) return Error{"dump file is closed"};
    if (zstd_level_) return write_at(offset, bytes);  // zeros compress to almost nothing
    size_t pos = 0;
    // Only pages aligned in the file can become holes; write the unaligned head as is.
    const size_t head = std::min(bytes.size(), (kPage - offset % kPage) % kPage);
    if (head > 0) DS_TRY(pwrite_all(fd_, offset, bytes.data(), head));
    pos = head;
    while (pos < bytes.size()) {
        // Gather a run of non-zero pages and write it in one call.
        size_t run_start = pos;
        while (pos < bytes.size()) {
            const size_t n = std::min(kPage, bytes.size() - pos);
            if (n == kPage && all_zero(bytes.data() + pos, n)) break;
            pos += n;
        }
        if (pos > run_start) {
            DS_TRY(pwrite_all(fd_, offset + run_start, bytes.data() + run_start, pos - run_start));
            writeback_->wrote(offset + run_start, pos - run_start);
        }
        while (pos < bytes.size() && bytes.size() - pos >= kPage &&
               all_zero(bytes.data() + pos, kPage)) {
            pos += kPage;  // a hole: never written
        }
    }
    return {};
}

Status DumpFile::complete(uint64_t final_size) {
    if (fd_ < 0 || committed_ || completed_) return Error{"dump file is already closed"};
    if (zstd_level_) {
        if (!zstd_) DS_TRY(start_compressor(0));
        auto physical = zstd_->finish(final_size);
        if (!physical.ok()) return physical.error();
        final_size = *physical;
        const compress::SeekableWriterStats& stats = zstd_->stats();
        compression_summary_ = fmt::format(
            "{} zstd frames, {} of them through a spill file while the target was paused "
            "({} bytes; {} frames of them in memory); the backlog took {:.1f} ms after",
            stats.frames, stats.spilled_frames, stats.spilled_bytes, stats.memory_spilled_frames,
            stats.backlog_ms);
        if (!stats.spill_error.empty()) compression_summary_ += "; " + stats.spill_error;
    }
    const std::string& name = adopted_ ? final_path_ : temp_path_;
    if (::ftruncate(fd_, static_cast<off_t>(final_size)) != 0)
        return errno_error("cannot set the size of " + name);
    if (::fdatasync(fd_) != 0) return errno_error("cannot flush " + name);
    completed_ = true;
    return {};
}

Status DumpFile::commit(uint64_t final_size) {
    if (fd_ < 0 || committed_) return Error{"dump file is already closed"};
    if (!completed_) DS_TRY(complete(final_size));
    if (adopted_) {
        ::close(fd_);  // our duplicate; the caller's descriptor stays open
        fd_ = -1;
        committed_ = true;
        return {};
    }
    if (::close(fd_) != 0) {
        fd_ = -1;
        return errno_error("cannot close " + temp_path_);
    }
    fd_ = -1;
    if (overwrite_) {
        bool temp_holds_original = false;
        Status replaced = replace_regular_file(temp_path_, final_path_, temp_holds_original);
        if (temp_holds_original) committed_ = true;  // never remove what was swapped out
        if (!replaced.ok()) return replaced;
    } else {
        // link() fails if the name appeared meanwhile: never replace a file we were not told to.
        if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
            if (errno == EEXIST)
                return Error{final_path_ + " already exists (use --overwrite to replace it)"};
            return errno_error("cannot move the dump to " + final_path_);
        }
        ::unlink(temp_path_.c_str());
    }
    committed_ = true;
    return {};
}

Result<DumpFile> DumpFile::adopt_descriptor(int fd, std::string name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno_error("cannot use " + name);
    if (!S_ISREG(st.st_mode)) return not_regular_error(name, st.st_mode);
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY)
        return Error{name + " is not open for writing"};
    if ((flags & O_APPEND) != 0)
        return Error{name + " is open with O_APPEND: a dump is written at offsets, from 0"};
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (own < 0) return errno_error("cannot duplicate " + name);
    if (::ftruncate(own, 0) != 0) {
        Error error = errno_error("cannot truncate " + name);
        ::close(own);
        return error;
    }
    DumpFile file(own, std::move(name), std::string(), true);
    file.adopted_ = true;
    return file;
}

void clean_stale_temporaries(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return;
    const std::string prefix = kTempPrefix;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.rfind(prefix, 0) != 0) continue;
        const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
        if (pid <= 0) continue;
        if (pid == ::getpid()) continue;
        if (writer_is_alive(static_cast<pid_t>(pid))) continue;
        ::unlink(fmt::format("{}/{}", dir, name).c_str());
    }
    ::closedir(d);
}

}  // namespace dumpscope
