// The dumps under --data: DIR/dumps/<id>, mode 0600, in a 0700 directory. An upload is written to
// a temporary file in the same directory (DIR/dumps/.upload-<random>) and renamed to its id only
// once complete and synced, so a dump file is never half-written; temporary files a killed
// server left behind are removed at start-up. Paths are made from validated ids only.
// (file_dump_store.h puts the DumpStore interface over it; s3_dump_store.h spools uploads in one.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"
#include "service/directory_sync.h"

namespace dumpscope::service {

class PendingDump {
public:
    PendingDump(UniqueFd fd, std::string temp_path, std::string dir,
                std::shared_ptr<DirectorySync> dir_sync)
        : fd_(std::move(fd)),
          temp_path_(std::move(temp_path)),
          dir_(std::move(dir)),
          dir_sync_(std::move(dir_sync)) {}
    PendingDump(PendingDump&& other) noexcept;
    PendingDump& operator=(PendingDump&&) = delete;
    PendingDump(const PendingDump&) = delete;
    PendingDump& operator=(const PendingDump&) = delete;
    ~PendingDump();  // removes the temporary file unless committed

    // Buffered: the file is written in whole buffers (flush() and commit() write the rest).
    // Uploads arrive in pieces of a few KiB; written one by one, each unaligned write into a
    // new block made ext4 zero the rest of it (a fifth of the server's CPU under 50 uploaders).
    Status write(std::string_view bytes);
    // Writes what write() buffered.
    Status flush();
    uint64_t size() const { return size_; }
    const std::string& temp_path() const { return temp_path_; }
    // The last write failed because the file system is full (ENOSPC, EDQUOT).
    bool disk_full() const { return disk_full_; }
    // Syncs the file and renames it to DIR/dumps/<id> (`id` must be a crash id).
    Status commit(const std::string& id);
    // Flushes and closes the temporary file and hands it over: the caller removes it.
    Result<std::string> release_temporary();

private:
    UniqueFd fd_;
    std::string temp_path_;
    std::string dir_;
    std::shared_ptr<DirectorySync> dir_sync_;
    std::string buffer_;  // written at size_ - buffer_.size()
    uint64_t size_ = 0;
    bool committed_ = false;
    bool disk_full_ = false;
};

class DumpDirectory {
public:
    // Creates DATA/dumps (0700) if needed and removes leftover temporary files.
    static Result<DumpDirectory> open(const std::string& data_dir);
    // `dir` itself (created 0700 if missing; its parent must exist). Leftover temporary files
    // (names starting with '.') are removed: all of them, or with `min_leftover_age_s`, only
    // those not modified for that long (a directory other servers share: theirs are live).
    static Result<DumpDirectory> open_directory(const std::string& dir,
                                                int64_t min_leftover_age_s = 0);

    const std::string& dir() const { return dir_; }
    // DIR/dumps/<id>; an error for anything that is not a crash id.
    Result<std::string> path_of(std::string_view id) const;
    Result<PendingDump> begin() const;
    // Removes the dump of `id` (no error if it does not exist).
    Status remove(std::string_view id) const;

private:
    DumpDirectory(std::string dir, std::shared_ptr<DirectorySync> sync)
        : dir_(std::move(dir)), sync_(std::move(sync)) {}
    std::string dir_;
    std::shared_ptr<DirectorySync> sync_;  // shared by every upload committed into dir_
};

}  // namespace dumpscope::service
