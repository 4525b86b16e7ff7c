// !heap -s and !heap -stat (`dumpscope heap DUMP [--stat]`): glibc's malloc heap walked from the
// dump. -s: the release and where main_arena was found, then per arena its heaps, what it has
// from the system, in-use, free and cached (tcache, fastbin) bytes and chunks, and the top chunk;
// -stat: the in-use chunks (mmapped ones included) grouped by size and C++ class, biggest first.
// Both say what the walk does not cover (other allocators) and where a walk stopped.
#include <fmt/format.h>

#include "diagnosis/glibc_heap_walk.h"
#include "diagnosis/glibc_malloc_locator.h"
#include "diagnosis/glibc_mmapped_chunks.h"
#include "diagnosis/heap_commands.h"
#include "diagnosis/heap_statistics.h"

namespace dumpscope {

namespace {

using analysis::CommandArgs;
using analysis::CommandOutput;
using analysis::DumpAnalysis;
using analysis::human_size;
using nlohmann::json;

constexpr size_t kStatRows = 30;

const char* kNotCovered =
    "not covered: memory of other allocators (jemalloc, tcmalloc, language runtimes) and of the "
    "program's own mmap calls, and chunks memalign placed off the start of their own mapping";

json arena_json(const ArenaSummary& a) {
    json segments = json::array();
    for (const HeapSegment& s : a.segments)
        segments.push_back({{"start", s.start}, {"end", s.end}});
    return {{"address", a.address},
            {"main", a.main},
            {"system_mem", a.system_mem},
            {"top_chunk", a.top_chunk},
            {"top_size", a.top_size},
            {"heaps", segments},
            {"in_use_chunks", a.in_use_chunks},
            {"in_use_bytes", a.in_use_bytes},
            {"free_chunks", a.free_chunks},
            {"free_bytes", a.free_bytes},
            {"cached_chunks", a.cached_chunks},
            {"cached_bytes", a.cached_bytes},
            {"complete", a.stopped.empty()},
            {"stopped", a.stopped}};
}

CommandOutput summary(const GlibcMalloc& malloc, const HeapWalk& walk,
                      const MmappedChunks& mmapped) {
    CommandOutput out;
    out.text = fmt::format("glibc {} malloc: main_arena at {:#x} ({}), {} arena(s), {} tcache(s)\n",
                           malloc.layout.version.text(), malloc.main_arena, malloc.found_by,
                           walk.arenas.size(), walk.tcache_structs);
    out.text += fmt::format("  {:<18} {:>5} {:>11} {:>22} {:>22} {:>22} {:>11}\n", "Arena", "Heaps",
                            "System", "In use (chunks)", "Free (chunks)", "Cached (chunks)", "Top");
    json arenas = json::array();
    for (const ArenaSummary& a : walk.arenas) {
        out.text += fmt::format("  {:<18} {:>5} {:>11} {:>22} {:>22} {:>22} {:>11}{}\n",
                                fmt::format("{:#x}{}", a.address, a.main ? " main" : ""),
                                a.segments.size(), human_size(a.system_mem),
                                fmt::format("{} ({})", human_size(a.in_use_bytes), a.in_use_chunks),
                                fmt::format("{} ({})", human_size(a.free_bytes), a.free_chunks),
                                fmt::format("{} ({})", human_size(a.cached_bytes), a.cached_chunks),
                                human_size(a.top_size), a.stopped.empty() ? "" : "  (incomplete)");
        arenas.push_back(arena_json(a));
    }
    out.text += fmt::format("  in use in all arenas: {} in {} chunks\n",
                            human_size(walk.in_use_bytes()), walk.in_use_chunks());
    out.text +=
        fmt::format("  mmapped chunks (above the mmap threshold, each its own mapping): {} ({})\n",
                    mmapped.chunks.size(), human_size(mmapped.bytes));
    for (const std::string& note : walk.notes) out.text += "  note: " + note + "\n";
    out.text += std::string("  ") + kNotCovered + "\n";
    out.json = {{"allocator", "glibc"},
                {"glibc_version", malloc.layout.version.text()},
                {"main_arena", malloc.main_arena},
                {"found_by", malloc.found_by},
                {"arenas", arenas},
                {"tcaches", walk.tcache_structs},
                {"in_use_bytes", walk.in_use_bytes()},
                {"in_use_chunks", walk.in_use_chunks()},
                {"mmapped_chunks", mmapped.chunks.size()},
                {"mmapped_bytes", mmapped.bytes},
                {"complete", walk.complete()},
                {"notes", walk.notes},
                {"not_covered", kNotCovered}};
    return out;
}

CommandOutput statistics(const analysis::DwflSession& session, const HeapWalk& walk,
                         const MmappedChunks& mmapped) {
    std::vector<HeapChunk> chunks = walk.chunks;
    chunks.insert(chunks.end(), mmapped.chunks.begin(), mmapped.chunks.end());
    const HeapStatistics stats =
        heap_statistics(session, std::span<const HeapChunk>(chunks), 3, &walk);
    CommandOutput out;
    out.text = fmt::format("in use: {} in {} chunks ({} mmapped, {} named by their vtable)\n",
                           human_size(stats.in_use_bytes), stats.in_use_chunks,
                           mmapped.chunks.size(), stats.typed_chunks);
    out.text += fmt::format("  {:>10} {:>10} {:>11} {:>6}  {}\n", "Chunk", "Count", "Total", "%",
                            "Type, samples");
    json groups = json::array();
    for (size_t i = 0; i < stats.groups.size(); ++i) {
        const ChunkGroup& g = stats.groups[i];
        json samples = json::array();
        for (uint64_t s : g.samples) samples.push_back(s);
        groups.push_back({{"chunk_size", g.chunk_size},
                          {"type", g.type},
                          {"count", g.count},
                          {"bytes", g.bytes},
                          {"samples", samples}});
        if (i >= kStatRows) continue;
        std::string sample_text;
        for (uint64_t s : g.samples) sample_text += fmt::format(" {:#x}", s);
        const double percent =
            stats.in_use_bytes == 0
                ? 0.0
                : 100.0 * static_cast<double>(g.bytes) / static_cast<double>(stats.in_use_bytes);
        out.text += fmt::format("  {:>10} {:>10} {:>11} {:>5.1f}%  {}{}\n",
                                human_size(g.chunk_size), g.count, human_size(g.bytes), percent,
                                g.type.empty() ? "-" : g.type, sample_text);
    }
    if (stats.groups.size() > kStatRows) {
        out.text += fmt::format("  ... {} more groups (--json lists them all)\n",
                                stats.groups.size() - kStatRows);
    }
    if (!walk.complete()) out.text += "  the walk is incomplete: see !heap -s\n";
    out.json = {{"in_use_bytes", stats.in_use_bytes},
                {"in_use_chunks", stats.in_use_chunks},
                {"mmapped_chunks", mmapped.chunks.size()},
                {"typed_chunks", stats.typed_chunks},
                {"groups", groups},
                {"complete", walk.complete()}};
    return out;
}

}  // namespace

Result<HeapWalkResult> walk_heap_of(DumpAnalysis& dump) {
    auto session = dump.session();
    if (!session.ok()) return session.error();
    auto malloc = locate_glibc_malloc(**session);
    if (!malloc.ok()) return malloc.error();
    auto walk = walk_glibc_heap(dump.snapshot(), malloc->main_arena, malloc->layout);
    if (!walk.ok()) {
        return Error{walk.error().message +
                     " (the heap is not in this dump: take --type midi "
                     "or full)"};
    }
    return HeapWalkResult{*malloc, std::move(walk).value(), *session};
}

Result<CommandOutput> command_heap(DumpAnalysis& dump, const CommandArgs& args) {
    bool stat = false;
    for (const std::string& arg : args) {
        if (arg == "-stat") {
            stat = true;
        } else if (arg != "-s") {
            return Error{"!heap takes -s (the arenas) or -stat (chunks by size and type), not '" +
                         arg + "'"};
        }
    }
    auto heap = walk_heap_of(dump);
    if (!heap.ok()) return heap.error();
    const MmappedChunks mmapped = find_mmapped_chunks(dump.snapshot(), heap->walk);
    return stat ? statistics(*heap->session, heap->walk, mmapped)
                : summary(heap->malloc, heap->walk, mmapped);
}

}  // namespace dumpscope
