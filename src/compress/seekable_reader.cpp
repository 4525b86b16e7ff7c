#include "compress/seekable_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader: the header without the whole frame
#include <zstd.h>

#include <array>
#include <cstring>

#include "common/unique_fd.h"

namespace dumpscope::compress {

namespace {

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

bool is_skippable(uint32_t magic) { return (magic & 0xFFFFFFF0u) == kSkippableMagicFirst; }

}  // namespace

bool is_seekable_zstd(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return false;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || st.st_size < 4 + static_cast<off_t>(kSeekTableFooterSize))
        return false;
    uint32_t magic = 0;
    uint8_t footer[kSeekTableFooterSize];
    if (::pread(fd.get(), &magic, 4, 0) != 4) return false;
    if (::pread(fd.get(), footer, sizeof footer, st.st_size - static_cast<off_t>(sizeof footer)) !=
        static_cast<ssize_t>(sizeof footer))
        return false;
    return (magic == kZstdFrameMagic || is_skippable(magic)) &&
           load_u32(footer + 5) == kSeekableFooterMagic;
}

Result<std::unique_ptr<SeekableZstdFile>> SeekableZstdFile::open(const std::string& path,
                                                                 uint64_t cache_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error("cannot stat " + path);
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size == 0) return Error{path + " is empty"};
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (map == MAP_FAILED) return errno_error("cannot map " + path);
    const auto* data = static_cast<const uint8_t*>(map);
    auto table = parse_seek_table(std::span<const uint8_t>(data, size), size, path);
    if (!table.ok()) {
        ::munmap(map, size);
        return table.error();
    }
    std::unique_ptr<SeekableZstdFile> file(
        new SeekableZstdFile(path, data, size, std::move(*table), cache_bytes));
    {
        std::lock_guard lock(file->mutex_);
        void* dctx = file->take_context();
        if (dctx == nullptr) return Error{"cannot create a zstd decompression context"};
        file->give_context(dctx);
    }
    DS_TRY(file->check_frames(fd.get()));
    return file;
}

SeekableZstdFile::SeekableZstdFile(std::string path, const uint8_t* data, uint64_t file_size,
                                   SeekTable table, uint64_t cache_bytes)
    : path_(std::move(path)),
      data_(data),
      file_size_(file_size),
      table_(std::move(table)),
      cache_bytes_(cache_bytes) {}

SeekableZstdFile::~SeekableZstdFile() {
    for (void* dctx : spare_dctx_) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(dctx));
    ::munmap(const_cast<uint8_t*>(data_), file_size_);
}

Status SeekableZstdFile::check_frames(int fd) const {
    // Each header read by pread, not through the mapping: a page fault per frame (hundreds for
    // a dump) cost more than the rest of `stack --all`.
    std::array<uint8_t, ZSTD_FRAMEHEADERSIZE_MAX> head{};
    for (size_t i = 0; i < table_.frames.size(); ++i) {
        const SeekFrame& f = table_.frames[i];
        auto bad = [&](const std::string& what) {
            return Error{fmt::format(
                "{}: zstd frame {} at offset {:#x} ({} bytes, {} "
                "decompressed): {}",
                path_, i, f.compressed_offset, f.compressed_size, f.decompressed_size, what)};
        };
        if (f.compressed_size < 4) return bad("too small to hold a frame");
        const size_t want = std::min<uint64_t>(head.size(), f.compressed_size);
        const ssize_t got = ::pread(fd, head.data(), want, static_cast<off_t>(f.compressed_offset));
        if (got != static_cast<ssize_t>(want)) return bad("its header cannot be read");
        const uint32_t magic = load_u32(head.data());
        if (is_skippable(magic)) {
            if (f.decompressed_size != 0) return bad("a skippable frame that claims data");
            continue;
        }
        if (magic != kZstdFrameMagic) return bad(fmt::format("no zstd magic ({:#010x})", magic));
        ZSTD_frameHeader header{};
        const size_t r = ZSTD_getFrameHeader(&header, head.data(), want);
        if (ZSTD_isError(r)) return bad(std::string("bad frame header: ") + ZSTD_getErrorName(r));
        if (r != 0) return bad("frame header cut short");
        if (header.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN &&
            header.frameContentSize != f.decompressed_size) {
            return bad(
                fmt::format("its header says {} decompressed bytes", header.frameContentSize));
        }
    }
    return {};
}

void* SeekableZstdFile::take_context() {
    if (spare_dctx_.empty()) return ZSTD_createDCtx();
    void* dctx = spare_dctx_.back();
    spare_dctx_.pop_back();
    return dctx;
}

void SeekableZstdFile::give_context(void* dctx) { spare_dctx_.push_back(dctx); }

Status SeekableZstdFile::decompress(void* dctx, size_t index, uint8_t* out) const {
    const SeekFrame& f = table_.frames[index];
    const size_t n = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(dctx), out, f.decompressed_size,
                                         data_ + f.compressed_offset, f.compressed_size);
    // The compressed bytes are read once per decompression: their pages of the file's mapping
    // are let go of (they stay in the page cache), or reading a whole dump would leave the
    // whole compressed file resident. Pages shared with the next frame are kept.
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto first =
        (reinterpret_cast<uintptr_t>(data_ + f.compressed_offset) + page - 1) & ~(page - 1);
    const auto last =
        reinterpret_cast<uintptr_t>(data_ + f.compressed_offset + f.compressed_size) & ~(page - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    if (ZSTD_isError(n) || n != f.decompressed_size) {
        return Error{
            fmt::format("{}: zstd frame {} at offset {:#x} ({} bytes) does not "
                        "decompress to its {} bytes at {:#x}: {}",
                        path_, index, f.compressed_offset, f.compressed_size, f.decompressed_size,
                        f.decompressed_offset,
                        ZSTD_isError(n) ? ZSTD_getErrorName(n) : fmt::format("got {} bytes", n))};
    }
    return {};
}

Status SeekableZstdFile::read_frame(size_t index, std::span<uint8_t> out) {
    if (index >= table_.frames.size() || out.size() != table_.frames[index].decompressed_size) {
        return Error{fmt::format("{}: no zstd frame {} of {} bytes", path_, index, out.size())};
    }
    void* dctx = nullptr;
    {
        std::lock_guard lock(mutex_);
        dctx = take_context();
    }
    if (dctx == nullptr) return Error{"cannot create a zstd decompression context"};
    Status done = decompress(dctx, index, out.data());
    std::lock_guard lock(mutex_);
    give_context(dctx);
    return done;
}

const uint8_t* SeekableZstdFile::cached(size_t index) {
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
        if (it->index == index) {
            cache_.splice(cache_.begin(), cache_, it);
            return cache_.front().bytes.get();
        }
    }
    return nullptr;
}

Result<const uint8_t*> SeekableZstdFile::fill(size_t index, std::unique_lock<std::mutex>& lock) {
    const size_t size = table_.frames[index].decompressed_size;
    // Evict down to the bound, keeping an evicted buffer of the right size for reuse (fresh
    // large allocations cost a page fault per page).
    std::unique_ptr<uint8_t[]> bytes;
    while (!cache_.empty() && cached_ + size > cache_bytes_) {
        cached_ -= cache_.back().size;
        if (!bytes && cache_.back().size == size) bytes = std::move(cache_.back().bytes);
        cache_.pop_back();
    }
    void* dctx = take_context();
    if (dctx == nullptr) return Error{"cannot create a zstd decompression context"};
    lock.unlock();
    if (!bytes) bytes.reset(new uint8_t[size]);
    Status done = decompress(dctx, index, bytes.get());
    lock.lock();
    give_context(dctx);
    if (!done.ok()) return done.error();
    if (const uint8_t* other = cached(index)) return other;  // another thread was quicker
    cached_ += size;
    cache_.push_front(CachedFrame{index, std::move(bytes), size});
    return cache_.front().bytes.get();
}

Status SeekableZstdFile::read(uint64_t offset, std::span<uint8_t> out) {
    if (offset > table_.decompressed_size || out.size() > table_.decompressed_size - offset) {
        return Error{
            fmt::format("{}: read of {} bytes at offset {:#x} is past the end of the "
                        "{} decompressed bytes",
                        path_, out.size(), offset, table_.decompressed_size)};
    }
    std::unique_lock lock(mutex_);
    while (!out.empty()) {
        const auto index = table_.frame_at(offset);
        if (!index)
            return Error{fmt::format("{}: no zstd frame holds offset {:#x}", path_, offset)};
        const uint8_t* bytes = cached(*index);
        if (bytes == nullptr) {
            auto filled = fill(*index, lock);
            if (!filled.ok()) return filled.error();
            bytes = *filled;
        }
        const SeekFrame& f = table_.frames[*index];
        const uint64_t in_frame = offset - f.decompressed_offset;
        const size_t n = std::min<uint64_t>(out.size(), f.decompressed_size - in_frame);
        std::memcpy(out.data(), bytes + in_frame, n);
        offset += n;
        out = out.subspan(n);
    }
    return {};
}

}  // namespace dumpscope::compress
