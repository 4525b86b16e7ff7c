#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dumpscope {

Result<MappedFile> MappedFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("cannot open " + path);
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return errno_error("cannot stat " + path, err);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error{path + " is not a regular file"};
    }
    if (st.st_size == 0) {
        ::close(fd);
        return Error{path + " is empty"};
    }
    void* data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (data == MAP_FAILED) return errno_error("cannot map " + path, err);
    return MappedFile(static_cast<const uint8_t*>(data), static_cast<uint64_t>(st.st_size),
                      static_cast<uint64_t>(st.st_blocks) * 512);
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
      backing_(std::move(other.backing_)) {
    other.data_ = nullptr;
    other.size_ = 0;
}

MappedFile::~MappedFile() {
    if (backing_) return;  // its destructor unmaps
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace dumpscope
