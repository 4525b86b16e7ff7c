// The DumpscopeAnnotations stream (0x44530003, docs/streams.md): the key/value annotations a
// program set through the library's crash handler.
//   u32 version (1), u32 count, then count times: u32 key size, u32 value size, key, value.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace dumpscope {

inline constexpr uint32_t kAnnotationsStreamType = 0x44530003;

using Annotations = std::vector<std::pair<std::string, std::string>>;

std::vector<uint8_t> encode_annotations_stream(const Annotations& annotations);
// Errors name what is cut or malformed and where.
Result<Annotations> decode_annotations_stream(std::span<const uint8_t> bytes);

}  // namespace dumpscope
