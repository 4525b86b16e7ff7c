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

}  // namespace dumpscope::minidump
