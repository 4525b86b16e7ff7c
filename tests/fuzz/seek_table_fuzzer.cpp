// libFuzzer target: the zstd seek table parser and the seekable reader on arbitrary bytes must
// return a table or an Error, never crash or read outside the input; a table that parses gives
// frames that tile the file exactly, and reads through the reader stay inside their frames.
// (The dump reader targets cover compressed dumps too: their corpus holds .zst seeds.)
#include <cstdlib>

#include "compress/seek_table.h"
#include "compress/seekable_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace dumpscope::compress;
    auto table = parse_seek_table({data, size}, size, "input");
    if (table.ok()) {
        uint64_t compressed = 0;
        for (const SeekFrame& f : table->frames) {
            if (f.compressed_offset != compressed) std::abort();
            compressed += f.compressed_size;
        }
        if (compressed + table->table_size != size) std::abort();
    }
    static dumpscope::fuzz::InputFile file;
    auto reader = SeekableZstdFile::open(file.hold(data, size), 1u << 20);
    if (reader.ok() && (*reader)->size() <= (64u << 20)) {
        std::vector<uint8_t> out(std::min<uint64_t>((*reader)->size(), 1u << 20));
        (void)(*reader)->read(0, out);
        (void)(*reader)->read((*reader)->size() - out.size(), out);
    }
    return 0;
}
