// Starts the kernel writing a dump's pages to disk while the dump is still being written
// (sync_file_range SYNC_FILE_RANGE_WRITE on each stretch of kStretch bytes written onward, holes
// included), so that the fdatasync that completes the file waits only for the last stretch
// instead of the whole file: the disk works while the capture and the compression go on. It does
// not wait for anything and changes no byte; on a file system without writeback (tmpfs) it costs a
// system call per stretch. Thread-safe (the compressor writes from its own thread).
#pragma once

#include <cstdint>
#include <mutex>

namespace dumpscope {

class EarlyWriteback {
public:
    static constexpr uint64_t kStretch = uint64_t{8} << 20;

    explicit EarlyWriteback(int fd) : fd_(fd) {}

    // [offset, offset + size) was written.
    void wrote(uint64_t offset, uint64_t size);

private:
    void start(uint64_t from, uint64_t to);  // with mutex_ held

    int fd_;
    std::mutex mutex_;
    uint64_t from_ = 0, to_ = 0;  // written in order, writeback not started yet
};

}  // namespace dumpscope
