#include "output/early_writeback.h"

#include <fcntl.h>

namespace dumpscope {

void EarlyWriteback::wrote(uint64_t offset, uint64_t size) {
    std::lock_guard lock(mutex_);
    // Onward past a hole (a sparse dump skipping zero pages) the stretch goes on: writeback of a
    // hole costs nothing, a system call per skipped page would. Only a write behind the stretch
    // (the head of a compressed dump, written last) starts what was pending.
    if (offset < to_) {
        start(from_, to_);
        from_ = offset;
    }
    to_ = offset + size;
    if (to_ - from_ >= kStretch) {
        start(from_, to_);
        from_ = to_;
    }
}

void EarlyWriteback::start(uint64_t from, uint64_t to) {
    if (to <= from) return;
    // A hint: a failure (EINVAL on a file system without it) changes nothing, the final
    // fdatasync still writes everything and reports what fails.
    (void)::sync_file_range(fd_, static_cast<off64_t>(from), static_cast<off64_t>(to - from),
                            SYNC_FILE_RANGE_WRITE);
}

}  // namespace dumpscope
