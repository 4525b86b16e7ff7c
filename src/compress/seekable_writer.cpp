#include "compress/seekable_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "compress/ordered_compressor.h"

namespace dumpscope::compress {

namespace {

constexpr uint64_t kPage = 4096;
constexpr unsigned kMaxThreads = 64;

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// The last 4 bytes of a zstd frame made with the checksum flag: the low 32 bits of XXH64 of its
// content, which is what a seek table entry's Checksum holds.
uint32_t frame_checksum(std::span<const uint8_t> frame) {
    uint32_t v = 0;
    if (frame.size() >= 4) std::memcpy(&v, frame.data() + frame.size() - 4, 4);
    return v;
}

bool zero_page(const uint8_t* p, size_t n) {
    return n > 0 && p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

Status pwrite_all(int fd, uint64_t offset, const uint8_t* data, size_t size,
                  const std::string& name) {
    while (size > 0) {
        const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            return Error{fmt::format("{}: cannot write {} bytes at {:#x} of its spill file: {}",
                                     name, size, offset, std::strerror(n < 0 ? errno : ENOSPC))};
        }
        data += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return {};
}

}  // namespace

Result<int> parse_compression_level(const std::string& text) {
    int level = 0;
    size_t used = 0;
    try {
        level = std::stoi(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || level < 1 || level > 19) {
        return Error{fmt::format("'{}' is not a zstd compression level (1 to 19; {} by default)",
                                 text, kDefaultCompressionLevel)};
    }
    return level;
}

Result<std::unique_ptr<SeekableZstdWriter>> SeekableZstdWriter::create(
    Sink sink, SeekableWriterOptions options, std::string name) {
    if (options.frame_size == 0 || options.frame_size % kPage != 0 ||
        options.frame_size > kMaxFrameDecompressedSize) {
        return Error{fmt::format("{}: zstd frame size {} must be a multiple of 4096 up to {}", name,
                                 options.frame_size, kMaxFrameDecompressedSize)};
    }
    if (options.level < ZSTD_minCLevel() || options.level > ZSTD_maxCLevel()) {
        return Error{fmt::format("{}: zstd level {} is outside {}..{}", name, options.level,
                                 ZSTD_minCLevel(), ZSTD_maxCLevel())};
    }
    options.deferred_head = round_up(options.deferred_head, kPage);
    if (options.deferred_head > kMaxDeferredHead) {
        return Error{
            fmt::format("{}: the head of the dump ({} bytes) is larger than the {} "
                        "bytes a compressed dump keeps in memory",
                        name, options.deferred_head, kMaxDeferredHead)};
    }
    if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
    options.threads = std::min(options.threads, kMaxThreads);

    std::unique_ptr<SeekableZstdWriter> w(
        new SeekableZstdWriter(std::move(sink), options, std::move(name)));
    std::vector<uint8_t> zeros(options.frame_size, 0);
    auto zero = OrderedCompressor::compress_frame(options.level, zeros);
    if (!zero.ok()) return Error{w->name_ + ": " + zero.error().message};
    w->zero_frame_ = std::make_shared<const std::vector<uint8_t>>(std::move(*zero));
    return w;
}

SeekableZstdWriter::SeekableZstdWriter(Sink sink, SeekableWriterOptions options, std::string name)
    : sink_(std::move(sink)), options_(std::move(options)), name_(std::move(name)) {
    head_.assign(options_.deferred_head, 0);
    // The slot holds every head frame at its worst size plus the padding frame's header.
    if (!head_.empty()) {
        for (uint64_t at = 0; at < head_.size(); at += options_.frame_size) {
            slot_size_ +=
                ZSTD_compressBound(std::min<uint64_t>(options_.frame_size, head_.size() - at));
        }
        slot_size_ += kSkippableHeaderSize;
    }
    next_physical_ = slot_size_;
    next_frame_ = head_.size() / options_.frame_size;
    compressor_ = std::make_unique<OrderedCompressor>(
        options_.level, options_.threads, 2 * size_t{options_.threads},
        [this](std::span<const uint8_t> frame, uint32_t size) { return emit(frame, size); });
}

SeekableZstdWriter::~SeekableZstdWriter() {
    compressor_.reset();  // its workers stop before the rest goes
    if (spill_fd_ >= 0) ::close(spill_fd_);
    if (memory_spill_fd_ >= 0) ::close(memory_spill_fd_);
}

void SeekableZstdWriter::set_never_block(bool on) {
    if (never_block_ && !on) {
        blocking_since_ = std::chrono::steady_clock::now();
        backlog_timed_ = true;
    }
    never_block_ = on;
    // While the target waits, its reader keeps a CPU of its own: one worker fewer (if there
    // is more than one).
    compressor_->set_max_active(on ? options_.threads - 1 : options_.threads);
}

namespace {

// MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read.
uint64_t mem_available_bytes() {
    std::FILE* f = std::fopen("/proc/meminfo", "re");
    if (f == nullptr) return 0;
    char line[256];
    uint64_t kib = 0;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::sscanf(line, "MemAvailable: %" SCNu64 " kB", &kib) == 1) break;
    }
    std::fclose(f);
    return kib * 1024;
}

}  // namespace

// An unlinked temporary in the spill directory (O_TMPFILE, or a named file unlinked at once
// where the filesystem has no O_TMPFILE). False, with stats_.spill_error, if neither works.
bool SeekableZstdWriter::open_spill() {
    if (spill_fd_ >= 0) return true;
    if (!stats_.spill_error.empty()) return false;
    std::string dir = options_.spill_dir;
    if (dir.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    spill_fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (spill_fd_ < 0) {
        std::string path = dir + "/.dumpscope-spill.XXXXXX";
        spill_fd_ = ::mkostemp(path.data(), O_CLOEXEC);
        if (spill_fd_ >= 0) ::unlink(path.c_str());
    }
    if (spill_fd_ < 0) {
        stats_.spill_error =
            fmt::format("cannot create a spill file in {}: {}", dir, std::strerror(errno));
        return false;
    }
    return true;
}

int SeekableZstdWriter::memory_spill_for(size_t size) {
    if (!memory_spill_decided_) {  // once: a failed memfd_create is not tried again
        memory_spill_decided_ = true;
        memory_spill_bound_ = options_.memory_spill_bytes;
        if (memory_spill_bound_ == SeekableWriterOptions::kAutoMemorySpill) {
            constexpr uint64_t kMost = uint64_t{4} << 30;
            memory_spill_bound_ = std::min(kMost, mem_available_bytes() / 4);
        }
        if (memory_spill_bound_ >= size)
            memory_spill_fd_ = ::memfd_create("dumpscope-spill", MFD_CLOEXEC);
    }
    if (memory_spill_fd_ < 0 || size > memory_spill_bound_ - memory_spilled_) return -1;
    memory_spilled_ += size;
    return memory_spill_fd_;
}

// Writes the frame's non-zero pages at `at` (zero pages stay holes); a worker reads it back.
Status SeekableZstdWriter::spill(int fd, const std::vector<uint8_t>& buffer, size_t size,
                                 uint64_t at) {
    size_t pos = 0;
    while (pos < size) {
        while (pos < size && zero_page(buffer.data() + pos, std::min<size_t>(kPage, size - pos)))
            pos += std::min<size_t>(kPage, size - pos);
        const size_t run = pos;
        while (pos < size && !zero_page(buffer.data() + pos, std::min<size_t>(kPage, size - pos)))
            pos += std::min<size_t>(kPage, size - pos);
        if (pos > run) {
            DS_TRY(pwrite_all(fd, at + run, buffer.data() + run, pos - run, name_));
            stats_.spilled_bytes += pos - run;
        }
    }
    ++stats_.spilled_frames;
    return {};
}

Status SeekableZstdWriter::queue_frame(std::vector<uint8_t> buffer, size_t size, uint64_t at) {
    ++stats_.frames;
    if (!never_block_) return compressor_->submit(std::move(buffer), size);
    if (compressor_->has_room()) return compressor_->submit(std::move(buffer), size, false);
    int fd = memory_spill_for(size);
    if (fd >= 0) {
        ++stats_.memory_spilled_frames;
    } else {
        if (!open_spill()) return compressor_->submit(std::move(buffer), size);  // wait, then
        fd = spill_fd_;
    }
    Status written = spill(fd, buffer, size, at);
    compressor_->give_buffer(std::move(buffer));
    if (!written.ok()) return written;
    return compressor_->submit_spilled(fd, at, size);
}

Status SeekableZstdWriter::queue_zero_frame() {
    ++stats_.frames;
    return compressor_->submit_compressed(zero_frame_, options_.frame_size, !never_block_);
}

uint64_t SeekableZstdWriter::frame_start(uint64_t index) const {
    return std::max<uint64_t>(index * options_.frame_size, head_.size());
}

Status SeekableZstdWriter::emit(std::span<const uint8_t> frame, uint32_t decompressed_size) {
    SeekFrame entry;
    entry.compressed_offset = next_physical_;
    entry.compressed_size = static_cast<uint32_t>(frame.size());
    entry.decompressed_size = decompressed_size;
    entry.checksum = frame_checksum(frame);
    DS_TRY(sink_(next_physical_, frame));
    next_physical_ += frame.size();
    entries_.push_back(entry);
    return {};
}

Status SeekableZstdWriter::write_at(uint64_t offset, std::span<const uint8_t> bytes) {
    if (finished_ || failed_) return Error{name_ + ": the compressed dump is already closed"};
    if (bytes.empty()) return {};
    if (offset > kMaxDecompressedSize || bytes.size() > kMaxDecompressedSize - offset) {
        return Error{
            fmt::format("{}: write of {} bytes at offset {:#x} is past the {} bytes a "
                        "compressed dump may hold",
                        name_, bytes.size(), offset, kMaxDecompressedSize)};
    }
    written_end_ = std::max(written_end_, offset + bytes.size());
    if (offset < head_.size()) {
        const size_t n = std::min<uint64_t>(bytes.size(), head_.size() - offset);
        std::memcpy(head_.data() + offset, bytes.data(), n);
        offset += n;
        bytes = bytes.subspan(n);
        if (bytes.empty()) return {};
    }
    Status s = write_body(offset, bytes);
    if (!s.ok()) failed_ = true;
    return s;
}

Status SeekableZstdWriter::write_body(uint64_t offset, std::span<const uint8_t> bytes) {
    const uint64_t f = options_.frame_size;
    while (!bytes.empty()) {
        const uint64_t index = offset / f;
        // The open frame is next_frame_ - 1; every frame before it has been handed over.
        const uint64_t first_writable = next_frame_ - (frame_open_ ? 1 : 0);
        if (index < first_writable) {
            return Error{
                fmt::format("{}: write at offset {:#x} goes into the zstd frame at "
                            "{:#x}, which is already compressed (memory must be written "
                            "in increasing order after the head of {} bytes)",
                            name_, offset, index * f, head_.size())};
        }
        if (!frame_open_ || index != next_frame_ - 1) {
            if (frame_open_) DS_TRY(close_current((next_frame_)*f));
            DS_TRY(emit_zero_frames_until(index, index * f));
            current_ = compressor_->take_buffer(f);
            current_filled_ = 0;
            frame_open_ = true;
            next_frame_ = index + 1;
        }
        const uint64_t in_frame = offset - index * f;
        const size_t n = std::min<uint64_t>(bytes.size(), f - in_frame);
        // Zeros only where nothing was written: a frame written front to back is never cleared.
        if (in_frame > current_filled_) {
            std::memset(current_.data() + current_filled_, 0, in_frame - current_filled_);
        }
        std::memcpy(current_.data() + in_frame, bytes.data(), n);
        current_filled_ = std::max<uint64_t>(current_filled_, in_frame + n);
        offset += n;
        bytes = bytes.subspan(n);
    }
    return {};
}

// Submits the open frame, cut at `end` (the frame's end, or the end of the file).
Status SeekableZstdWriter::close_current(uint64_t end) {
    const uint64_t index = next_frame_ - 1;
    const uint64_t start = frame_start(index);
    const uint64_t skip = start - index * options_.frame_size;  // the head's part of the frame
    frame_open_ = false;
    if (end <= start) return {};
    const uint64_t used = end - index * options_.frame_size;  // bytes of the buffer kept
    if (used > current_filled_)
        std::memset(current_.data() + current_filled_, 0, used - current_filled_);
    if (skip > 0) std::memmove(current_.data(), current_.data() + skip, end - start);
    return queue_frame(std::move(current_), end - start, index * options_.frame_size);
}

// Emits frames of zeros for every body frame from next_frame_ up to (not including)
// frame_index, none of which starts at or after `end`.
Status SeekableZstdWriter::emit_zero_frames_until(uint64_t frame_index, uint64_t end) {
    const uint64_t f = options_.frame_size;
    for (; next_frame_ < frame_index; ++next_frame_) {
        const uint64_t start = frame_start(next_frame_);
        const uint64_t stop = std::min((next_frame_ + 1) * f, end);
        if (stop <= start) continue;
        if (stop - start == f) {
            DS_TRY(queue_zero_frame());
        } else {
            std::vector<uint8_t> zeros = compressor_->take_buffer(stop - start);
            std::memset(zeros.data(), 0, stop - start);
            DS_TRY(queue_frame(std::move(zeros), stop - start, next_frame_ * f));
        }
    }
    return {};
}

Result<uint64_t> SeekableZstdWriter::finish(uint64_t decompressed_size) {
    if (finished_ || failed_) return Error{name_ + ": the compressed dump is already closed"};
    failed_ = true;  // until the end is reached
    if (decompressed_size < written_end_) {
        return Error{fmt::format("{}: final size {} is smaller than the {} bytes written", name_,
                                 decompressed_size, written_end_)};
    }
    if (decompressed_size > kMaxDecompressedSize) {
        return Error{fmt::format("{}: {} bytes is more than a compressed dump may hold ({})", name_,
                                 decompressed_size, kMaxDecompressedSize)};
    }
    const uint64_t f = options_.frame_size;
    if (frame_open_) DS_TRY(close_current(std::min(next_frame_ * f, decompressed_size)));
    set_never_block(false);  // whatever the caller said: the end waits for every frame
    DS_TRY(emit_zero_frames_until((decompressed_size + f - 1) / f, decompressed_size));
    DS_TRY(compressor_->drain());
    std::vector<SeekFrame> body = std::move(entries_);
    entries_.clear();
    const uint64_t physical_end = next_physical_;

    // The head frames go into the slot at the start.
    next_physical_ = 0;
    const uint64_t head_end = std::min<uint64_t>(head_.size(), decompressed_size);
    for (uint64_t at = 0; at < head_end; at += f) {
        const uint64_t n = std::min<uint64_t>(f, head_end - at);
        std::vector<uint8_t> buffer = compressor_->take_buffer(n);
        std::memcpy(buffer.data(), head_.data() + at, n);
        DS_TRY(compressor_->submit(std::move(buffer), n));
        ++stats_.frames;
    }
    DS_TRY(compressor_->drain());
    if (slot_size_ > 0) {
        if (next_physical_ + kSkippableHeaderSize > slot_size_) {
            return Error{
                fmt::format("{}: the head's zstd frames ({} bytes) overflow their slot "
                            "of {} bytes",
                            name_, next_physical_, slot_size_)};
        }
        // Padding: a skippable frame over the rest of the slot, written whole so that the file
        // is the same on any sink.
        const uint64_t pad = slot_size_ - next_physical_;
        std::vector<uint8_t> padding(pad, 0);
        const uint32_t magic = kSkippableMagicFirst;
        const uint32_t content = static_cast<uint32_t>(pad - kSkippableHeaderSize);
        std::memcpy(padding.data(), &magic, 4);
        std::memcpy(padding.data() + 4, &content, 4);
        DS_TRY(sink_(next_physical_, padding));
        SeekFrame entry;
        entry.compressed_offset = next_physical_;
        entry.compressed_size = static_cast<uint32_t>(pad);
        entry.decompressed_size = 0;
        // XXH64 of no bytes, as the checksums of the other frames are: take it from a frame.
        auto empty = OrderedCompressor::compress_frame(options_.level, {});
        if (!empty.ok()) return Error{name_ + ": " + empty.error().message};
        entry.checksum = frame_checksum(*empty);
        entries_.push_back(entry);
    }
    entries_.insert(entries_.end(), body.begin(), body.end());

    std::vector<uint8_t> table = encode_seek_table(entries_);
    DS_TRY(sink_(physical_end, table));
    uint64_t decompressed = 0;
    for (SeekFrame& e : entries_) {
        e.decompressed_offset = decompressed;
        decompressed += e.decompressed_size;
    }
    if (decompressed != decompressed_size) {
        return Error{fmt::format("{}: the zstd frames hold {} bytes, expected {}", name_,
                                 decompressed, decompressed_size)};
    }
    finished_ = true;
    failed_ = false;
    if (backlog_timed_) {
        stats_.backlog_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - blocking_since_)
                                .count();
    }
    return physical_end + table.size();
}

}  // namespace dumpscope::compress
