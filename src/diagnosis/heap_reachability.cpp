#include "diagnosis/heap_reachability.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <set>
#include <thread>

#include "arch/arch.h"
#include "diagnosis/chunk_index.h"
#include "diagnosis/forward_scan.h"
#include "diagnosis/glibc_mmapped_chunks.h"

namespace dumpscope {

namespace {

constexpr uint64_t kRedZone = 128;
constexpr uint64_t kWindow = 1u << 20;
constexpr uint64_t kPage = 4096;
constexpr uint32_t kNoSlot = UINT32_MAX;
// Marker's flags per chunk, in Reachability::reachable while marking: reached, and watched (set
// at the start, never changed).
constexpr uint8_t kReached = 1;
constexpr uint8_t kWatched = 2;

class Marker {
public:
    Marker(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
           std::span<const uint64_t> watch, const ReachabilityLimits& limits, Reachability& out)
        : memory_(*snapshot.memory),
          chunks_(chunks),
          index_(chunks),
          limits_(limits),
          out_(out),
          slot_(chunks.size(), kNoSlot),
          buffer_(kWindow),
          roots_scan_(*snapshot.memory) {
        out_.reachable.assign(chunks.size(), 0);
        out_.referrers.assign(watch.size(), {});
        for (size_t i = 0; i < watch.size(); ++i) {
            if (const uint32_t index = index_.at(watch[i]); index != ChunkIndex::kNone) {
                slot_[index] = static_cast<uint32_t>(i);
                out_.reachable[index] = kWatched;
            }
        }
    }

    bool out_of_budget() const { return out_.scanned_bytes >= limits_.max_scan_bytes; }

    // Reads every chunk once, front to back, and keeps which chunks each points to: the drain
    // then follows these edges without reading the dump again in the random order marking
    // takes (which would touch the heap's pages in any order and keep them all resident).
    // Only when the pass cannot run out of budget (`most_root_bytes`: the most the roots can
    // add), so that what is scanned and found is exactly what reading each chunk when it is
    // marked finds; and only up to limits.max_graph_edges pointers, else chunks are read when
    // marked. A large heap is read in two halves on two threads (the pass is bound by reading
    // the dump's pages), and the halves joined: the graph is the same as one thread's.
    void build_graph(uint64_t most_root_bytes) {
        uint64_t most = most_root_bytes;
        uint64_t heap_bytes = 0;
        for (const HeapChunk& c : chunks_) heap_bytes += scan_end(c) - c.user_address();
        most += heap_bytes;
        if (most >= limits_.max_scan_bytes || chunks_.size() >= kNoSlot) return;
        const bool two =
            heap_bytes >= limits_.two_threads_from_bytes && std::thread::hardware_concurrency() > 1;
        size_t half = chunks_.size();
        if (two) {
            uint64_t bytes = 0;
            for (half = 0; half < chunks_.size() && bytes < heap_bytes / 2; ++half)
                bytes += scan_end(chunks_[half]) - chunks_[half].user_address();
        }
        std::array<GraphPart, 2> parts;
        if (half < chunks_.size()) {
            std::exception_ptr failed;
            std::thread second([&] {
                try {
                    scan_part(half, chunks_.size(), parts[1]);
                } catch (...) {
                    failed = std::current_exception();
                }
            });
            scan_part(0, half, parts[0]);
            second.join();
            if (failed) std::rethrow_exception(failed);
        } else {
            scan_part(0, chunks_.size(), parts[0]);
        }
        if (parts[0].edges.size() + parts[1].edges.size() > limits_.max_graph_edges) return;
        edge_begin_.reserve(chunks_.size() + 1);
        for (GraphPart& part : parts) {
            const auto offset = static_cast<uint32_t>(edges_.size());
            for (uint32_t begin : part.edge_begin) edge_begin_.push_back(begin + offset);
            edges_.insert(edges_.end(), part.edges.begin(), part.edges.end());
            watched_edges_.insert(watched_edges_.end(), part.watched_edges.begin(),
                                  part.watched_edges.end());
            short_scans_.insert(short_scans_.end(), part.short_scans.begin(),
                                part.short_scans.end());
            part = GraphPart{};
        }
        edge_begin_.push_back(static_cast<uint32_t>(edges_.size()));
        graph_ = true;
    }

    // Every general register and every 8-byte lane of the vector registers (the architecture's
    // tables, arch/), each value once per thread (xmm0 is the low half of ymm0).
    void registers(const Thread& thread, const CpuContext& regs) {
        for (const arch::NamedRegister& reg : arch::general_registers(regs)) {
            hit(reg.value, [&] {
                return Referrer{Referrer::Kind::kRegister, 0, thread.tid, reg.name, 0};
            });
        }
        std::set<uint64_t> seen;
        for (const arch::VectorRegister& reg : arch::vector_registers(regs)) {
            for (size_t at = 0; at + 8 <= reg.bytes.size(); at += 8) {
                uint64_t word = 0;
                std::memcpy(&word, reg.bytes.data() + at, 8);
                if (!seen.insert(word).second) continue;
                hit(word, [&] {
                    return Referrer{Referrer::Kind::kRegister, 0, thread.tid, reg.name, 0};
                });
            }
        }
    }

    // Scans [start, end) of the dump's memory as a root; returns the bytes it did not hold.
    uint64_t root(uint64_t start, uint64_t end, Referrer::Kind kind, int32_t tid) {
        start = (start + 7) & ~uint64_t{7};
        if (start >= end) return 0;
        const uint64_t present = memory_.bytes_present(start, end - start);
        const uint64_t missing = end - start - std::min(present, end - start);
        if (present == 0) return missing;
        uint64_t p = start;
        // A range the dump holds only in part is read page by page: at most a read per page.
        for (uint64_t reads = 0; p < end && !out_of_budget() && reads <= (end - start) / kPage + 1;
             ++reads) {
            const uint64_t want = std::min<uint64_t>(kWindow, end - p);
            auto n = roots_scan_.read(p, std::span(buffer_.data(), want));
            const size_t got = n.ok() ? *n & ~size_t{7} : 0;
            out_.scanned_bytes += got;
            for (size_t off = 0; off < got; off += 8) {
                uint64_t word = 0;
                std::memcpy(&word, buffer_.data() + off, 8);
                hit(word, [&] { return Referrer{kind, p + off, tid, {}, 0}; });
            }
            p = got == 0 ? (p + kPage) & ~(kPage - 1) : p + got;
        }
        return missing;
    }

    // Once marking is over: out.reachable is 0 or 1 per chunk, and the bytes the graph's chunks
    // were scanned for are counted.
    void finish() {
        for (size_t i = 0; i < chunks_.size(); ++i) {
            out_.reachable[i] &= kReached;
            if (graph_ && out_.reachable[i] != 0) {
                out_.scanned_bytes += scan_end(chunks_[i]) - chunks_[i].user_address();
            }
        }
        if (!graph_) return;
        for (const auto& [i, scanned] : short_scans_) {
            if (out_.reachable[i] != 0) {
                out_.scanned_bytes -= scan_end(chunks_[i]) - chunks_[i].user_address() - scanned;
            }
        }
    }

    // Scans marked chunks until none is left; false when the budget ran out first.
    bool drain() { return graph_ ? drain_graph() : drain_memory(); }

private:
    struct WatchedEdge {
        uint32_t source = 0;   // index of the chunk holding the pointer
        uint64_t address = 0;  // the word
    };

    // The graph of chunks [first, last), as build_graph keeps it (edge_begin relative to the
    // part's own edges).
    struct GraphPart {
        std::vector<uint32_t> edge_begin;
        std::vector<uint32_t> edges;
        std::vector<WatchedEdge> watched_edges;
        std::vector<std::pair<uint32_t, uint64_t>> short_scans;
    };

    // Reads chunks [first, last) and keeps their pointers to chunks in `part`; stops (with more
    // than limits.max_graph_edges edges) once the whole graph is known to be too big. Reads
    // only what the Marker does not change: it runs on two threads at once.
    void scan_part(size_t first, size_t last, GraphPart& part) const {
        ForwardScan scan(memory_);
        std::vector<uint8_t> buffer(kWindow);
        part.edge_begin.reserve(last - first);
        for (size_t i = first; i < last; ++i) {
            part.edge_begin.push_back(static_cast<uint32_t>(part.edges.size()));
            const HeapChunk& c = chunks_[i];
            const uint64_t end = scan_end(c);
            uint64_t scanned = 0;
            // A repeat of the same target adds nothing (unless watched).
            uint32_t previous = kNoSlot;
            for (uint64_t p = c.user_address(); p < end;) {
                const uint64_t want = std::min<uint64_t>(kWindow, end - p);
                // The bytes in place where the dump's range holds them whole words at a time,
                // else a copy (what read() gives, across adjacent ranges).
                std::span<const uint8_t> bytes = scan.view(p, want);
                if (bytes.size() < want && bytes.size() % 8 != 0) bytes = {};
                if (bytes.empty()) {
                    auto n = scan.read(p, std::span(buffer.data(), want));
                    bytes = std::span<const uint8_t>(buffer.data(), n.ok() ? *n : 0);
                }
                const size_t got = bytes.size() & ~size_t{7};
                if (got == 0) break;
                scanned += got;
                for (size_t off = 0; off < got; off += 8) {
                    uint64_t word = 0;
                    std::memcpy(&word, bytes.data() + off, 8);
                    const uint32_t target = target_of(word);
                    if (target == kNoSlot) continue;
                    if ((out_.reachable[target] & kWatched) != 0) {
                        part.watched_edges.push_back(
                            WatchedEdge{static_cast<uint32_t>(i), p + off});
                    } else if (target == previous) {
                        continue;
                    }
                    part.edges.push_back(target);
                    previous = target;
                }
                if (part.edges.size() > limits_.max_graph_edges) return;
                p += got;
            }
            if (scanned != end - c.user_address()) {
                part.short_scans.emplace_back(static_cast<uint32_t>(i), scanned);
            }
        }
    }

    // The end of what a marked chunk's scan reads: its user memory, and for a chunk of an arena
    // the next chunk's prev_size word, which an in-use chunk owns.
    static uint64_t scan_end(const HeapChunk& c) {
        return c.arena == kMmappedChunkArena ? c.address + c.size : c.address + c.size + 8;
    }

    // Follows the graph from the marked chunks. The bytes a chunk's scan read are counted once
    // marking is over (finish()): build_graph made sure that the budget cannot run out.
    bool drain_graph() {
        while (!work_.empty()) {
            const uint32_t i = work_.back();
            work_.pop_back();
            const uint32_t last = edge_begin_[i + 1];
            const WatchedEdge* w = nullptr;  // the next of this chunk's watched edges
            for (uint32_t e = edge_begin_[i]; e < last; ++e) {
                const uint32_t target = edges_[e];
                if ((out_.reachable[target] & kWatched) == 0) {
                    reach(target, [] { return Referrer{}; });
                    continue;
                }
                if (w == nullptr) {
                    w = &*std::lower_bound(
                        watched_edges_.begin(), watched_edges_.end(), i,
                        [](const WatchedEdge& edge, uint32_t k) { return edge.source < k; });
                }
                const uint64_t address = (w++)->address;
                reach(target, [&] {
                    return Referrer{Referrer::Kind::kChunk, address, 0, {}, chunks_[i].address};
                });
            }
        }
        return true;
    }

    bool drain_memory() {
        while (!work_.empty()) {
            if (out_of_budget()) return false;
            const HeapChunk& c = chunks_[work_.back()];
            work_.pop_back();
            const uint64_t end = scan_end(c);
            for (uint64_t p = c.user_address(); p < end && !out_of_budget();) {
                const uint64_t want = std::min<uint64_t>(kWindow, end - p);
                auto n = memory_.read(p, std::span(buffer_.data(), want));
                const size_t got = n.ok() ? *n & ~size_t{7} : 0;
                if (got == 0) break;
                out_.scanned_bytes += got;
                for (size_t off = 0; off < got; off += 8) {
                    uint64_t word = 0;
                    std::memcpy(&word, buffer_.data() + off, 8);
                    hit(word, [&] {
                        return Referrer{Referrer::Kind::kChunk, p + off, 0, {}, c.address};
                    });
                }
                p += got;
            }
        }
        return true;
    }

    // The index of the chunk whose user memory holds `word`, or kNoSlot.
    uint32_t target_of(uint64_t word) const { return index_.holding(word); }

    // Marks the chunk `word` points into, if any; `where` makes the Referrer (only for a
    // watched chunk).
    template <class Where>
    void hit(uint64_t word, Where where) {
        if (const uint32_t index = target_of(word); index != kNoSlot) reach(index, where);
    }

    template <class Where>
    void reach(uint32_t index, Where where) {
        uint8_t& flags = out_.reachable[index];
        if ((flags & kWatched) != 0) note_referrer(index, where());
        if ((flags & kReached) != 0) return;
        flags |= kReached;
        work_.push_back(index);
    }

    void note_referrer(uint32_t index, const Referrer& where) {
        auto& list = out_.referrers[slot_[index]];
        const bool known = std::any_of(list.begin(), list.end(), [&](const Referrer& r) {
            return r.kind == where.kind && r.address == where.address && r.tid == where.tid &&
                   r.reg == where.reg;
        });
        if (!known && list.size() < limits_.referrers_per_chunk) list.push_back(where);
    }

    const MemorySource& memory_;
    std::span<const HeapChunk> chunks_;
    ChunkIndex index_;
    const ReachabilityLimits& limits_;
    Reachability& out_;
    std::vector<uint32_t> slot_;  // per chunk: its index in `watch`, or kNoSlot
    std::vector<uint32_t> work_;  // marked, not yet scanned
    std::vector<uint8_t> buffer_;
    ForwardScan roots_scan_;
    // The pointer graph (build_graph): chunk i points to edges_[edge_begin_[i] ..
    // edge_begin_[i + 1]), in the order of the words; watched_edges_ has the word of each edge
    // to a watched chunk, in the same order; short_scans_ the chunks the dump holds only in part
    // (their bytes scanned).
    bool graph_ = false;
    std::vector<uint32_t> edge_begin_;
    std::vector<uint32_t> edges_;
    std::vector<WatchedEdge> watched_edges_;
    std::vector<std::pair<uint32_t, uint64_t>> short_scans_;
};

// [start, end) minus the sorted, merged `excluded` ranges.
std::vector<std::pair<uint64_t, uint64_t>> subtract(
    uint64_t start, uint64_t end, std::span<const std::pair<uint64_t, uint64_t>> excluded) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    uint64_t p = start;
    for (const auto& [a, b] : excluded) {
        if (b <= p) continue;
        if (a >= end) break;
        if (a > p) out.emplace_back(p, a);
        p = std::max(p, b);
        if (p >= end) break;
    }
    if (p < end) out.emplace_back(p, end);
    return out;
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> heap_ranges(const Snapshot& snapshot,
                                                       const HeapWalk& walk,
                                                       std::span<const HeapChunk> more_chunks) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const ArenaSummary& a : walk.arenas) {
        for (const HeapSegment& s : a.segments) {
            if (const Mapping* m = snapshot.mapping_at(s.start)) {
                ranges.emplace_back(m->start, m->end);
            } else {
                ranges.emplace_back(s.start, s.end);
            }
        }
        if (a.top_chunk != 0 && a.top_size != 0) {
            ranges.emplace_back(a.top_chunk, a.top_chunk + std::max<uint64_t>(a.top_size, 16));
        }
    }
    for (const HeapChunk& c : more_chunks) ranges.emplace_back(c.address, c.address + c.size);
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

Reachability find_reachable(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
                            std::span<const std::pair<uint64_t, uint64_t>> excluded,
                            std::span<const uint64_t> watch, const ReachabilityLimits& limits) {
    Reachability out;
    if (!snapshot.memory) {
        out.note = "the dump has no memory";
        return out;
    }
    Marker marker(snapshot, chunks, watch, limits, out);
    // The most the roots can add to the bytes scanned: every writable mapping, and each
    // thread's stack once more for its registers (twice for the thread of the exception).
    uint64_t most_root_bytes = 0;
    for (const Mapping& m : snapshot.mappings) {
        if (m.write && m.read && !m.io) most_root_bytes += m.size();
    }
    for (const Thread& t : snapshot.threads) {
        if (const Mapping* m = snapshot.mapping_at(t.regs.sp())) most_root_bytes += m->size();
    }
    if (snapshot.exception) {
        if (const Mapping* m = snapshot.mapping_at(snapshot.exception->context.sp())) {
            most_root_bytes += m->size();
        }
    }
    marker.build_graph(most_root_bytes);
    // Registers and the live part of each thread's stack.
    std::vector<std::pair<uint64_t, uint64_t>> stacks;
    auto add_thread = [&](const Thread& t, const CpuContext& regs) {
        marker.registers(t, regs);
        const uint64_t sp = regs.sp();
        const Mapping* m = snapshot.mapping_at(sp);
        if (m == nullptr) return;
        const uint64_t from = sp - std::min(kRedZone, sp - m->start);
        marker.root(from, m->end, Referrer::Kind::kStack, t.tid);
        stacks.emplace_back(m->start, m->end);
    };
    for (const Thread& t : snapshot.threads) add_thread(t, t.regs);
    if (snapshot.exception) {
        for (const Thread& t : snapshot.threads) {
            if (t.tid == snapshot.exception->tid) add_thread(t, snapshot.exception->context);
        }
    }
    // Every other writable mapping, less the heaps and the stacks.
    std::vector<std::pair<uint64_t, uint64_t>> skip(excluded.begin(), excluded.end());
    skip.insert(skip.end(), stacks.begin(), stacks.end());
    std::sort(skip.begin(), skip.end());
    for (const Mapping& m : snapshot.mappings) {
        if (!m.write || !m.read || m.io) continue;
        MissingRoot missing{m.start, m.end, 0, m.path};
        for (const auto& [a, b] : subtract(m.start, m.end, skip)) {
            missing.missing_bytes += marker.root(a, b, Referrer::Kind::kMemory, 0);
            if (!marker.drain()) break;
        }
        if (missing.missing_bytes != 0) out.missing_roots.push_back(std::move(missing));
        if (marker.out_of_budget()) break;
    }
    out.complete = marker.drain() && !marker.out_of_budget();
    marker.finish();
    if (!out.complete) {
        out.note = fmt::format(
            "the reachability pass stopped after {} bytes (its limit): no chunk is called "
            "unreachable",
            out.scanned_bytes);
        return out;
    }
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (out.reachable[i] != 0) continue;
        ++out.unreachable_chunks;
        out.unreachable_bytes += chunks[i].size;
    }
    return out;
}

}  // namespace dumpscope
