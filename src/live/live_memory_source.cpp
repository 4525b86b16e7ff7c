#include "live/live_memory_source.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "live/proc_files.h"

namespace dumpscope {

namespace {

// pread takes a signed offset: addresses at or above 2^63 (only the vsyscall page, which is not
// readable through either interface anyway) are out of reach.
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(INT64_MAX);

}  // namespace

LiveMemorySource::LiveMemorySource(int32_t pid, UniqueFd mem, bool vm_readv_usable)
    : pid_(pid), mem_(std::move(mem)), vm_readv_usable_(vm_readv_usable) {
    long page = ::sysconf(_SC_PAGESIZE);
    page_size_ = page > 0 ? static_cast<uint64_t>(page) : 4096;
}

Result<std::shared_ptr<LiveMemorySource>> LiveMemorySource::open(int32_t pid, Method method) {
    std::string path = proc_dir(pid) + "/mem";
    UniqueFd mem(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!mem.valid() && (is_gone_errno(errno) || method == Method::kProcMemOnly)) {
        return errno_error("cannot open " + path);
    }
    bool use_vm = method == Method::kAuto;
    return std::shared_ptr<LiveMemorySource>(new LiveMemorySource(pid, std::move(mem), use_vm));
}

long LiveMemorySource::read_vm(uint64_t addr, uint8_t* out, size_t size) const {
    if (!vm_readv_usable_.load(std::memory_order_relaxed)) return -1;
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), size};
    for (;;) {
        ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
        if (n >= 0) return static_cast<long>(n);
        if (errno == EINTR) continue;
        if (errno == EPERM || errno == ENOSYS) {
            vm_readv_usable_.store(false, std::memory_order_relaxed);
            return -1;
        }
        return 0;  // EFAULT, ESRCH, ENOMEM ...: nothing read here
    }
}

long LiveMemorySource::read_mem(uint64_t addr, uint8_t* out, size_t size) const {
    if (!mem_.valid()) return -1;
    if (addr > kMaxOffset) return 0;
    size = static_cast<size_t>(std::min<uint64_t>(size, kMaxOffset - addr));
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(mem_.get(), out + done, size - done, static_cast<off_t>(addr + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    return static_cast<long>(done);
}

size_t LiveMemorySource::read_page(uint64_t addr, uint8_t* out, size_t size) const {
    long n = read_vm(addr, out, size);
    if (n == static_cast<long>(size)) return size;
    long m = read_mem(addr, out, size);
    return static_cast<size_t>(std::max({n, m, 0L}));
}

Result<size_t> LiveMemorySource::read(uint64_t addr, std::span<uint8_t> out) const {
    if (out.empty()) return size_t{0};
    size_t total = std::min<uint64_t>(out.size(), UINT64_MAX - addr);
    size_t done = 0;
    while (done < total) {
        size_t batch = std::min(total - done, kBatchSize);
        long n = read_vm(addr + done, out.data() + done, batch);
        if (n < 0) n = read_mem(addr + done, out.data() + done, batch);
        if (n < 0) {
            return Error{"cannot read memory of process " + std::to_string(pid_) +
                         ": neither process_vm_readv nor /proc/PID/mem is usable"};
        }
        done += static_cast<size_t>(n);
        if (static_cast<size_t>(n) == batch) continue;
        // Short batch: go on one page at a time until a page is unreadable by both methods.
        size_t batch_end = done - static_cast<size_t>(n) + batch;
        while (done < batch_end) {
            uint64_t here = addr + done;
            size_t to_page_end = page_size_ - (here % page_size_);
            size_t size = std::min(to_page_end, batch_end - done);
            size_t got = read_page(here, out.data() + done, size);
            done += got;
            if (got < size) return done;
        }
    }
    return done;
}

}  // namespace dumpscope
