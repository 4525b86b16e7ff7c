#include "service/file_dump_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "common/unique_fd.h"
#include "service/private_dir.h"

namespace dumpscope::service {

namespace {

constexpr int64_t kSharedLeftoverAgeSeconds = 3600;

class FileDumpUpload final : public DumpUpload {
public:
    explicit FileDumpUpload(PendingDump pending) : pending_(std::move(pending)) {}
    Status write(std::string_view bytes) override { return pending_.write(bytes); }
    uint64_t size() const override { return pending_.size(); }
    bool disk_full() const override { return pending_.disk_full(); }
    Status commit(const std::string& id) override { return pending_.commit(id); }

private:
    PendingDump pending_;
};

}  // namespace

Result<std::unique_ptr<FileDumpStore>> FileDumpStore::open(const std::string& dir, bool shared) {
    DS_TRY(make_private_dir(dir));
    auto dumps =
        DumpDirectory::open_directory(dir + "/dumps", shared ? kSharedLeftoverAgeSeconds : 0);
    if (!dumps.ok()) return dumps.error();
    return std::unique_ptr<FileDumpStore>(new FileDumpStore(std::move(*dumps)));
}

Result<std::unique_ptr<DumpUpload>> FileDumpStore::begin() {
    auto pending = dumps_.begin();
    if (!pending.ok()) return pending.error();
    return std::unique_ptr<DumpUpload>(std::make_unique<FileDumpUpload>(std::move(*pending)));
}

Result<LocalDump> FileDumpStore::fetch(std::string_view id) {
    auto path = dumps_.path_of(id);
    if (!path.ok()) return path.error();
    return LocalDump(std::move(*path), false);
}

Result<uint64_t> FileDumpStore::size_of(std::string_view id) {
    auto path = dumps_.path_of(id);
    if (!path.ok()) return path.error();
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) return errno_error("cannot stat " + *path);
    return static_cast<uint64_t>(st.st_size);
}

Status FileDumpStore::read(std::string_view id, uint64_t offset, uint64_t length,
                           const DumpSink& sink) {
    auto path = dumps_.path_of(id);
    if (!path.ok()) return path.error();
    UniqueFd file(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid()) return errno_error("cannot open " + *path);
    char buffer[1 << 16];
    while (length > 0) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(length, sizeof buffer));
        const ssize_t n = ::pread(file.get(), buffer, want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error(fmt::format("cannot read {} at offset {}", *path, offset));
        if (n == 0) return {};
        if (!sink(buffer, static_cast<size_t>(n))) return {};
        offset += static_cast<uint64_t>(n);
        length -= static_cast<uint64_t>(n);
    }
    return {};
}

}  // namespace dumpscope::service
