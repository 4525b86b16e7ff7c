// A whole regular file mapped read-only, unmapped on destruction: the dump readers' view of a
// dump, so opening a multi-gigabyte file costs a few page-table entries. An empty file is an
// Error ("PATH is empty"): nothing can be read from it.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"

namespace dumpscope {

class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&&) = delete;
    MappedFile(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint64_t disk_usage() const { return disk_usage_; }  // allocated blocks * 512

private:
    MappedFile(const uint8_t* data, uint64_t size, uint64_t disk_usage)
        : data_(data), size_(size), disk_usage_(disk_usage) {}

    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
    uint64_t disk_usage_ = 0;
};

}  // namespace dumpscope
