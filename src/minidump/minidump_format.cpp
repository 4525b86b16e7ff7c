#include "minidump/minidump_format.h"

#include <fmt/format.h>

namespace dumpscope::minidump {

std::string stream_type_name(uint32_t type) {
    switch (type) {
#define DS_MINIDUMP_STREAM(identifier, number, name) \
    case number:                                     \
        return name;
#include "minidump/minidump_streams.def"
#undef DS_MINIDUMP_STREAM
        default:
            return fmt::format("Unknown {:#x}", type);
    }
}

std::string architecture_name(uint16_t architecture) {
    switch (architecture) {
#define DS_MINIDUMP_ARCH(identifier, number, name) \
    case number:                                   \
        return name;
#include "minidump/processor_architectures.def"
#undef DS_MINIDUMP_ARCH
        default:
            return fmt::format("architecture {:#x}", architecture);
    }
}

std::string platform_name(uint32_t platform) {
    switch (platform) {
#define DS_MINIDUMP_PLATFORM(identifier, number, name) \
    case number:                                       \
        return name;
#include "minidump/platform_ids.def"
#undef DS_MINIDUMP_PLATFORM
        default:
            return fmt::format("platform {:#x}", platform);
    }
}

std::string page_protection_name(uint32_t protect) {
    if (protect == 0) return "0";
    std::string text;
    const auto add = [&](const std::string& part) { text += (text.empty() ? "" : " | ") + part; };
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow) \
    if (protect & (value)) add(name);
#define DS_PAGE_MODIFIER(identifier, value, name) \
    if (protect & (value)) add(name);
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER
    uint32_t known = 0;
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow) known |= (value);
#define DS_PAGE_MODIFIER(identifier, value, name) known |= (value);
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER
    if (const uint32_t unknown = protect & ~known) add(fmt::format("{:#x}", unknown));
    return text;
}

std::string memory_state_name(uint32_t state) {
    switch (state) {
#define DS_MEMORY_STATE(identifier, value, name) \
    case value:                                  \
        return name;
#include "minidump/memory_states.def"
#undef DS_MEMORY_STATE
        default:
            return fmt::format("{:#x}", state);
    }
}

std::string memory_type_name(uint32_t type) {
    switch (type) {
        case 0:
            return "";
#define DS_MEMORY_TYPE(identifier, value, name) \
    case value:                                 \
        return name;
#include "minidump/memory_types.def"
#undef DS_MEMORY_TYPE
        default:
            return fmt::format("{:#x}", type);
    }
}

}  // namespace dumpscope::minidump
