#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dumpscope {

Result<MappedFile> MappedFile::open(const std::string& path, Descriptor descriptor) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open " + path);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return errno_error("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_size == 0) return Error{path + " is empty"};
    void* data =
        mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (data == MAP_FAILED) return errno_error("cannot map " + path);
    MappedFile file(static_cast<const uint8_t*>(data), static_cast<uint64_t>(st.st_size),
                    static_cast<uint64_t>(st.st_blocks) * 512);
    if (descriptor == Descriptor::kKeep) file.fd_ = std::move(fd);
    return file;
}

Result<size_t> MappedFile::Backing::read_at(uint64_t /*offset*/, std::span<uint8_t> /*out*/) const {
    return Error{"this mapping's bytes cannot be read but through it"};
}

Result<size_t> MappedFile::read_at(uint64_t offset, std::span<uint8_t> out) const {
    if (!fd_.valid() && backing_) return backing_->read_at(offset, out);
    if (!fd_.valid()) return Error{"the mapped file was not kept open"};
    if (offset >= size_) return size_t{0};
    const size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), size_ - offset));
    size_t done = 0;
    while (done < want) {
        const ssize_t n =
            ::pread(fd_.get(), out.data() + done, want - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("pread of the mapped file");
        if (n == 0) break;  // the file shrank: what it no longer has is not made up
        done += static_cast<size_t>(n);
    }
    return done;
}

MappedFile MappedFile::adopt(const uint8_t* data, uint64_t size, uint64_t disk_usage,
                             std::unique_ptr<Backing> backing) {
    MappedFile file(data, size, disk_usage);
    file.backing_ = std::move(backing);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_),
      size_(other.size_),
      disk_usage_(other.disk_usage_),
      backing_(std::move(other.backing_)),
      fd_(std::move(other.fd_)) {
    other.data_ = nullptr;
    other.size_ = 0;
}

MappedFile::~MappedFile() {
    if (backing_) return;  // its destructor unmaps
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace dumpscope
