#include "compress/stream_decompress.h"

#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <vector>

namespace dumpscope::compress {

namespace {

constexpr size_t kChunk = 1u << 20;

Error too_big(const std::string& name, uint64_t max_output) {
    return Error{fmt::format("{} decompresses to more than {} bytes: refused", name, max_output)};
}

}  // namespace

Result<uint64_t> decompress_zstd_stream(std::span<const uint8_t> input, const std::string& name,
                                        uint64_t max_output, const OutputSink& sink) {
    std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> stream(ZSTD_createDStream(),
                                                                    ZSTD_freeDStream);
    if (!stream) return Error{"cannot create a zstd decompression context"};
    std::vector<uint8_t> out(kChunk);
    ZSTD_inBuffer in{input.data(), input.size(), 0};
    uint64_t total = 0;
    size_t last = 0;
    while (in.pos < in.size) {
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        const size_t consumed_before = in.pos;
        last = ZSTD_decompressStream(stream.get(), &o, &in);
        if (ZSTD_isError(last)) {
            return Error{fmt::format("{}: corrupt zstd data near compressed offset {:#x}: {}", name,
                                     consumed_before, ZSTD_getErrorName(last))};
        }
        if (o.pos > 0) {
            if (o.pos > max_output - total) return too_big(name, max_output);
            auto more = sink(total, std::span<const uint8_t>(out.data(), o.pos));
            if (!more.ok()) return more.error();
            total += o.pos;
            if (!*more) return total;
        }
    }
    // Flush what the decoder still holds for the last frame.
    for (;;) {
        ZSTD_outBuffer o{out.data(), out.size(), 0};
        if (last == 0) break;
        last = ZSTD_decompressStream(stream.get(), &o, &in);
        if (ZSTD_isError(last)) {
            return Error{
                fmt::format("{}: corrupt zstd data at the end: {}", name, ZSTD_getErrorName(last))};
        }
        if (o.pos == 0) {
            if (last != 0) {
                return Error{
                    fmt::format("{}: the zstd data is truncated (the last frame is "
                                "incomplete at compressed offset {:#x})",
                                name, input.size())};
            }
            break;
        }
        if (o.pos > max_output - total) return too_big(name, max_output);
        auto more = sink(total, std::span<const uint8_t>(out.data(), o.pos));
        if (!more.ok()) return more.error();
        total += o.pos;
        if (!*more) return total;
    }
    return total;
}

Result<uint64_t> decompress_gzip_stream(std::span<const uint8_t> input, const std::string& name,
                                        uint64_t max_output, const OutputSink& sink) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return Error{"cannot initialise zlib"};
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
    std::vector<uint8_t> out(kChunk);
    uint64_t consumed = 0;
    uint64_t total = 0;
    bool ended = false;
    while (consumed < input.size()) {
        if (ended) {  // another gzip member follows
            if (inflateReset(&z) != Z_OK) return Error{"cannot reset zlib"};
            ended = false;
        }
        const uint64_t avail = std::min<uint64_t>(input.size() - consumed, 1u << 30);
        z.next_in = const_cast<Bytef*>(input.data() + consumed);
        z.avail_in = static_cast<uInt>(avail);
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        const int rc = inflate(&z, Z_NO_FLUSH);
        consumed += avail - z.avail_in;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            return Error{fmt::format("{}: corrupt gzip data near compressed offset {:#x}: {}", name,
                                     consumed, z.msg != nullptr ? z.msg : "zlib error")};
        }
        const size_t produced = out.size() - z.avail_out;
        if (produced > 0) {
            if (produced > max_output - total) return too_big(name, max_output);
            auto more = sink(total, std::span<const uint8_t>(out.data(), produced));
            if (!more.ok()) return more.error();
            total += produced;
            if (!*more) return total;
        }
        if (rc == Z_STREAM_END) {
            ended = true;
        } else if (rc == Z_BUF_ERROR && produced == 0) {
            break;  // no progress possible: the input ends inside a member
        }
    }
    if (!ended) {
        return Error{fmt::format("{}: the gzip data is truncated (at compressed offset {:#x})",
                                 name, consumed)};
    }
    return total;
}

}  // namespace dumpscope::compress
