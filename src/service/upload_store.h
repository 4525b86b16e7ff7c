// Resumable uploads in progress (upload_routes.h): DATA/uploads/<id> holds the bytes received so
// far and DATA/uploads/<id>.meta (JSON) the declared size and the annotations; both 0600 in a
// 0700 directory, named only by ids the server made (32 hex digits, checked on every request).
// The bytes received are the data file's size, so an interrupted request keeps what arrived.
// Uploads older than a day are removed when the server starts. One request at a time may write
// an upload (a second one is refused as busy).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"
#include "service/crash_store.h"

namespace dumpscope::service {

struct UploadInfo {
    std::string id;
    uint64_t size = 0;      // declared
    uint64_t received = 0;  // bytes stored so far
    Annotations annotations;
};

class UploadStore;

// The right to append to one upload, held by one request; released on destruction.
class UploadWriter {
public:
    UploadWriter(UploadStore& store, std::string id, UniqueFd fd, uint64_t offset)
        : store_(&store), id_(std::move(id)), fd_(std::move(fd)), offset_(offset) {}
    UploadWriter(UploadWriter&& other) noexcept;
    UploadWriter& operator=(UploadWriter&&) = delete;
    UploadWriter(const UploadWriter&) = delete;
    UploadWriter& operator=(const UploadWriter&) = delete;
    ~UploadWriter();

    Status write(std::string_view bytes);
    uint64_t offset() const { return offset_; }
    bool disk_full() const { return disk_full_; }

private:
    UploadStore* store_;
    std::string id_;
    UniqueFd fd_;
    uint64_t offset_ = 0;
    bool disk_full_ = false;
};

class UploadStore {
public:
    // Creates DATA/uploads (0700) and removes uploads older than a day.
    static Result<UploadStore> open(const std::string& data_dir);
    UploadStore(UploadStore&& other) noexcept : dir_(std::move(other.dir_)) {}

    Result<UploadInfo> create(uint64_t size, const Annotations& annotations);
    // nullopt for an unknown (or malformed) id.
    Result<std::optional<UploadInfo>> info(std::string_view id);
    // The writer appending at `offset`, which must be the bytes received so far. An error with
    // `conflict` set: another request is writing it, or `offset` is not where it stands.
    Result<UploadWriter> append(std::string_view id, uint64_t offset, bool& conflict);
    // The data file, opened for reading (to copy into the dump store on commit).
    Result<UniqueFd> open_data(std::string_view id);
    Status remove(std::string_view id);

private:
    friend class UploadWriter;
    explicit UploadStore(std::string dir) : dir_(std::move(dir)) {}
    void release(const std::string& id);

    std::string dir_;
    std::mutex mutex_;
    std::set<std::string> writing_;
};

}  // namespace dumpscope::service
