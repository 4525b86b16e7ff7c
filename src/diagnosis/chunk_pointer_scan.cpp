#include "diagnosis/chunk_pointer_scan.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <initializer_list>

#include "common/address_ranges.h"
#include "diagnosis/heap_pointer_graph.h"

namespace dumpscope {

namespace {

constexpr uint64_t kWindow = 1u << 20;

// Writable memory of the dump, sorted and merged: where chunks can lie.
std::vector<std::pair<uint64_t, uint64_t>> writable_ranges(const Snapshot& snapshot) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const Mapping& m : snapshot.mappings) {
        if (m.read && m.write && !m.io && m.end > m.start) ranges.emplace_back(m.start, m.end);
    }
    return sorted_merged(std::move(ranges));
}

// How many of the `words` 8-byte words at `bytes` lie outside [lowest, lowest + span), counted
// from the first in steps of eight (the rest is looked at one by one by the caller): in vector
// registers, with AVX2 where the CPU has it.
__attribute__((target_clones("avx2", "default"))) size_t words_outside(const uint8_t* bytes,
                                                                       size_t words,
                                                                       uint64_t lowest,
                                                                       uint64_t span) {
    using Lanes = uint64_t __attribute__((vector_size(32)));
    size_t k = 0;
    for (; k + 8 <= words; k += 8) {
        Lanes a;
        Lanes b;
        std::memcpy(&a, bytes + 8 * k, 32);
        std::memcpy(&b, bytes + 8 * k + 32, 32);
        const Lanes in = ((a - lowest) < span) | ((b - lowest) < span);
        if ((in[0] | in[1] | in[2] | in[3]) != 0) break;
    }
    return k;
}

// The readers' shares as one: their words one after the other, their records in address order
// (the runs put in order of their first record; a dump whose heaps overlap gets a plain sort).
ScannedChunks merge(std::initializer_list<const ChunkPointerScan::Share*> shares) {
    ScannedChunks out;
    size_t values = 0;
    size_t records = 0;
    for (const auto* share : shares) {
        values += share->values.size();
        records += share->chunks.size();
    }
    out.values.reserve(values);
    out.offsets.reserve(values);
    struct Run {
        const ChunkPointerScan::Share* share;
        size_t begin, end;
        uint32_t shift;  // where the share's words start in out.values
    };
    std::vector<Run> runs;
    for (const auto* share : shares) {
        const auto shift = static_cast<uint32_t>(out.values.size());
        out.values.insert(out.values.end(), share->values.begin(), share->values.end());
        out.offsets.insert(out.offsets.end(), share->offsets.begin(), share->offsets.end());
        for (const auto& [begin, end] : share->runs) {
            if (begin < end) runs.push_back(Run{share, begin, end, shift});
        }
    }
    std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
        return a.share->chunks[a.begin].address < b.share->chunks[b.begin].address;
    });
    out.chunks.reserve(records);
    for (const Run& run : runs) {
        for (size_t i = run.begin; i < run.end; ++i) {
            ScannedChunk c = run.share->chunks[i];
            c.first += run.shift;
            c.last += run.shift;
            out.chunks.push_back(c);
        }
    }
    const auto by_address = [](const ScannedChunk& a, const ScannedChunk& b) {
        return a.address < b.address;
    };
    if (!std::is_sorted(out.chunks.begin(), out.chunks.end(), by_address)) {
        std::sort(out.chunks.begin(), out.chunks.end(), by_address);
    }
    return out;
}

}  // namespace

bool ScannedChunks::covers(std::span<const HeapChunk> heap) const {
    // Both sorted: one pass over each.
    size_t r = 0;
    for (const HeapChunk& c : heap) {
        if (c.size > UINT64_MAX - c.address) return false;
        while (r < kept_ranges.size() && kept_ranges[r].second <= c.address) ++r;
        if (r == kept_ranges.size() || c.address < kept_ranges[r].first ||
            c.address + c.size > kept_ranges[r].second) {
            return false;
        }
    }
    return true;
}

ScannedChunks::Cursor::Cursor(const ScannedChunks* scanned, uint64_t from) : scanned_(scanned) {
    if (scanned_ == nullptr) return;
    next_ = static_cast<size_t>(
        std::lower_bound(scanned_->chunks.begin(), scanned_->chunks.end(), from,
                         [](const ScannedChunk& c, uint64_t a) { return c.address < a; }) -
        scanned_->chunks.begin());
}

const ScannedChunk* ScannedChunks::Cursor::find(uint64_t address) {
    if (scanned_ == nullptr) return nullptr;
    const std::vector<ScannedChunk>& records = scanned_->chunks;
    while (next_ < records.size() && records[next_].address < address) ++next_;
    return next_ < records.size() && records[next_].address == address ? &records[next_] : nullptr;
}

ChunkPointerScan::ChunkPointerScan(const Snapshot& snapshot, uint64_t max_words, uint64_t max_bytes)
    : snapshot_(snapshot),
      max_words_(max_words),
      max_bytes_(max_bytes),
      kept_ranges_(writable_ranges(snapshot)) {
    if (!snapshot.memory || kept_ranges_.empty()) {
        given_up_ = true;
        return;
    }
    lowest_ = kept_ranges_.front().first;
    highest_ = kept_ranges_.back().second;
    thread_ = std::thread([this] { run(); });
}

ChunkPointerScan::~ChunkPointerScan() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        done_ = true;
        given_up_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void ChunkPointerScan::walked(std::span<const HeapChunk> chunks) {
    {
        std::lock_guard lock(mutex_);
        if (given_up_ || done_) return;
        try {
            std::vector<HeapChunk> batch;
            batch.reserve(chunks.size());
            for (const HeapChunk& c : chunks) {
                if (c.state == ChunkState::kInUse) batch.push_back(c);
            }
            if (batch.empty()) return;
            pending_.push_back(std::move(batch));
        } catch (const std::exception&) {
            given_up_ = true;
            pending_.clear();
        }
        if (pending_.size() != 1) return;  // the thread is busy: it takes the next one itself
    }
    wake_.notify_one();
}

ScannedChunks ChunkPointerScan::finish() {
    Share mine;
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        wake_.notify_one();
        try {
            read_batches(mine, /*wait_for_more=*/false);
        } catch (const std::exception&) {
            std::lock_guard lock(mutex_);
            given_up_ = true;
        }
        thread_.join();
    }
    if (given_up_ || thread_share_.values.size() + mine.values.size() > max_words_) return {};
    ScannedChunks out = merge({&thread_share_, &mine});
    out.kept_ranges = kept_ranges_;
    out.usable = true;
    thread_share_ = Share{};
    return out;
}

void ChunkPointerScan::run() {
    try {
        read_batches(thread_share_, /*wait_for_more=*/true);
    } catch (const std::exception&) {
        std::lock_guard lock(mutex_);
        given_up_ = true;
    }
}

void ChunkPointerScan::read_batches(Share& share, bool wait_for_more) {
    ForwardScan scan(*snapshot_.memory);
    std::vector<uint8_t> buffer(kWindow);
    for (;;) {
        std::vector<HeapChunk> batch;
        {
            std::unique_lock lock(mutex_);
            if (wait_for_more) {
                wake_.wait(lock, [&] { return done_ || given_up_ || !pending_.empty(); });
            }
            if (given_up_ || pending_.empty()) return;  // all read, or told to stop
            batch = std::move(pending_.front());
            pending_.pop_front();
        }
        if (!read_batch(batch, scan, buffer, share)) {
            std::lock_guard lock(mutex_);
            given_up_ = true;
            return;
        }
    }
}

bool ChunkPointerScan::read_batch(const std::vector<HeapChunk>& batch, ForwardScan& scan,
                                  std::vector<uint8_t>& buffer, Share& share) const {
    const size_t run_begin = share.chunks.size();
    for (const HeapChunk& c : batch) {
        // What the reachability pass reads of it (up to the next chunk's prev_size).
        const uint64_t start = c.user_address();
        const uint64_t end = chunk_scan_end(c);
        if (c.size > UINT32_MAX || end < start) return false;
        share.bytes_read += end - start;
        if (share.bytes_read > max_bytes_) return false;
        const auto first = static_cast<uint32_t>(share.values.size());
        const uint64_t read = for_each_piece(
            scan, buffer, start, end, [&](std::span<const uint8_t> bytes, uint64_t at) {
                keep_pointer_like(bytes, static_cast<uint32_t>(at - start), share);
                return share.values.size() <= max_words_;
            });
        if (share.values.size() > max_words_) return false;
        const auto last = static_cast<uint32_t>(share.values.size());
        if (last != first || read != end - start) {
            share.chunks.push_back(ScannedChunk{c.address, first, last, read});
        }
    }
    share.runs.emplace_back(run_begin, share.chunks.size());
    return true;
}

void ChunkPointerScan::keep_pointer_like(std::span<const uint8_t> bytes, uint32_t offset,
                                         Share& share) const {
    const uint64_t lowest = lowest_, span = highest_ - lowest_;
    const size_t words = bytes.size() / 8;
    const auto keep = [&](size_t k) {
        uint64_t word = 0;
        std::memcpy(&word, bytes.data() + 8 * k, 8);
        if (word - lowest >= span || !in_kept_range(word)) return;
        share.values.push_back(word);
        share.offsets.push_back(offset + static_cast<uint32_t>(8 * k));
    };
    // Most words are not even between the lowest and highest address: eight at a time,
    // without a branch per word, and one by one only where one of the eight is.
    size_t k = 0;
    while (k < words) {
        k += words_outside(bytes.data() + 8 * k, words - k, lowest, span);
        const size_t block_end = std::min(words, k + 8);
        for (; k < block_end; ++k) keep(k);
    }
}

bool ChunkPointerScan::in_kept_range(uint64_t word) const {
    auto it = std::upper_bound(
        kept_ranges_.begin(), kept_ranges_.end(), word,
        [](uint64_t w, const std::pair<uint64_t, uint64_t>& r) { return w < r.first; });
    return it != kept_ranges_.begin() && word < std::prev(it)->second;
}

}  // namespace dumpscope
