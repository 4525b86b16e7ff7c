// Opens a dump's bytes whatever it is stored as: plain (mapped as is), zstd seekable (mapped
// with pages decompressed on demand, compress/fault_mapping.h), or plain zstd or gzip (the
// whole stream decompressed once into an unlinked sparse temporary file in $TMPDIR, which is
// mapped; said once on stderr). The readers call these instead of MappedFile::open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "common/result.h"

namespace dumpscope::compress {

enum class Storage { kPlain, kSeekableZstd, kZstd, kGzip };

// From the first bytes and the footer; kPlain when the file cannot be read (open reports why).
Storage detect_storage(const std::string& path);

// The dump's decompressed bytes as one span.
Result<MappedFile> map_dump_file(const std::string& path);

// The first `n` decompressed bytes (fewer if the dump is shorter), without decompressing the
// rest: for recognising a format.
Result<std::vector<uint8_t>> read_dump_prefix(const std::string& path, size_t n);

}  // namespace dumpscope::compress
