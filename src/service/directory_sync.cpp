#include "service/directory_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <utility>
#include <vector>

namespace dumpscope::service {

Result<std::shared_ptr<DirectorySync>> DirectorySync::open(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open the directory " + dir);
    return std::shared_ptr<DirectorySync>(new DirectorySync(std::move(fd), dir));
}

Status DirectorySync::sync() {
    return group_.submit(Caller{}, [this](std::vector<GroupCommit<Caller>::Entry*>& batch) {
        Status result;
        if (::fsync(fd_.get()) != 0) result = errno_error("cannot sync the directory " + dir_);
        for (auto* entry : batch) entry->result = result;
    });
}

}  // namespace dumpscope::service
