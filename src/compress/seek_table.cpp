#include "compress/seek_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace dumpscope::compress {

namespace {

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;  // the format is little-endian, like every machine dumpscope supports
}

// Writes v at out[at] and moves `at` past it. (The buffer is sized up front: g++ 12 -O3 warns,
// falsely, -Wstringop-overflow on a vector grown four bytes at a time with insert.)
void store_u32(std::vector<uint8_t>& out, size_t& at, uint32_t v) {
    std::memcpy(out.data() + at, &v, sizeof v);
    at += sizeof v;
}

}  // namespace

std::optional<size_t> SeekTable::frame_at(uint64_t offset) const {
    if (offset >= decompressed_size) return std::nullopt;
    // The first frame that ends after offset; frames of size 0 end where they start.
    auto it = std::upper_bound(frames.begin(), frames.end(), offset,
                               [](uint64_t off, const SeekFrame& f) {
                                   return off < f.decompressed_offset + f.decompressed_size;
                               });
    if (it == frames.end()) return std::nullopt;
    return static_cast<size_t>(it - frames.begin());
}

Result<uint64_t> seek_table_size(std::span<const uint8_t> footer, uint64_t file_size,
                                 const std::string& name) {
    if (footer.size() < kSeekTableFooterSize || file_size < kSeekTableFooterSize) {
        return Error{
            fmt::format("{}: no zstd seek table: the file has {} bytes, a seek table "
                        "footer takes {}",
                        name, file_size, kSeekTableFooterSize)};
    }
    const uint8_t* f = footer.data() + footer.size() - kSeekTableFooterSize;
    const uint64_t footer_offset = file_size - kSeekTableFooterSize;
    if (load_u32(f + 5) != kSeekableFooterMagic) {
        return Error{
            fmt::format("{}: no zstd seek table (no seekable magic 0x8F92EAB1 at offset "
                        "{:#x})",
                        name, footer_offset + 5)};
    }
    const uint32_t count = load_u32(f);
    const uint8_t descriptor = f[4];
    if ((descriptor & kReservedBits) != 0) {
        return Error{
            fmt::format("{}: zstd seek table descriptor {:#04x} at offset {:#x} has "
                        "reserved bits set",
                        name, descriptor, footer_offset + 4)};
    }
    const uint64_t entry_size = (descriptor & kChecksumFlag) ? 12 : 8;
    const uint64_t size = kSkippableHeaderSize + count * entry_size + kSeekTableFooterSize;
    if (size > file_size) {
        return Error{
            fmt::format("{}: zstd seek table at offset {:#x} claims {} frames ({} "
                        "bytes), more than the file's {} bytes",
                        name, footer_offset, count, size, file_size)};
    }
    return size;
}

Result<SeekTable> parse_seek_table(std::span<const uint8_t> tail, uint64_t file_size,
                                   const std::string& name) {
    if (tail.size() > file_size) {
        return Error{fmt::format("{}: {} tail bytes given for a file of {} bytes", name,
                                 tail.size(), file_size)};
    }
    auto size = seek_table_size(tail, file_size, name);
    if (!size.ok()) return size.error();
    if (tail.size() < *size) {
        return Error{fmt::format("{}: the zstd seek table takes {} bytes, only {} were read", name,
                                 *size, tail.size())};
    }
    const uint64_t table_offset = file_size - *size;
    const uint8_t* t = tail.data() + tail.size() - *size;
    if (load_u32(t) != kSeekTableMagic) {
        return Error{
            fmt::format("{}: the zstd seek table at offset {:#x} ({} bytes) does not "
                        "start with the skippable magic 0x184D2A5E",
                        name, table_offset, *size)};
    }
    if (load_u32(t + 4) != *size - kSkippableHeaderSize) {
        return Error{
            fmt::format("{}: the zstd seek table frame at offset {:#x} says {} bytes, "
                        "its footer implies {}",
                        name, table_offset, load_u32(t + 4), *size - kSkippableHeaderSize)};
    }
    const uint8_t* footer = t + *size - kSeekTableFooterSize;
    const uint32_t count = load_u32(footer);
    const bool checksums = (footer[4] & kChecksumFlag) != 0;
    const size_t entry_size = checksums ? 12 : 8;

    SeekTable table;
    table.table_size = *size;
    table.checksums = checksums;
    table.frames.reserve(count);
    uint64_t compressed = 0;
    uint64_t decompressed = 0;
    for (uint32_t i = 0; i < count; ++i) {
        const uint8_t* e = t + kSkippableHeaderSize + uint64_t{i} * entry_size;
        SeekFrame frame;
        frame.compressed_offset = compressed;
        frame.compressed_size = load_u32(e);
        frame.decompressed_offset = decompressed;
        frame.decompressed_size = load_u32(e + 4);
        if (checksums) frame.checksum = load_u32(e + 8);
        const uint64_t entry_offset = table_offset + kSkippableHeaderSize + i * entry_size;
        if (frame.compressed_size == 0) {
            return Error{
                fmt::format("{}: zstd seek table entry {} at offset {:#x}: a frame of 0 "
                            "compressed bytes",
                            name, i, entry_offset)};
        }
        if (frame.decompressed_size > kMaxFrameDecompressedSize) {
            return Error{fmt::format(
                "{}: zstd seek table entry {} at offset {:#x}: frame of {} "
                "decompressed bytes (at most {} are accepted)",
                name, i, entry_offset, frame.decompressed_size, kMaxFrameDecompressedSize)};
        }
        compressed += frame.compressed_size;
        decompressed += frame.decompressed_size;
        // Sums of at most 2^32 entries of u32 cannot overflow u64; they are bounded as they grow
        // so that an error names the first entry past the bound.
        if (compressed > table_offset) {
            return Error{
                fmt::format("{}: zstd seek table entry {} at offset {:#x}: frames "
                            "reach offset {:#x}, past the seek table at {:#x}",
                            name, i, entry_offset, compressed, table_offset)};
        }
        if (decompressed > kMaxDecompressedSize) {
            return Error{
                fmt::format("{}: zstd seek table entry {} at offset {:#x}: more than "
                            "{} decompressed bytes",
                            name, i, entry_offset, kMaxDecompressedSize)};
        }
        table.frames.push_back(frame);
    }
    if (compressed != table_offset) {
        return Error{
            fmt::format("{}: the zstd seek table's {} frames take {} bytes, but the "
                        "table starts at offset {:#x}",
                        name, count, compressed, table_offset)};
    }
    table.decompressed_size = decompressed;
    return table;
}

std::vector<uint8_t> encode_seek_table(std::span<const SeekFrame> frames) {
    const bool checksums =
        !frames.empty() &&
        std::all_of(frames.begin(), frames.end(), [](const SeekFrame& f) { return f.checksum; });
    const size_t entry_size = checksums ? 12 : 8;
    const uint64_t body = frames.size() * entry_size + kSeekTableFooterSize;
    std::vector<uint8_t> out(kSkippableHeaderSize + body);
    size_t at = 0;
    store_u32(out, at, kSeekTableMagic);
    store_u32(out, at, static_cast<uint32_t>(body));
    for (const SeekFrame& f : frames) {
        store_u32(out, at, f.compressed_size);
        store_u32(out, at, f.decompressed_size);
        if (checksums) store_u32(out, at, *f.checksum);
    }
    store_u32(out, at, static_cast<uint32_t>(frames.size()));
    out[at++] = checksums ? kChecksumFlag : 0;
    store_u32(out, at, kSeekableFooterMagic);
    return out;
}

}  // namespace dumpscope::compress
