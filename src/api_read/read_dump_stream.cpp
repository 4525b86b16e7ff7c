// The read half of the C API: dumpscope_read_dump_stream (MiniDumpReadDumpStream over bytes in
// memory, bounds-checked) and dumpscope_last_error. Pure: a fuzz target (tests/fuzz).
#include <dumpscope/dumpscope.h>

#include <cstring>
#include <string>

#include "api_read/last_error.h"
#include "minidump/minidump_format.h"

namespace dumpscope {

std::string& last_error() {
    thread_local std::string message;
    return message;
}

}  // namespace dumpscope

extern "C" {

const char* dumpscope_last_error(void) { return dumpscope::last_error().c_str(); }

int dumpscope_read_dump_stream(const void* base, size_t size, uint32_t stream_type,
                               const void** stream, uint32_t* stream_size) {
    using dumpscope::minidump::Directory;
    using dumpscope::minidump::Header;
    auto fail = [](const std::string& why) {
        dumpscope::last_error() = why;
        return 0;
    };
    if (base == nullptr || stream == nullptr || stream_size == nullptr)
        return fail("dumpscope_read_dump_stream: a null pointer argument");
    const auto* bytes = static_cast<const uint8_t*>(base);
    Header header;
    if (size < sizeof header) return fail("not a minidump: shorter than its header");
    std::memcpy(&header, bytes, sizeof header);
    if (header.signature != dumpscope::minidump::kMinidumpSignature)
        return fail("not a minidump: no MDMP signature");
    const uint64_t directory_end = uint64_t{header.stream_directory_rva} +
                                   uint64_t{header.number_of_streams} * sizeof(Directory);
    if (directory_end > size) return fail("the minidump's stream directory runs past its end");
    for (uint32_t i = 0; i < header.number_of_streams; ++i) {
        Directory entry;
        std::memcpy(&entry, bytes + header.stream_directory_rva + i * sizeof(Directory),
                    sizeof entry);
        if (entry.stream_type != stream_type) continue;
        if (uint64_t{entry.location.rva} + entry.location.data_size > size)
            return fail("the stream runs past the end of the minidump");
        *stream = bytes + entry.location.rva;
        *stream_size = entry.location.data_size;
        dumpscope::last_error().clear();
        return 1;
    }
    return fail("the minidump has no stream of that type");
}

}  // extern "C"
