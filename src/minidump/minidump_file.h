// A minidump file mapped read-only (common/mapped_file.h), with its header and directory
// checked: every read goes through bounds-checked helpers that turn a bad offset, size or count
// into an Error. The stream decoders (minidump_decoders.h) read through it.
// A file cut short (a dump written to a full disk, a copy interrupted) is read: a stream that
// runs past the end is absent (its name goes into truncation()), memory bytes past the end are
// absent (available()). What is cut must lie after everything that is whole: a stream or range
// that runs past the end but starts before the end of a whole stream is damage, an Error.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/mapped_file.h"
#include "common/result.h"
#include "minidump/minidump_format.h"
#include "snapshot/truncation.h"

namespace dumpscope::minidump {

// One entry of the stream directory and its bytes (inside the file).
struct StreamEntry {
    uint32_t type = 0;
    size_t index = 0;  // in the directory
    LocationDescriptor location{};
    std::span<const uint8_t> bytes;

    // "ThreadListStream (offset 0x2c0, 148 bytes)": how error messages name the stream.
    std::string describe() const;
};

class MinidumpFile {
public:
    // Maps the file and checks the header, that every directory entry lies inside the file and
    // that no stream type is listed twice (as LLVM's Object/Minidump checks): an Error names the
    // type and both directory indexes. Exception may repeat, as current LLVM allows (lldb writes
    // one per signalled thread; dumpscope reads the first). Entries of type 0 (UnusedStream)
    // never count: Breakpad leaves all-zero slots (LLVM skips those, type 0 of size 0), and no
    // reader reads type 0 whatever its size.
    static Result<MinidumpFile> open(const std::string& path);

    MinidumpFile(MinidumpFile&& other) noexcept = default;
    MinidumpFile& operator=(MinidumpFile&&) = delete;
    MinidumpFile(const MinidumpFile&) = delete;

    uint64_t size() const { return size_; }
    uint64_t disk_usage() const { return mapping_.disk_usage(); }
    const MappedFile& mapping() const { return mapping_; }
    const Header& header() const { return header_; }
    const std::vector<Directory>& directory() const { return directory_; }

    // The stream of this type (the first one for Exception), if the file has one whole.
    std::optional<StreamEntry> entry(StreamType type) const;
    // Its bytes.
    std::optional<std::span<const uint8_t>> stream(StreamType type) const;

    // The streams that run past the end of the file (a truncated file), empty if none.
    const Truncation& truncation() const { return truncation_; }

    // The part of [offset, offset + size) that is in the file: all of it, or for bytes cut by a
    // truncated file the part before the end (maybe none). An Error if the range starts before
    // the end of a whole stream yet runs past the end of the file (damage, not truncation).
    Result<std::span<const uint8_t>> available(uint64_t offset, uint64_t size,
                                               std::string_view what) const;

    // [offset, offset + size) of the file, or an Error naming `what` if it is not all inside.
    Result<std::span<const uint8_t>> slice(uint64_t offset, uint64_t size,
                                           std::string_view what) const;
    Result<std::span<const uint8_t>> slice(const LocationDescriptor& location,
                                           std::string_view what) const {
        return slice(location.rva, location.data_size, what);
    }

    // A MINIDUMP_STRING at rva, as UTF-8.
    Result<std::string> string_at(uint64_t rva, std::string_view what) const;

private:
    explicit MinidumpFile(MappedFile mapping)
        : mapping_(std::move(mapping)),
          data_(mapping_.bytes().data()),
          size_(mapping_.bytes().size()) {}
    Status parse_directory();

    MappedFile mapping_;
    const uint8_t* data_ = nullptr;  // mapping_'s bytes
    uint64_t size_ = 0;
    Header header_{};
    std::vector<Directory> directory_;
    std::vector<bool> cut_;   // per directory entry: runs past the end of the file
    uint64_t whole_end_ = 0;  // the end of the last stream that is whole
    Truncation truncation_;
};

// A plain struct of type T at `offset` of `bytes`, or an Error if it does not fit.
template <typename T>
Result<T> read_struct(std::span<const uint8_t> bytes, uint64_t offset, std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (offset > bytes.size() || sizeof(T) > bytes.size() - offset) {
        return Error{std::string(what) + " is truncated"};
    }
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

// The entries of a list stream with a u32 count: `count` entries of `entry_size` bytes after the
// count (or after 4 more bytes of padding, which some writers insert to align 8-byte fields).
Result<std::span<const uint8_t>> list_entries(std::span<const uint8_t> stream, size_t entry_size,
                                              std::string_view what, uint32_t& count);

}  // namespace dumpscope::minidump
