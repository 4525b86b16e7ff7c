// libFuzzer target: what the library reads from untrusted bytes: dumpscope_read_dump_stream
// over any buffer (a stream it returns lies inside the buffer), the annotations stream, the
// annotation table read out of a process, and the helper's settings. Errors, never crashes.
#include <dumpscope/dumpscope.h>

#include <cstdlib>
#include <vector>

#include "api/handler_settings.h"
#include "api_read/annotation_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (uint32_t type : {3u, 4u, 0x10000001u, 0x44530003u}) {
        const void* stream = nullptr;
        uint32_t stream_size = 0;
        if (dumpscope_read_dump_stream(data, size, type, &stream, &stream_size)) {
            const auto* p = static_cast<const uint8_t*>(stream);
            if (p < data || p + stream_size > data + size) std::abort();
        }
    }
    (void)dumpscope::decode_annotations_stream({data, size});
    (void)dumpscope::read_annotation_table({data, size});
    (void)dumpscope::decode_settings(std::vector<uint8_t>(data, data + size));
    return 0;
}
