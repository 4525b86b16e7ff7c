// Reads of a dump's memory at addresses that mostly grow (a scan front to back, such as a heap
// walk). A plain dump file kept open (RangeMemorySource::copies_by_file) is read by pread into a
// window that grows while the reads go forward (64 KiB to 1 MiB) and starts small again after a
// jump: no page of the mapping is touched, which in a VM is five times faster than reading
// through it (page tables, TLB misses) and keeps nothing of the dump resident. Otherwise the
// scan reads in place and lets go of the pages it has passed (RangeMemorySource::release) once it
// is a few megabytes past them: scanning a gigabyte of heap keeps megabytes of it resident, not
// the gigabyte; a read behind or far ahead of the scan releases what was held and starts over
// there. Other memory sources are read as they are.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/result.h"
#include "snapshot/memory_source.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope {

class ForwardScan {
public:
    // Each release drops page-table entries and flushes the TLB (costly in a VM): a scan lets go
    // of what it passed in steps of this much.
    static constexpr uint64_t kKeep = 16u << 20;
    // The pages ahead of a scan are mapped this much at a time, in one call each
    // (RangeMemorySource::will_read), rather than a page fault every 64 KiB.
    static constexpr uint64_t kAhead = 4u << 20;

    // The window of copied reads: its first size after a jump, and the most it grows to.
    static constexpr uint64_t kFirstWindow = 64u << 10;
    static constexpr uint64_t kLargestWindow = 1u << 20;

    explicit ForwardScan(const MemorySource& memory, uint64_t keep = kKeep)
        : memory_(memory),
          ranges_(dynamic_cast<const RangeMemorySource*>(&memory)),
          copies_(ranges_ != nullptr && ranges_->copies_by_file()),
          keep_(keep) {}
    ~ForwardScan() { release_held(); }
    ForwardScan(const ForwardScan&) = delete;
    ForwardScan& operator=(const ForwardScan&) = delete;

    // memory.read(addr, out), the bytes read noted as passed once the scan moves on.
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out);
    // The 8-byte word at addr; false when the dump does not hold all of it.
    bool word(uint64_t addr, uint64_t& out);
    // The bytes from addr on, up to `size`: in place (a dump file's mapping, as far as the
    // dump's range holding addr goes; valid as long as the source) or in the window of copied
    // reads (as far as the dump holds them; valid until the next call on this scan). Empty when
    // addr is not in the dump or the source has no bytes in place (then read()).
    std::span<const uint8_t> view(uint64_t addr, uint64_t size);

private:
    void note(uint64_t addr, uint64_t size);
    void release_held();
    std::span<const uint8_t> copied(uint64_t addr, uint64_t size);

    const MemorySource& memory_;
    const RangeMemorySource* ranges_;  // null: nothing to release
    bool copies_;                      // reads by pread into window_ (nothing to release)
    std::vector<uint8_t> window_;
    uint64_t window_base_ = 0, window_size_ = 0;  // what window_ holds
    uint64_t next_window_ = kFirstWindow;
    uint64_t keep_;
    uint64_t from_ = 0, to_ = 0;                // read since the last release
    uint64_t mapped_from_ = 0, mapped_to_ = 0;  // mapped ahead by will_read
};

// Calls f(bytes, address) for the bytes of [from, to) front to back (`from` aligned), in pieces
// of whole 8-byte words, as far as the dump holds whole words: in place where a range of the dump
// holds the bytes, else copied into `buffer` (its size is the most read at a time). Stops early
// when f returns false. Returns the bytes read: less than to - from where the dump lacks the rest.
template <class F>
uint64_t for_each_piece(ForwardScan& scan, std::vector<uint8_t>& buffer, uint64_t from, uint64_t to,
                        F&& f) {
    uint64_t scanned = 0;
    for (uint64_t p = from; p < to;) {
        const uint64_t want = std::min<uint64_t>(buffer.size(), to - p);
        // What read() gives when the range in place ends within a word (adjacent ranges).
        std::span<const uint8_t> bytes = scan.view(p, want);
        if (bytes.size() < want && bytes.size() % 8 != 0) bytes = {};
        if (bytes.empty()) {
            auto n = scan.read(p, std::span(buffer.data(), want));
            bytes = std::span<const uint8_t>(buffer.data(), n.ok() ? *n : 0);
        }
        const size_t got = bytes.size() & ~size_t{7};
        if (got == 0) break;
        scanned += got;
        if (!f(bytes.first(got), p)) return scanned;
        p += got;
    }
    return scanned;
}

// Calls f(word, address) for each 8-byte word of [from, to), as for_each_piece reads them; stops
// early when f returns false. Returns the bytes read.
template <class F>
uint64_t for_each_word(ForwardScan& scan, std::vector<uint8_t>& buffer, uint64_t from, uint64_t to,
                       F&& f) {
    return for_each_piece(scan, buffer, from, to,
                          [&](std::span<const uint8_t> bytes, uint64_t address) {
                              for (size_t off = 0; off < bytes.size(); off += 8) {
                                  uint64_t word = 0;
                                  std::memcpy(&word, bytes.data() + off, 8);
                                  if (!f(word, address + off)) return false;
                              }
                              return true;
                          });
}

// Reads all over a dump's memory (free lists): the pages read (and those the kernel mapped
// around them) are let go of every `batch` reads, in one release of the span they lie in, so
// that following long lists does not keep most of a mapped dump resident.
class ScatteredReads {
public:
    explicit ScatteredReads(const MemorySource& memory, uint32_t batch = 256)
        : memory_(memory),
          ranges_(dynamic_cast<const RangeMemorySource*>(&memory)),
          batch_(batch) {}
    ~ScatteredReads() { flush(); }
    ScatteredReads(const ScatteredReads&) = delete;
    ScatteredReads& operator=(const ScatteredReads&) = delete;

    Result<size_t> read(uint64_t addr, std::span<uint8_t> out);
    bool word(uint64_t addr, uint64_t& out);

private:
    void flush();

    const MemorySource& memory_;
    const RangeMemorySource* ranges_;  // null: nothing to release
    uint32_t batch_;
    uint32_t count_ = 0;
    uint64_t lowest_ = UINT64_MAX, highest_ = 0;
};

// Words of memory read front to back through a window (1 MiB; the dump file's bytes in place
// when it is mapped, else a copy): each page is read once, and let go of when the window moves
// on.
class WindowReader {
public:
    explicit WindowReader(const MemorySource& memory, size_t window = 1u << 20)
        : scan_(memory), size_(window) {}

    bool word(uint64_t addr, uint64_t& out);
    uint64_t bytes_read() const { return bytes_read_; }

private:
    void refill(uint64_t addr);

    ForwardScan scan_;
    size_t size_;
    std::vector<uint8_t> buffer_;  // the copy, for sources without bytes in place
    uint64_t base_ = 0;
    std::span<const uint8_t> window_;
    uint64_t bytes_read_ = 0;
};

}  // namespace dumpscope
