// Reads a live (frozen) process's memory: process_vm_readv in batches of up to 8 MiB, falling
// back to pread on /proc/PID/mem (which also reads pages process_vm_readv refuses, such as
// PROT_NONE guard pages, and works where process_vm_readv is blocked: EPERM / ENOSYS).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "common/unique_fd.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

class LiveMemorySource final : public MemorySource {
public:
    enum class Method { kAuto, kProcMemOnly };

    // Opens /proc/PID/mem (needs ptrace access; the caller has the process frozen). If it
    // cannot be opened the source still works through process_vm_readv alone.
    static Result<std::shared_ptr<LiveMemorySource>> open(int32_t pid,
                                                          Method method = Method::kAuto);

    // Returns the number of bytes read from the start of the range. When a batch comes back
    // short, the rest of the range is retried page by page (process_vm_readv, then
    // /proc/PID/mem) so that one page refused by the first method does not hide the pages after
    // it; the count stops at the first page neither method can read.
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override;

    int32_t pid() const { return pid_; }

    static constexpr size_t kBatchSize = 8u << 20;

private:
    LiveMemorySource(int32_t pid, UniqueFd mem, bool vm_readv_usable);

    // Each returns bytes read from the start (0 if the first byte is unreadable), or -1 when the
    // method itself is unavailable.
    long read_vm(uint64_t addr, uint8_t* out, size_t size) const;
    long read_mem(uint64_t addr, uint8_t* out, size_t size) const;
    // One chunk that does not cross a page boundary, by whichever method works.
    size_t read_page(uint64_t addr, uint8_t* out, size_t size) const;

    int32_t pid_;
    UniqueFd mem_;
    mutable std::atomic<bool> vm_readv_usable_;
    uint64_t page_size_;
};

}  // namespace dumpscope
