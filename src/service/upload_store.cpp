#include "service/upload_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "service/crash_id.h"
#include "service/private_dir.h"

namespace dumpscope::service {

namespace {

using nlohmann::json;

constexpr std::string_view kMetaSuffix = ".meta";
constexpr int64_t kMaxAgeSeconds = 24 * 3600;

Result<std::string> read_small_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open " + path);
    std::string text;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot read " + path);
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
        if (text.size() > (size_t{4} << 20)) return Error{path + " is larger than 4 MiB"};
    }
    return text;
}

}  // namespace

UploadWriter::UploadWriter(UploadWriter&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      id_(std::move(other.id_)),
      fd_(std::move(other.fd_)),
      offset_(other.offset_),
      disk_full_(other.disk_full_) {}

UploadWriter::~UploadWriter() {
    if (store_ != nullptr) store_->release(id_);
}

Status UploadWriter::write(std::string_view bytes) {
    DS_TRY(append_to_file(fd_.get(), bytes, "upload " + id_, offset_, disk_full_));
    offset_ += bytes.size();
    return {};
}

Result<UploadStore> UploadStore::open(const std::string& data_dir) {
    const std::string dir = data_dir + "/uploads";
    DS_TRY(make_private_dir(dir));
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) return errno_error("cannot list " + dir);
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    while (dirent* entry = ::readdir(listing)) {
        struct stat file {};
        if (entry->d_name[0] == '.' ||
            ::fstatat(::dirfd(listing), entry->d_name, &file, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (now - file.st_mtime > kMaxAgeSeconds) ::unlinkat(::dirfd(listing), entry->d_name, 0);
    }
    ::closedir(listing);
    return UploadStore(dir);
}

Result<UploadInfo> UploadStore::create(uint64_t size, const Annotations& annotations) {
    auto id = new_crash_id();
    if (!id.ok()) return id.error();
    json meta{{"size", size}, {"annotations", json::array()}};
    for (const auto& [key, value] : annotations) meta["annotations"].push_back({key, value});
    const std::string text = meta.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string data_path = dir_ + "/" + *id;
    const std::string meta_path = data_path + std::string(kMetaSuffix);
    const std::string temp_path = dir_ + "/.new-" + *id;
    {
        UniqueFd fd(::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid()) return errno_error("cannot create " + temp_path);
        bool disk_full = false;  // (a full disk fails the upload's creation all the same)
        if (Status written = append_to_file(fd.get(), text, temp_path, 0, disk_full);
            !written.ok()) {
            ::unlink(temp_path.c_str());
            return written.error();
        }
    }
    UniqueFd data(::open(data_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!data.valid() || ::rename(temp_path.c_str(), meta_path.c_str()) != 0) {
        Error error = errno_error("cannot create the upload " + data_path);
        ::unlink(temp_path.c_str());
        ::unlink(data_path.c_str());
        return error;
    }
    return UploadInfo{*id, size, 0, annotations};
}

Result<std::optional<UploadInfo>> UploadStore::info(std::string_view id) {
    if (!is_crash_id(id)) return std::optional<UploadInfo>();
    const std::string data_path = dir_ + "/" + std::string(id);
    const std::string meta_path = data_path + std::string(kMetaSuffix);
    struct stat meta_stat {};
    if (::stat(meta_path.c_str(), &meta_stat) != 0) {
        if (errno == ENOENT) return std::optional<UploadInfo>();
        return errno_error("cannot stat " + meta_path);
    }
    auto text = read_small_file(meta_path);
    if (!text.ok()) return text.error();
    const json meta = json::parse(*text, nullptr, false);
    if (!meta.is_object() || !meta.contains("size") || !meta["size"].is_number_unsigned() ||
        !meta.contains("annotations") || !meta["annotations"].is_array())
        return Error{data_path + ".meta: not an upload's description"};
    UploadInfo info{std::string(id), meta["size"].get<uint64_t>(), 0, {}};
    for (const json& pair : meta["annotations"])
        if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
            info.annotations.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    struct stat st {};
    if (::stat(data_path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<UploadInfo>();
        return errno_error("cannot stat " + data_path);
    }
    info.received = static_cast<uint64_t>(st.st_size);
    return std::optional<UploadInfo>(std::move(info));
}

Result<UploadWriter> UploadStore::append(std::string_view id, uint64_t offset, bool& conflict) {
    conflict = false;
    if (!is_crash_id(id)) return Error{fmt::format("not an upload id: '{}'", id)};
    const std::string key(id);
    {
        std::lock_guard lock(mutex_);
        if (!writing_.insert(key).second) {
            conflict = true;
            return Error{"another request is writing upload " + key};
        }
    }
    const std::string path = dir_ + "/" + key;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
        Error error = errno_error("cannot open the upload " + path);
        release(key);
        return error;
    }
    if (static_cast<uint64_t>(st.st_size) != offset) {
        release(key);
        conflict = true;
        return Error{fmt::format("upload {} has {} bytes, not {}", key, st.st_size, offset)};
    }
    return UploadWriter(*this, key, std::move(fd), offset);
}

Result<UniqueFd> UploadStore::open_data(std::string_view id) {
    if (!is_crash_id(id)) return Error{fmt::format("not an upload id: '{}'", id)};
    const std::string path = dir_ + "/" + std::string(id);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open the upload " + path);
    return fd;
}

Status UploadStore::remove(std::string_view id) {
    if (!is_crash_id(id)) return Error{fmt::format("not an upload id: '{}'", id)};
    const std::string path = dir_ + "/" + std::string(id);
    if (::unlink((path + std::string(kMetaSuffix)).c_str()) != 0 && errno != ENOENT)
        return errno_error("cannot remove " + path + ".meta");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("cannot remove " + path);
    return {};
}

void UploadStore::release(const std::string& id) {
    std::lock_guard lock(mutex_);
    writing_.erase(id);
}

}  // namespace dumpscope::service
