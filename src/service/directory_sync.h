// One directory's fsync shared by every thread that renamed a file into it (group_commit.h): a
// caller returns once an fsync that began after its call has finished, so its own entry is
// durable; callers that arrive while one runs are all covered by the next. Under 50 uploaders each
// upload synced the directory itself: one more write to wait for per upload.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "service/group_commit.h"

namespace dumpscope::service {

class DirectorySync {
public:
    static Result<std::shared_ptr<DirectorySync>> open(const std::string& dir);
    DirectorySync(const DirectorySync&) = delete;
    DirectorySync& operator=(const DirectorySync&) = delete;

    // Makes every entry changed before this call durable: the error of the fsync that covered
    // it, if that one failed.
    Status sync();
    // fsyncs run so far (for tests: fewer than the calls when they overlap).
    uint64_t syncs_run() const { return group_.flushes(); }

private:
    struct Caller {};
    DirectorySync(UniqueFd fd, std::string dir) : fd_(std::move(fd)), dir_(std::move(dir)) {}

    UniqueFd fd_;
    const std::string dir_;
    GroupCommit<Caller> group_;
};

}  // namespace dumpscope::service
