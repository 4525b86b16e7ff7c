#include "minidump/minidump_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "compress/dump_bytes.h"
#include "minidump/utf16.h"

namespace dumpscope::minidump {

namespace {

// A MINIDUMP_STRING longer than this is corrupt (Windows paths are at most 32767 units).
constexpr uint32_t kMaxStringBytes = 1u << 20;
// No dump is larger than the user address space (128 TiB on x86-64), twice over.
constexpr uint64_t kMaxDumpSize = uint64_t{1} << 48;

}  // namespace

Result<MinidumpFile> MinidumpFile::open(const std::string& path) {
    auto mapping = compress::map_dump_file(path);
    if (!mapping.ok()) return mapping.error();
    const uint64_t size = mapping->bytes().size();
    if (size < sizeof(Header)) {
        return Error{fmt::format("{} is too small to be a minidump ({} bytes)", path, size)};
    }
    MinidumpFile file(std::move(*mapping));
    std::memcpy(&file.header_, file.data_, sizeof(Header));
    if (file.header_.signature != kMinidumpSignature) {
        return Error{path + " is not a minidump (no MDMP signature)"};
    }
    if ((file.header_.version & 0xffff) != kMinidumpVersion) {
        return Error{fmt::format("{}: unsupported minidump version {:#x}", path,
                                 file.header_.version & 0xffff)};
    }
    if (Status parsed = file.parse_directory(); !parsed.ok()) {
        return Error{path + ": " + parsed.error().message};
    }
    return file;
}

Status MinidumpFile::parse_directory() {
    const uint64_t count = header_.number_of_streams;
    const uint64_t offset = header_.stream_directory_rva;
    if (offset > size_ || count > (size_ - offset) / sizeof(Directory)) {
        return Error{
            fmt::format("the stream directory ({} entries at offset {:#x}) runs past the "
                        "end of the file ({} bytes)",
                        count, offset, size_)};
    }
    directory_.resize(count);
    if (count > 0) std::memcpy(directory_.data(), data_ + offset, count * sizeof(Directory));
    truncation_.file_size = size_;
    truncation_.expected_size = size_;
    whole_end_ = offset + count * sizeof(Directory);
    cut_.assign(count, false);
    for (size_t i = 0; i < directory_.size(); ++i) {
        const LocationDescriptor& at = directory_[i].location;
        const uint64_t end = uint64_t{at.rva} + at.data_size;
        if (at.data_size == 0) continue;  // nothing to read, wherever it points
        if (end > size_) {
            cut_[i] = true;
        } else {
            whole_end_ = std::max(whole_end_, end);
        }
    }
    std::map<uint32_t, size_t> first_of_type;
    for (size_t i = 0; i < directory_.size(); ++i) {
        const uint32_t type = directory_[i].stream_type;
        if (type == static_cast<uint32_t>(StreamType::Unused) ||
            type == static_cast<uint32_t>(StreamType::Exception)) {
            continue;
        }
        const auto [first, inserted] = first_of_type.emplace(type, i);
        if (!inserted) {
            return Error{fmt::format(
                "the stream directory (at offset {:#x}) lists {} (type {:#x}) twice: entries {} "
                "and {}",
                offset, stream_type_name(type), type, first->second, i)};
        }
    }
    for (size_t i = 0; i < directory_.size(); ++i) {
        if (!cut_[i]) continue;
        const Directory& entry = directory_[i];
        if (entry.location.rva < whole_end_) {
            return Error{fmt::format(
                "{} (offset {:#x}, {} bytes) runs past the end of the file ({} bytes) but starts "
                "before the end of a whole stream ({:#x}): damaged, not truncated",
                stream_type_name(entry.stream_type), entry.location.rva, entry.location.data_size,
                size_, whole_end_)};
        }
        truncation_.add(std::string(stream_type_name(entry.stream_type)),
                        uint64_t{entry.location.rva} + entry.location.data_size);
    }
    return {};
}

std::string StreamEntry::describe() const {
    return fmt::format("{} (offset {:#x}, {} bytes)", stream_type_name(type), location.rva,
                       location.data_size);
}

std::optional<StreamEntry> MinidumpFile::entry(StreamType type) const {
    for (size_t i = 0; i < directory_.size(); ++i) {
        const Directory& found = directory_[i];
        if (found.stream_type == static_cast<uint32_t>(type) && !cut_[i]) {
            const std::span<const uint8_t> bytes =
                found.location.data_size == 0 ? std::span<const uint8_t>()
                                              : std::span<const uint8_t>(data_ + found.location.rva,
                                                                         found.location.data_size);
            return StreamEntry{found.stream_type, i, found.location, bytes};
        }
    }
    return std::nullopt;
}

std::optional<std::span<const uint8_t>> MinidumpFile::stream(StreamType type) const {
    if (auto found = entry(type)) return found->bytes;
    return std::nullopt;
}

Result<std::span<const uint8_t>> MinidumpFile::available(uint64_t offset, uint64_t size,
                                                         std::string_view what) const {
    if (offset <= size_ && size <= size_ - offset) return std::span(data_ + offset, size);
    if (offset > kMaxDumpSize || size > kMaxDumpSize - offset) {
        return Error{
            fmt::format("{} (offset {:#x}, {} bytes) ends past 256 TiB: no dump is that "
                        "large",
                        what, offset, size)};
    }
    if (offset < whole_end_) {
        return Error{fmt::format(
            "{} (offset {:#x}, {} bytes) runs past the end of the file ({} bytes) but starts "
            "before the end of a whole stream ({:#x}): damaged, not truncated",
            what, offset, size, size_, whole_end_)};
    }
    if (offset >= size_) return std::span<const uint8_t>();
    return std::span(data_ + offset, size_ - offset);
}

Result<std::span<const uint8_t>> MinidumpFile::slice(uint64_t offset, uint64_t size,
                                                     std::string_view what) const {
    if (offset > size_ || size > size_ - offset) {
        return Error{
            fmt::format("{} (offset {:#x}, {} bytes) runs past the end of the file ({} "
                        "bytes)",
                        what, offset, size, size_)};
    }
    return std::span<const uint8_t>(data_ + offset, size);
}

Result<std::string> MinidumpFile::string_at(uint64_t rva, std::string_view what) const {
    auto length_bytes = slice(rva, sizeof(uint32_t), what);
    if (!length_bytes.ok()) return length_bytes.error();
    uint32_t length = 0;
    std::memcpy(&length, length_bytes->data(), sizeof(length));
    if (length > kMaxStringBytes) {
        return Error{fmt::format("{} claims a length of {} bytes", what, length)};
    }
    auto text = slice(rva + sizeof(uint32_t), length, what);
    if (!text.ok()) return text.error();
    return utf16le_to_utf8(*text);
}

Result<std::span<const uint8_t>> list_entries(std::span<const uint8_t> stream, size_t entry_size,
                                              std::string_view what, uint32_t& count) {
    auto counted = read_struct<uint32_t>(stream, 0, what);
    if (!counted.ok()) return counted.error();
    count = *counted;
    const uint64_t needed = uint64_t{count} * entry_size;
    const uint64_t available = stream.size() - sizeof(uint32_t);
    if (needed > available) {
        return Error{fmt::format("{} claims {} entries of {} bytes but has room for {}", what,
                                 count, entry_size, available / entry_size)};
    }
    const size_t header = (available == needed + 4) ? 8 : 4;
    return stream.subspan(header, needed);
}

}  // namespace dumpscope::minidump
