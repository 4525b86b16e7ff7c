#include "minidump/annotations_stream.h"

#include <fmt/format.h>

#include "common/little_endian.h"

namespace dumpscope {

std::vector<uint8_t> encode_annotations_stream(const Annotations& annotations) {
    std::vector<uint8_t> out;
    append_le32(out, 1);
    append_le32(out, static_cast<uint32_t>(annotations.size()));
    for (const auto& [key, value] : annotations) {
        append_le32(out, static_cast<uint32_t>(key.size()));
        append_le32(out, static_cast<uint32_t>(value.size()));
        out.insert(out.end(), key.begin(), key.end());
        out.insert(out.end(), value.begin(), value.end());
    }
    return out;
}

Result<Annotations> decode_annotations_stream(std::span<const uint8_t> bytes) {
    auto bad = [&](const std::string& what) {
        return Error{fmt::format("DumpscopeAnnotations stream ({} bytes): {}", bytes.size(), what)};
    };
    if (bytes.size() < 8) return bad("shorter than its header");
    if (load_le32(bytes, 0) != 1) return bad(fmt::format("version {}", load_le32(bytes, 0)));
    const uint32_t count = load_le32(bytes, 4);
    Annotations out;
    size_t at = 8;
    for (uint32_t i = 0; i < count; ++i) {
        if (bytes.size() - at < 8) return bad(fmt::format("entry {} at offset {} is cut", i, at));
        const uint32_t key_size = load_le32(bytes, at);
        const uint32_t value_size = load_le32(bytes, at + 4);
        at += 8;
        if (key_size > bytes.size() - at || value_size > bytes.size() - at - key_size)
            return bad(fmt::format("entry {} at offset {} runs past the end", i, at - 8));
        const char* p = reinterpret_cast<const char*>(bytes.data() + at);
        out.emplace_back(std::string(p, key_size), std::string(p + key_size, value_size));
        at += key_size + value_size;
    }
    return out;
}

}  // namespace dumpscope
