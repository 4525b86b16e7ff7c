#include "compress/fault_mapping.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <list>
#include <vector>

#include "compress/read_errors.h"

namespace dumpscope::compress {

namespace {

constexpr uint64_t kPage = 4096;
// The most one fault fills: frames larger than this are filled in pieces of this size.
constexpr uint64_t kMaxUnit = uint64_t{16} << 20;

uint64_t page_down(uint64_t v) { return v & ~(kPage - 1); }
uint64_t page_up(uint64_t v) { return (v + kPage - 1) & ~(kPage - 1); }

bool all_zero(const uint8_t* p, size_t n) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        if (w != 0) return false;
    }
    return true;  // n is a multiple of the page size
}

}  // namespace

struct FaultMapping::Impl {
    std::list<std::pair<uint64_t, uint64_t>> resident;  // (offset, length), newest first
    uint64_t resident_total = 0;
    std::vector<uint8_t> buffer;
};

Result<std::unique_ptr<FaultMapping>> FaultMapping::create(std::unique_ptr<SeekableZstdFile> file,
                                                           uint64_t resident_bytes) {
    const std::string path = file->path();
    std::unique_ptr<FaultMapping> m(new FaultMapping(std::move(file), resident_bytes));
    m->length_ = page_up(m->size());
    if (m->length_ == 0) return Error{path + " decompresses to 0 bytes"};
    // Kernel faults too (a reader may hand the bytes to write()): no UFFD_USER_MODE_ONLY.
    m->uffd_ = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    if (m->uffd_ < 0) return errno_error("userfaultfd is not available");
    uffdio_api api{};
    api.api = UFFD_API;
    if (::ioctl(m->uffd_, UFFDIO_API, &api) != 0) return errno_error("userfaultfd API handshake");
    void* base =
        ::mmap(nullptr, m->length_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        return errno_error(
            fmt::format("cannot reserve {} bytes of address space for {}", m->length_, path));
    }
    m->base_ = static_cast<uint8_t*>(base);
    uffdio_register reg{};
    reg.range.start = reinterpret_cast<uint64_t>(base);
    reg.range.len = m->length_;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (::ioctl(m->uffd_, UFFDIO_REGISTER, &reg) != 0)
        return errno_error("cannot register the mapping with userfaultfd");
    const uint64_t needed = (uint64_t{1} << _UFFDIO_COPY) | (uint64_t{1} << _UFFDIO_ZEROPAGE);
    if ((reg.ioctls & needed) != needed)
        return Error{"userfaultfd cannot copy or zero pages into an anonymous mapping here"};
    m->stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (m->stop_fd_ < 0) return errno_error("eventfd");
    m->handler_ = std::thread([raw = m.get()] { raw->serve(); });
    return m;
}

FaultMapping::FaultMapping(std::unique_ptr<SeekableZstdFile> file, uint64_t resident_bytes)
    : file_(std::move(file)),
      resident_bytes_(std::max(resident_bytes, kMaxUnit)),
      impl_(std::make_unique<Impl>()) {}

FaultMapping::~FaultMapping() {
    if (handler_.joinable()) {
        const uint64_t one = 1;
        while (::write(stop_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
        handler_.join();
    }
    if (uffd_ >= 0) ::close(uffd_);  // unregisters the range
    if (base_ != nullptr) ::munmap(base_, length_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
}

std::optional<std::string> FaultMapping::read_error() const {
    std::lock_guard lock(error_mutex_);
    return error_;
}

Result<size_t> FaultMapping::read_at(uint64_t offset, std::span<uint8_t> out) const {
    if (offset >= size()) return size_t{0};
    const auto n = static_cast<size_t>(std::min<uint64_t>(out.size(), size() - offset));
    Status read = file_->read(offset, out.first(n));
    if (!read.ok()) {
        note_read_error(read.error().message);
        return read.error();
    }
    return n;
}

void FaultMapping::note_read_error(const std::string& message) const {
    record_read_error(message);
    std::lock_guard lock(error_mutex_);
    if (!error_) error_ = message;
}

void FaultMapping::serve() {
    pollfd fds[2] = {{uffd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    for (;;) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) return;
        uffd_msg msgs[16];
        const ssize_t n = ::read(uffd_, msgs, sizeof msgs);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return;
        }
        for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(uffd_msg); ++i) {
            if (msgs[i].event != UFFD_EVENT_PAGEFAULT) continue;
            resolve(msgs[i].arg.pagefault.address - reinterpret_cast<uint64_t>(base_));
        }
    }
}

void FaultMapping::resolve(uint64_t fault_offset) {
    const uint64_t page = page_down(fault_offset);
    // The unit filled: the pages of the frame holding the fault (pages shared with a neighbour
    // frame included), at most kMaxUnit around the fault.
    uint64_t start = page;
    uint64_t end = page + kPage;
    bool whole_frame = false;  // the unit is exactly one frame: decompress in place
    std::optional<size_t> index = file_->table().frame_at(page);
    if (index) {
        const SeekFrame& f = file_->table().frames[*index];
        start = page_down(f.decompressed_offset);
        end = std::min(page_up(f.decompressed_offset + f.decompressed_size), length_);
        if (end - start > kMaxUnit) {
            start = std::max(start, page & ~(kMaxUnit - 1));
            end = std::min(end, start + kMaxUnit);
        }
        whole_frame = start == f.decompressed_offset &&
                      f.decompressed_offset + f.decompressed_size == std::min(end, size()) &&
                      f.decompressed_size <= kMaxUnit;
    }
    std::vector<uint8_t>& buffer = impl_->buffer;
    if (buffer.size() < end - start) buffer.resize(end - start);
    const uint64_t data_end = std::min(end, size());
    Status read =
        whole_frame ? file_->read_frame(*index, std::span<uint8_t>(buffer.data(), data_end - start))
                    : file_->read(start, std::span<uint8_t>(buffer.data(), data_end - start));
    if (!read.ok()) {
        start = page;  // fill only the faulting page, with zeros
        end = page + kPage;
        std::memset(buffer.data(), 0, kPage);
        note_read_error(read.error().message);
    } else {
        std::memset(buffer.data() + (data_end - start), 0, end - data_end);
    }

    const bool zeros = all_zero(buffer.data(), end - start);
    auto fill = [&](uint64_t from, uint64_t len) -> int {
        if (zeros) {
            uffdio_zeropage z{};
            z.range.start = reinterpret_cast<uint64_t>(base_) + from;
            z.range.len = len;
            return ::ioctl(uffd_, UFFDIO_ZEROPAGE, &z) == 0 ? 0 : errno;
        }
        uffdio_copy c{};
        c.dst = reinterpret_cast<uint64_t>(base_) + from;
        c.src = reinterpret_cast<uint64_t>(buffer.data() + (from - start));
        c.len = len;
        return ::ioctl(uffd_, UFFDIO_COPY, &c) == 0 ? 0 : errno;
    };
    if (fill(start, end - start) != 0) {
        // Some page of the unit is there already (filled with a neighbour frame): page by page,
        // leaving present pages alone.
        for (uint64_t at = start; at < end; at += kPage) {
            int err;
            do {
                err = fill(at, kPage);
            } while (err == EAGAIN);
        }
    }
    uffdio_range wake{reinterpret_cast<uint64_t>(base_) + page, kPage};
    ::ioctl(uffd_, UFFDIO_WAKE, &wake);

    impl_->resident.emplace_front(start, end - start);
    impl_->resident_total += end - start;
    while (impl_->resident_total > resident_bytes_ && impl_->resident.size() > 1) {
        auto [offset, length] = impl_->resident.back();
        impl_->resident.pop_back();
        impl_->resident_total -= length;
        ::madvise(base_ + offset, length, MADV_DONTNEED);
    }
}

}  // namespace dumpscope::compress
