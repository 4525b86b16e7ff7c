// Where the service keeps the dumps (`dumpscope server --store URL`, docs/service.md "Dump store"):
//   (default)                DATA/dumps/<id>, a local directory (file_dump_store.h)
//   file:DIR                 DIR/dumps/<id>, e.g. on storage several servers share
//   s3://BUCKET?endpoint=... objects dumps/<id> in an S3-compatible bucket (s3_dump_store.h)
// An upload is written to a local temporary file first, so a refused or broken upload leaves
// nothing in the store, and it appears under its crash id only once complete. Every name in the
// store is made from a validated crash id (crash_id.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope::service {

// An upload being received: bytes are appended, then committed under a crash id (or, if the
// object is destroyed uncommitted, discarded without a trace).
class DumpUpload {
public:
    virtual ~DumpUpload() = default;
    virtual Status write(std::string_view bytes) = 0;
    virtual uint64_t size() const = 0;
    // The last write failed because the local file system is full (ENOSPC, EDQUOT).
    virtual bool disk_full() const = 0;
    // Stores the dump as `id` (a crash id): complete, or not at all.
    virtual Status commit(const std::string& id) = 0;
    // The last commit failed in a remote store (refused, unreachable), not on the local disk.
    virtual bool store_unavailable() const { return false; }
};

// A dump as a local file, for the analysis: the stored file itself, or a temporary copy that is
// removed when this object goes.
class LocalDump {
public:
    LocalDump(std::string path, bool temporary) : path_(std::move(path)), temporary_(temporary) {}
    LocalDump(LocalDump&& other) noexcept;
    LocalDump& operator=(LocalDump&&) = delete;
    LocalDump(const LocalDump&) = delete;
    LocalDump& operator=(const LocalDump&) = delete;
    ~LocalDump();

    const std::string& path() const { return path_; }

private:
    std::string path_;
    bool temporary_ = false;
};

// Receives the bytes of a dump being read; false stops the reading.
using DumpSink = std::function<bool(const char* data, size_t size)>;

class DumpStore {
public:
    virtual ~DumpStore() = default;
    // What the store is, for messages ("/var/lib/dumpscope/dumps", "s3://bucket/dumps/").
    virtual std::string describe() const = 0;
    virtual Result<std::unique_ptr<DumpUpload>> begin() = 0;
    // The dump of `id` as a local file while the result lives.
    virtual Result<LocalDump> fetch(std::string_view id) = 0;
    // The stored size of the dump of `id`.
    virtual Result<uint64_t> size_of(std::string_view id) = 0;
    // Sends at most `length` bytes of the dump from `offset` to `sink` (fewer at its end).
    virtual Status read(std::string_view id, uint64_t offset, uint64_t length,
                        const DumpSink& sink) = 0;
    // Removes the dump of `id` (no error if there is none).
    virtual Status remove(std::string_view id) = 0;
};

// The store a --store URL names ("" is the default, DATA/dumps). Temporary files (S3 uploads
// being spooled, dumps downloaded for the analysis) go under `data_dir`.
Result<std::unique_ptr<DumpStore>> open_dump_store(const std::string& url,
                                                   const std::string& data_dir);

}  // namespace dumpscope::service
