// Whole-stream decompression of zstd (any frames, skippable ones included) and gzip (zlib,
// concatenated members too) from a buffer, handing the output to a callback in pieces, and
// stopping after a bound on the output.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/result.h"

namespace dumpscope::compress {

// Called with each piece of output and its offset; returns false to stop early (not an error).
using OutputSink = std::function<Result<bool>(uint64_t offset, std::span<const uint8_t> bytes)>;

// Returns the number of bytes produced. `name` names the input in errors.
Result<uint64_t> decompress_zstd_stream(std::span<const uint8_t> input, const std::string& name,
                                        uint64_t max_output, const OutputSink& sink);
Result<uint64_t> decompress_gzip_stream(std::span<const uint8_t> input, const std::string& name,
                                        uint64_t max_output, const OutputSink& sink);

}  // namespace dumpscope::compress
