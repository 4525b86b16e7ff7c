#include "compress/dump_bytes.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "common/unique_fd.h"
#include "compress/fault_mapping.h"
#include "compress/seek_table.h"
#include "compress/seekable_reader.h"
#include "compress/stream_decompress.h"

namespace dumpscope::compress {

namespace {

constexpr uint64_t kPage = 4096;
// Decompressed frames the reader keeps besides the mapping's pages (shared boundary pages).
constexpr uint64_t kReaderCacheBytes = uint64_t{16} << 20;

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Says something once per file on stderr (opening a dump twice in one command says it once).
void note_once(const std::string& path, const std::string& message) {
    static std::mutex m;
    static std::set<std::string> said;
    std::lock_guard lock(m);
    if (said.insert(path).second) std::fprintf(stderr, "dumpscope: %s\n", message.c_str());
}

// A read-only mapping of a whole file, owned by the MappedFile it is adopted into.
class PlainMapping : public MappedFile::Backing {
public:
    PlainMapping(void* data, uint64_t size) : data_(data), size_(size) {}
    ~PlainMapping() override { ::munmap(data_, size_); }
    PlainMapping(const PlainMapping&) = delete;
    PlainMapping& operator=(const PlainMapping&) = delete;
    std::optional<std::string> read_error() const override { return std::nullopt; }

private:
    void* data_;
    uint64_t size_;
};

struct Input {
    UniqueFd fd;
    const uint8_t* data = nullptr;
    uint64_t size = 0;
    ~Input() {
        if (data != nullptr) ::munmap(const_cast<uint8_t*>(data), size);
    }
};

Status map_input(const std::string& path, Input& in) {
    in.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.fd.valid()) return errno_error("cannot open " + path);
    struct stat st {};
    if (::fstat(in.fd.get(), &st) != 0) return errno_error("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_size == 0) return Error{path + " is empty"};
    in.size = static_cast<uint64_t>(st.st_size);
    void* p = ::mmap(nullptr, in.size, PROT_READ, MAP_PRIVATE, in.fd.get(), 0);
    if (p == MAP_FAILED) {
        in.size = 0;
        return errno_error("cannot map " + path);
    }
    in.data = static_cast<const uint8_t*>(p);
    return {};
}

Status pwrite_all(int fd, uint64_t offset, const uint8_t* p, size_t n, const std::string& what) {
    while (n > 0) {
        const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno_error("cannot write " + what);
        }
        p += w;
        n -= static_cast<size_t>(w);
        offset += static_cast<uint64_t>(w);
    }
    return {};
}

bool zero_page(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0) return false;
    return true;
}

// Decompresses the whole file into an unlinked temporary file in $TMPDIR, leaving pages of
// zeros as holes, and maps it.
Result<MappedFile> decompress_to_temp(const std::string& path, Storage storage,
                                      const std::string& why) {
    Input in;
    DS_TRY(map_input(path, in));
    const char* env = std::getenv("TMPDIR");
    const std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
    UniqueFd out(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!out.valid()) return errno_error("cannot create a temporary file in " + dir);
    note_once(path,
              fmt::format("{} {}: decompressing it to a temporary file in {}", path, why, dir));
    const std::string what = "the decompressed copy of " + path + " in " + dir;
    const OutputSink sink = [&](uint64_t offset, std::span<const uint8_t> bytes) -> Result<bool> {
        // Pages counted from the piece's start: a piece need not start on a page, and a run of
        // zeros not written is a hole that reads as zeros either way.
        for (size_t at = 0; at < bytes.size();) {
            const size_t n = std::min<size_t>(kPage, bytes.size() - at);
            size_t run = at;
            while (run < bytes.size() &&
                   !zero_page(bytes.data() + run, std::min<size_t>(kPage, bytes.size() - run)))
                run += std::min<size_t>(kPage, bytes.size() - run);
            if (run > at) {
                DS_TRY(pwrite_all(out.get(), offset + at, bytes.data() + at, run - at, what));
                at = run;
            } else {
                at += n;  // a hole
            }
        }
        return true;
    };
    const std::span<const uint8_t> input(in.data, in.size);
    auto total = storage == Storage::kGzip
                     ? decompress_gzip_stream(input, path, kMaxDecompressedSize, sink)
                     : decompress_zstd_stream(input, path, kMaxDecompressedSize, sink);
    if (!total.ok()) return total.error();
    if (*total == 0) return Error{path + " decompresses to 0 bytes"};
    if (::ftruncate(out.get(), static_cast<off_t>(*total)) != 0)
        return errno_error("ftruncate " + what);
    void* p = ::mmap(nullptr, *total, PROT_READ, MAP_PRIVATE, out.get(), 0);
    if (p == MAP_FAILED) return errno_error("cannot map " + what);
    struct stat st {};
    ::fstat(in.fd.get(), &st);
    return MappedFile::adopt(static_cast<const uint8_t*>(p), *total,
                             static_cast<uint64_t>(st.st_blocks) * 512,
                             std::make_unique<PlainMapping>(p, *total));
}

}  // namespace

Storage detect_storage(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Storage::kPlain;
    uint8_t head[4] = {};
    if (::pread(fd.get(), head, sizeof head, 0) != static_cast<ssize_t>(sizeof head))
        return Storage::kPlain;
    if (head[0] == 0x1f && head[1] == 0x8b) return Storage::kGzip;
    const uint32_t magic = load_u32(head);
    if (magic != kZstdFrameMagic && (magic & 0xFFFFFFF0u) != kSkippableMagicFirst)
        return Storage::kPlain;
    return is_seekable_zstd(path) ? Storage::kSeekableZstd : Storage::kZstd;
}

Result<MappedFile> map_dump_file(const std::string& path) {
    const Storage storage = detect_storage(path);
    if (storage == Storage::kPlain) return MappedFile::open(path, MappedFile::Descriptor::kKeep);
    if (storage == Storage::kGzip) return decompress_to_temp(path, storage, "is gzip-compressed");
    if (storage == Storage::kZstd) {
        return decompress_to_temp(path, storage, "is zstd-compressed without a seek table");
    }
    auto file = SeekableZstdFile::open(path, kReaderCacheBytes);
    if (!file.ok()) return file.error();
    struct stat st {};
    ::stat(path.c_str(), &st);
    const uint64_t disk_usage = static_cast<uint64_t>(st.st_blocks) * 512;
    if ((*file)->size() == 0) return Error{path + " decompresses to 0 bytes"};
    auto mapping = FaultMapping::create(std::move(*file), kDefaultResidentBytes);
    if (!mapping.ok()) {
        return decompress_to_temp(path, storage,
                                  "is zstd-compressed and " + mapping.error().message + " here");
    }
    const uint8_t* data = (*mapping)->data();
    const uint64_t size = (*mapping)->size();
    return MappedFile::adopt(data, size, disk_usage, std::move(*mapping));
}

Result<std::vector<uint8_t>> read_dump_prefix(const std::string& path, size_t n) {
    const Storage storage = detect_storage(path);
    std::vector<uint8_t> out;
    if (storage == Storage::kPlain) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return errno_error("cannot open " + path);
        out.resize(n);
        const ssize_t got = ::pread(fd.get(), out.data(), n, 0);
        if (got < 0) return errno_error("cannot read " + path);
        out.resize(static_cast<size_t>(got));
        return out;
    }
    Input in;
    DS_TRY(map_input(path, in));
    const OutputSink sink = [&](uint64_t, std::span<const uint8_t> bytes) -> Result<bool> {
        out.insert(out.end(), bytes.begin(),
                   bytes.begin() + static_cast<ptrdiff_t>(std::min(bytes.size(), n - out.size())));
        return out.size() < n;
    };
    const std::span<const uint8_t> input(in.data, in.size);
    auto total = storage == Storage::kGzip
                     ? decompress_gzip_stream(input, path, kMaxDecompressedSize, sink)
                     : decompress_zstd_stream(input, path, kMaxDecompressedSize, sink);
    if (!total.ok()) return total.error();
    return out;
}

}  // namespace dumpscope::compress
