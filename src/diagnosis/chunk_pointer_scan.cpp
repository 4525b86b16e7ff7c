#include "diagnosis/chunk_pointer_scan.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include "diagnosis/forward_scan.h"
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
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (const auto& r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    return merged;
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

// The chunks in address order: they come in runs, each heap's in order, the heaps in any order
// (a run per heap). Runs are put in order of their first chunk; a dump whose heaps overlap gets
// a plain sort.
void sort_by_address(std::vector<ScannedChunk>& chunks) {
    const auto by_address = [](const ScannedChunk& a, const ScannedChunk& b) {
        return a.address < b.address;
    };
    if (std::is_sorted(chunks.begin(), chunks.end(), by_address)) return;
    std::vector<std::pair<size_t, size_t>> runs;  // [begin, end)
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (runs.empty() || chunks[i].address < chunks[i - 1].address) runs.emplace_back(i, i);
        runs.back().second = i + 1;
    }
    std::sort(runs.begin(), runs.end(), [&](const auto& a, const auto& b) {
        return chunks[a.first].address < chunks[b.first].address;
    });
    std::vector<ScannedChunk> sorted;
    sorted.reserve(chunks.size());
    for (const auto& [begin, end] : runs) {
        sorted.insert(sorted.end(), chunks.begin() + static_cast<ptrdiff_t>(begin),
                      chunks.begin() + static_cast<ptrdiff_t>(end));
    }
    if (!std::is_sorted(sorted.begin(), sorted.end(), by_address)) {
        std::sort(sorted.begin(), sorted.end(), by_address);
    }
    chunks = std::move(sorted);
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

ChunkPointerScan::ChunkPointerScan(const Snapshot& snapshot, uint64_t max_words)
    : snapshot_(snapshot), max_words_(max_words) {
    out_.kept_ranges = writable_ranges(snapshot);
    if (!snapshot.memory || out_.kept_ranges.empty()) {
        given_up_ = true;
        return;
    }
    lowest_ = out_.kept_ranges.front().first;
    highest_ = out_.kept_ranges.back().second;
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
        const bool was_empty = pending_.empty();
        try {
            for (const HeapChunk& c : chunks) {
                if (c.state == ChunkState::kInUse) pending_.push_back(c);
            }
        } catch (const std::exception&) {
            given_up_ = true;
            pending_.clear();
        }
        if (!was_empty) return;
    }
    wake_.notify_one();
}

ScannedChunks ChunkPointerScan::finish() {
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
    ScannedChunks out = std::move(out_);
    out_ = ScannedChunks{};
    out.usable = !given_up_;
    if (!out.usable) return ScannedChunks{};
    sort_by_address(out.chunks);
    return out;
}

void ChunkPointerScan::run() {
    try {
        ForwardScan scan(*snapshot_.memory);
        std::vector<uint8_t> buffer(kWindow);
        std::vector<HeapChunk> batch;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return done_ || given_up_ || !pending_.empty(); });
                if (given_up_ || pending_.empty()) return;  // done, or told to stop
                batch.swap(pending_);
                pending_.clear();
            }
            for (const HeapChunk& c : batch) {
                // What the reachability pass reads of it (up to the next chunk's prev_size).
                const uint64_t start = c.user_address();
                const uint64_t end = chunk_scan_end(c);
                if (c.size > UINT32_MAX || end < start) {
                    std::lock_guard lock(mutex_);
                    given_up_ = true;
                    return;
                }
                const auto first = static_cast<uint32_t>(out_.values.size());
                const uint64_t read = for_each_piece(
                    scan, buffer, start, end, [&](std::span<const uint8_t> bytes, uint64_t at) {
                        keep_pointer_like(bytes, static_cast<uint32_t>(at - start));
                        return out_.values.size() <= max_words_;
                    });
                const auto last = static_cast<uint32_t>(out_.values.size());
                if (last != first || read != end - start) {
                    out_.chunks.push_back(ScannedChunk{c.address, first, last, read});
                }
                if (out_.values.size() > max_words_) {
                    std::lock_guard lock(mutex_);
                    given_up_ = true;
                    return;
                }
            }
            batch.clear();
        }
    } catch (const std::exception&) {
        std::lock_guard lock(mutex_);
        given_up_ = true;
    }
}

void ChunkPointerScan::keep_pointer_like(std::span<const uint8_t> bytes, uint32_t offset) {
    const uint64_t lowest = lowest_, span = highest_ - lowest_;
    const size_t words = bytes.size() / 8;
    const auto keep = [&](size_t k) {
        uint64_t word = 0;
        std::memcpy(&word, bytes.data() + 8 * k, 8);
        if (word - lowest >= span || !in_kept_range(word)) return;
        out_.values.push_back(word);
        out_.offsets.push_back(offset + static_cast<uint32_t>(8 * k));
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
    const auto& ranges = out_.kept_ranges;
    auto it = std::upper_bound(
        ranges.begin(), ranges.end(), word,
        [](uint64_t w, const std::pair<uint64_t, uint64_t>& r) { return w < r.first; });
    return it != ranges.begin() && word < std::prev(it)->second;
}

}  // namespace dumpscope
