// The zstd seekable format's seek table (facebook/zstd contrib/seekable_format): a skippable
// frame at the very end of the file, holding one entry per stored frame (Compressed_Size u32,
// Decompressed_Size u32, optional Checksum u32) and a 9-byte footer (Number_Of_Frames u32,
// Seek_Table_Descriptor u8, Seekable_Magic_Number 0x8F92EAB1). Pure: parsing and encoding
// work on bytes, so every bound is tested without a file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace dumpscope::compress {

inline constexpr uint32_t kZstdFrameMagic = 0xFD2FB528;
inline constexpr uint32_t kSkippableMagicFirst = 0x184D2A50;  // 0x184D2A50..0x184D2A5F
inline constexpr uint32_t kSeekTableMagic = 0x184D2A5E;       // the seek table's skippable frame
inline constexpr uint32_t kSeekableFooterMagic = 0x8F92EAB1;
inline constexpr size_t kSkippableHeaderSize = 8;  // magic + Frame_Size
inline constexpr size_t kSeekTableFooterSize = 9;
inline constexpr uint8_t kChecksumFlag = 0x80;
inline constexpr uint8_t kReservedBits = 0x7c;  // bits 6-2: must be zero
// No decompressed dump is larger than this: a bigger total in a table is corrupt.
inline constexpr uint64_t kMaxDecompressedSize = uint64_t{1} << 40;  // 1 TiB
// Frames larger than this are refused (the format allows up to 4 GiB; nobody writes them, and a
// reader decompresses whole frames into memory).
inline constexpr uint32_t kMaxFrameDecompressedSize = 1u << 30;

struct SeekFrame {
    uint64_t compressed_offset = 0;  // in the file
    uint32_t compressed_size = 0;
    uint64_t decompressed_offset = 0;  // in the decompressed stream
    uint32_t decompressed_size = 0;    // 0: a skippable (padding) frame
    std::optional<uint32_t> checksum;  // low 32 bits of XXH64 of the decompressed frame
};

struct SeekTable {
    std::vector<SeekFrame> frames;
    uint64_t decompressed_size = 0;
    uint64_t table_size = 0;  // the whole skippable frame holding the table, header included
    bool checksums = false;

    // The frame holding decompressed byte `offset`, or nullopt past the end. Frames with a
    // decompressed size of 0 never hold a byte.
    std::optional<size_t> frame_at(uint64_t offset) const;
};

// From the footer (the file's last 9 bytes): how many bytes at the end of the file the whole
// seek table frame takes, or an error if the footer is not a seekable footer.
Result<uint64_t> seek_table_size(std::span<const uint8_t> footer, uint64_t file_size,
                                 const std::string& name);

// Parses the seek table from `tail`, the last tail.size() bytes of a file of file_size bytes
// (tail must hold at least seek_table_size() bytes). Checks every size against the file: the
// entries' compressed sizes must add up to exactly the bytes before the table, the decompressed
// total must stay under kMaxDecompressedSize. `name` is used in errors (the file's path).
Result<SeekTable> parse_seek_table(std::span<const uint8_t> tail, uint64_t file_size,
                                   const std::string& name);

// The seek table frame for these frames (offsets are ignored: sizes are what is stored).
// Checksums are written when every frame has one.
std::vector<uint8_t> encode_seek_table(std::span<const SeekFrame> frames);

}  // namespace dumpscope::compress
