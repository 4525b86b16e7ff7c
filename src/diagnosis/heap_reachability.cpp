#include "diagnosis/heap_reachability.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "arch/arch.h"
#include "common/address_ranges.h"
#include "diagnosis/chunk_index.h"
#include "diagnosis/forward_scan.h"
#include "diagnosis/glibc_mmapped_chunks.h"
#include "diagnosis/heap_pointer_graph.h"

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
    // `graph`: the pointers between `chunks` (built for them), or null.
    Marker(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
           std::span<const uint64_t> watch, const ReachabilityLimits& limits,
           const PointerGraph* graph, Reachability& out)
        : memory_(*snapshot.memory),
          chunks_(chunks),
          limits_(limits),
          out_(out),
          given_graph_(graph),
          slot_(chunks.size(), kNoSlot),
          buffer_(kWindow),
          roots_scan_(*snapshot.memory) {
        if (graph == nullptr) own_index_.emplace(chunks);
        out_.reachable.assign(chunks.size(), 0);
        out_.referrers.assign(watch.size(), {});
        for (size_t i = 0; i < watch.size(); ++i) {
            if (const uint32_t chunk = index().at(watch[i]); chunk != ChunkIndex::kNone) {
                slot_[chunk] = static_cast<uint32_t>(i);
                out_.reachable[chunk] = kWatched;
            }
        }
    }

    bool out_of_budget() const { return out_.scanned_bytes >= limits_.max_scan_bytes; }

    // Follows the pointers between chunks in a graph (the given one, else one read now) rather
    // than reading each chunk of the dump when it is marked: only when the pass cannot run out
    // of budget (pointer_graph_fits), so that what is scanned and found is exactly what reading
    // each chunk when it is marked finds, and only when the graph is complete
    // (limits.max_graph_edges).
    void use_graph(const Snapshot& snapshot) {
        if (!pointer_graph_fits(snapshot, chunks_, limits_)) return;
        if (given_graph_ == nullptr) {
            own_graph_.emplace(PointerGraph::build(
                memory_, chunks_, nullptr,
                PointerGraphLimits{limits_.max_graph_edges, limits_.two_threads_from_bytes}));
        }
        const PointerGraph& graph = given_graph_ != nullptr ? *given_graph_ : *own_graph_;
        if (graph.complete()) graph_ = &graph;
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
            if (graph_ != nullptr && out_.reachable[i] != 0) {
                out_.scanned_bytes += chunk_scan_end(chunks_[i]) - chunks_[i].user_address();
            }
        }
        if (graph_ == nullptr) return;
        for (const auto& [i, scanned] : graph_->short_scans()) {
            if (out_.reachable[i] != 0) {
                out_.scanned_bytes -=
                    chunk_scan_end(chunks_[i]) - chunks_[i].user_address() - scanned;
            }
        }
    }

    // Scans marked chunks until none is left; false when the budget ran out first.
    bool drain() { return graph_ != nullptr ? drain_graph() : drain_memory(); }

private:
    const ChunkIndex& index() const { return own_index_ ? *own_index_ : given_graph_->index(); }

    // Follows the graph from the marked chunks. The bytes a chunk's scan read are counted once
    // marking is over (finish()): use_graph made sure that the budget cannot run out. Where a
    // chunk points to a watched one, its words are looked at again for where the pointers are.
    bool drain_graph() {
        while (!work_.empty()) {
            const uint32_t i = work_.back();
            work_.pop_back();
            bool referrers_noted = false;
            for (const uint32_t target : graph_->targets(i)) {
                if (!referrers_noted && (out_.reachable[target] & kWatched) != 0) {
                    referrers_noted = true;
                    graph_->for_each_pointer(i, [&](uint64_t address, uint32_t to) {
                        if ((out_.reachable[to] & kWatched) == 0) return;
                        note_referrer(
                            to,
                            Referrer{Referrer::Kind::kChunk, address, 0, {}, chunks_[i].address});
                    });
                }
                mark(target);
            }
        }
        return true;
    }

    bool drain_memory() {
        while (!work_.empty()) {
            if (out_of_budget()) return false;
            const HeapChunk& c = chunks_[work_.back()];
            work_.pop_back();
            const uint64_t end = chunk_scan_end(c);
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
    uint32_t target_of(uint64_t word) const { return index().holding(word); }

    // Marks the chunk `word` points into, if any; `where` makes the Referrer (only for a
    // watched chunk).
    template <class Where>
    void hit(uint64_t word, Where where) {
        if (const uint32_t index = target_of(word); index != kNoSlot) reach(index, where);
    }

    template <class Where>
    void reach(uint32_t index, Where where) {
        if ((out_.reachable[index] & kWatched) != 0) note_referrer(index, where());
        mark(index);
    }

    void mark(uint32_t index) {
        uint8_t& flags = out_.reachable[index];
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
    const ReachabilityLimits& limits_;
    Reachability& out_;
    const PointerGraph* given_graph_;
    std::optional<ChunkIndex> own_index_;  // when no graph was given
    std::optional<PointerGraph> own_graph_;
    const PointerGraph* graph_ = nullptr;  // followed by drain(), when complete and in budget
    std::vector<uint32_t> slot_;           // per chunk: its index in `watch`, or kNoSlot
    std::vector<uint32_t> work_;           // marked, not yet scanned
    std::vector<uint8_t> buffer_;
    ForwardScan roots_scan_;
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
    return sorted_merged(std::move(ranges));
}

bool pointer_graph_fits(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
                        const ReachabilityLimits& limits) {
    // The most the roots can add to the bytes scanned: every writable mapping, and each
    // thread's stack once more for its registers (twice for the thread of the exception).
    uint64_t most = 0;
    const auto add = [&](uint64_t bytes) {
        most = bytes > UINT64_MAX - most ? UINT64_MAX : most + bytes;
    };
    for (const Mapping& m : snapshot.mappings) {
        if (m.write && m.read && !m.io) add(m.size());
    }
    for (const Thread& t : snapshot.threads) {
        if (const Mapping* m = snapshot.mapping_at(t.regs.sp())) add(m->size());
    }
    if (snapshot.exception) {
        if (const Mapping* m = snapshot.mapping_at(snapshot.exception->context.sp())) {
            add(m->size());
        }
    }
    for (const HeapChunk& c : chunks) add(chunk_scan_end(c) - c.user_address());
    return most < limits.max_scan_bytes && chunks.size() < ChunkIndex::kNone;
}

Reachability find_reachable(const Snapshot& snapshot, std::span<const HeapChunk> chunks,
                            std::span<const std::pair<uint64_t, uint64_t>> excluded,
                            std::span<const uint64_t> watch, const ReachabilityLimits& limits,
                            const PointerGraph* graph) {
    Reachability out;
    if (!snapshot.memory) {
        out.note = "the dump has no memory";
        return out;
    }
    if (graph != nullptr &&
        (graph->chunks().data() != chunks.data() || graph->chunks().size() != chunks.size())) {
        graph = nullptr;  // the graph of other chunks
    }
    Marker marker(snapshot, chunks, watch, limits, graph, out);
    marker.use_graph(snapshot);
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
