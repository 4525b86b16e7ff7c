// Memory findings. `memory-usage` (info): the address space by usage, glibc's heap (in use,
// free, cached, top, mmapped chunks), how much of the address space the walk explains and what it
// does not cover, and the biggest groups of chunks with samples and what points at them.
// `leak-suspect` (warning) only with evidence (leak_rules.h): unreachable chunks, a group that
// dominates a heap dominating the process, and (two dumps of one process) a group that grew.
#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "analysis/command.h"
#include "diagnosis/detector.h"
#include "diagnosis/leak_rules.h"
#include "diagnosis/memory_evidence.h"
#include "diagnosis/memory_facts.h"

namespace dumpscope::diagnosis {

namespace {

using analysis::human_size;
using nlohmann::json;

constexpr const char* kNotCovered =
    "chunks memalign placed off the start of their own mapping, and memory of other allocators "
    "(jemalloc, tcmalloc, language runtimes) or of the program's own mmap calls";

double share(uint64_t part, uint64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::string percent(uint64_t part, uint64_t whole) {
    return fmt::format("{:.1f}%", 100.0 * share(part, whole));
}

// A group of mmapped chunks (they have page-multiple sizes arena chunks rarely have).
bool is_mmapped_size(const MemoryFacts& m, const ChunkGroup& g) {
    return std::any_of(m.mmapped.chunks.begin(), m.mmapped.chunks.end(),
                       [&](const HeapChunk& c) { return c.size == g.chunk_size; });
}

struct HeapTotals {
    uint64_t system = 0, free_bytes = 0, free_chunks = 0, cached_bytes = 0, cached_chunks = 0;
    uint64_t top = 0;
};

HeapTotals totals_of(const HeapWalk& walk) {
    HeapTotals t;
    for (const ArenaSummary& a : walk.arenas) {
        t.system += a.system_mem;
        t.free_bytes += a.free_bytes;
        t.free_chunks += a.free_chunks;
        t.cached_bytes += a.cached_bytes;
        t.cached_chunks += a.cached_chunks;
        t.top += a.top_size;
    }
    return t;
}

json usage_json(const AddressUsage& usage) {
    json rows = json::array();
    for (const UsageTotal& u : usage.by_usage) {
        rows.push_back({{"usage", u.usage},
                        {"committed", u.committed},
                        {"reserved", u.reserved},
                        {"in_dump", u.in_dump},
                        {"regions", u.regions}});
    }
    return {{"committed", usage.committed}, {"reserved", usage.reserved}, {"by_usage", rows}};
}

std::string usage_text(const AddressUsage& usage) {
    std::string parts;
    for (const UsageTotal& u : usage.by_usage) {
        if (u.committed == 0) continue;
        parts +=
            fmt::format("{}{} {}", parts.empty() ? "" : ", ", u.usage, human_size(u.committed));
    }
    return fmt::format("  address space: {} committed ({})\n", human_size(usage.committed), parts);
}

json group_json(analysis::DumpAnalysis& dump, const MemoryFacts& m, size_t g,
                const std::vector<uint64_t>& samples, bool with_referrers) {
    const ChunkGroup& group = m.stats.groups[g];
    json j = {{"chunk_size", group.chunk_size},
              {"type", group.type.empty() ? json(nullptr) : json(group.type)},
              {"requests", request_sizes(group.chunk_size, is_mmapped_size(m, group))},
              {"count", group.count},
              {"bytes", group.bytes},
              {"share_of_heap", share(group.bytes, m.stats.in_use_bytes)},
              {"unreachable_count", m.reach_run ? json(m.unreachable_count[g]) : json(nullptr)},
              {"unreachable_bytes", m.reach_run ? json(m.unreachable_bytes[g]) : json(nullptr)}};
    j["samples"] = json::array();
    for (uint64_t s : samples) {
        j["samples"].push_back(
            sample_json(dump, s, group.chunk_size, with_referrers ? m.referrers_of(s) : nullptr));
    }
    return j;
}

std::string group_line(const MemoryFacts& m, size_t g) {
    const ChunkGroup& group = m.stats.groups[g];
    std::string line =
        fmt::format("{} x {} = {} ({} of the heap in use)", group.count,
                    group_name(group.chunk_size, group.type), human_size(group.bytes),
                    percent(group.bytes, m.stats.in_use_bytes));
    if (m.reach_run && m.unreachable_count[g] != 0)
        line += fmt::format(", {} unreachable", m.unreachable_count[g]);
    return line;
}

Finding usage_finding(DumpFacts& facts, const MemoryFacts& m) {
    analysis::DumpAnalysis& dump = *facts.dump;
    const HeapTotals t = totals_of(m.walk);
    Finding f;
    f.kind = "memory-usage";
    f.severity = Severity::kInfo;
    f.summary =
        fmt::format("glibc heap: {} in use in {} chunks, {} free", human_size(m.stats.in_use_bytes),
                    m.stats.in_use_chunks, human_size(t.free_bytes + t.cached_bytes));
    if (!m.stats.groups.empty()) {
        const ChunkGroup& big = m.stats.groups[0];
        f.summary += fmt::format("; biggest group {} x {} ({})", big.count,
                                 group_name(big.chunk_size, big.type), human_size(big.bytes));
    }
    if (m.reach_run && m.reach.complete)
        f.summary += fmt::format("; {} chunks unreachable", m.reach.unreachable_chunks);

    // What the walk explains of the memory malloc can hold (heap mappings, anonymous memory).
    const uint64_t heap_mappings = m.usage.committed_of("Heap");
    const uint64_t anonymous = m.usage.committed_of("Anonymous");
    const uint64_t explained = std::min(t.system, heap_mappings) + m.mmapped.bytes;
    f.evidence_text = usage_text(m.usage);
    if (m.resident_bytes)
        f.evidence_text += fmt::format("  resident: {}\n", human_size(*m.resident_bytes));
    f.evidence_text += fmt::format(
        "  glibc {} malloc (main_arena {:#x}, {}): {} arena(s), {} from the system; in use {} in "
        "{} "
        "chunks; free {} in {} chunks; in tcache and fastbins {} in {} chunks; top chunks {}\n",
        m.malloc.layout.version.text(), m.malloc.main_arena, m.malloc.found_by,
        m.walk.arenas.size(), human_size(t.system), human_size(m.walk.in_use_bytes()),
        m.walk.in_use_chunks(), human_size(t.free_bytes), t.free_chunks, human_size(t.cached_bytes),
        t.cached_chunks, human_size(t.top));
    f.evidence_text += fmt::format("  mmapped chunks: {} ({})\n", m.mmapped.chunks.size(),
                                   human_size(m.mmapped.bytes));
    f.evidence_text += fmt::format(
        "  the heap walk explains {} of the {} of heap and anonymous memory ({}); not covered: "
        "{}\n",
        human_size(explained), human_size(heap_mappings + anonymous),
        percent(explained, heap_mappings + anonymous), kNotCovered);
    for (const std::string& note : m.walk.notes) f.evidence_text += "  note: " + note + "\n";
    json reach = {{"checked", m.reach_run && m.reach.complete}};
    if (!m.reach_run) {
        reach["note"] = "the heap walk is incomplete: unreachable chunks are not looked for";
        f.evidence_text += "  reachability: not checked (the heap walk is incomplete)\n";
    } else {
        reach["unreachable_chunks"] = m.reach.unreachable_chunks;
        reach["unreachable_bytes"] = m.reach.unreachable_bytes;
        reach["scanned_bytes"] = m.reach.scanned_bytes;
        reach["note"] = m.reach.note;
        json missing = json::array();
        uint64_t missing_bytes = 0;
        for (const MissingRoot& r : m.reach.missing_roots) {
            missing.push_back({{"start", hex_address(r.start)},
                               {"end", hex_address(r.end)},
                               {"missing_bytes", r.missing_bytes},
                               {"path", r.path}});
            missing_bytes += r.missing_bytes;
        }
        reach["missing_roots"] = missing;
        f.evidence_text +=
            m.reach.complete
                ? fmt::format(
                      "  reachability: {} chunks ({}) unreachable from registers, "
                      "stacks, writable data and reachable chunks ({} scanned)\n",
                      m.reach.unreachable_chunks, human_size(m.reach.unreachable_bytes),
                      human_size(m.reach.scanned_bytes))
                : "  reachability: " + m.reach.note + "\n";
        if (missing_bytes != 0)
            f.evidence_text += fmt::format(
                "  {} of writable memory ({} mappings) is not in this dump: what only it points "
                "to looks unreachable (--type full holds it)\n",
                human_size(missing_bytes), m.reach.missing_roots.size());
    }
    f.evidence_text += "  biggest groups:\n";
    json groups = json::array();
    for (size_t g = 0; g < m.stats.groups.size() && g < kShownGroups; ++g) {
        groups.push_back(group_json(dump, m, g, m.stats.groups[g].samples, true));
        f.evidence_text += "    " + group_line(m, g) + "\n";
        for (uint64_t s : m.stats.groups[g].samples) {
            f.evidence_text += sample_text(dump, s, m.stats.groups[g].chunk_size,
                                           m.reach_run ? m.referrers_of(s) : nullptr, "      ");
        }
    }
    f.evidence = {{"address_summary", usage_json(m.usage)},
                  {"resident_bytes", m.resident_bytes ? json(*m.resident_bytes) : json(nullptr)},
                  {"heap",
                   {{"allocator", "glibc"},
                    {"glibc_version", m.malloc.layout.version.text()},
                    {"main_arena", hex_address(m.malloc.main_arena)},
                    {"found_by", m.malloc.found_by},
                    {"arenas", m.walk.arenas.size()},
                    {"system_bytes", t.system},
                    {"in_use_bytes", m.walk.in_use_bytes()},
                    {"in_use_chunks", m.walk.in_use_chunks()},
                    {"free_bytes", t.free_bytes},
                    {"free_chunks", t.free_chunks},
                    {"cached_bytes", t.cached_bytes},
                    {"cached_chunks", t.cached_chunks},
                    {"top_bytes", t.top},
                    {"mmapped_chunks", m.mmapped.chunks.size()},
                    {"mmapped_bytes", m.mmapped.bytes},
                    {"program_bytes", m.stats.in_use_bytes},
                    {"program_chunks", m.stats.in_use_chunks},
                    {"complete", m.walk.complete()},
                    {"notes", m.walk.notes}}},
                  {"explained",
                   {{"heap_mapping_bytes", heap_mappings},
                    {"anonymous_bytes", anonymous},
                    {"explained_bytes", explained},
                    {"share", share(explained, heap_mappings + anonymous)},
                    {"not_covered", kNotCovered}}},
                  {"reachability", reach},
                  {"groups", groups}};
    f.next_step =
        "`dumpscope heap --stat DUMP` lists every group; a second dump later and `dumpscope "
        "analyze DUMP1 DUMP2` show what grows.";
    return f;
}

Finding unreachable_finding(DumpFacts& facts, const MemoryFacts& m, size_t g) {
    const ChunkGroup& group = m.stats.groups[g];
    Finding f;
    f.kind = "leak-suspect";
    f.severity = Severity::kWarning;
    f.summary = fmt::format(
        "{} of {} {} ({}) are unreachable: no pointer to them from registers, stacks, globals or "
        "reachable chunks",
        m.unreachable_count[g], group.count, group_name(group.chunk_size, group.type),
        human_size(m.unreachable_bytes[g]));
    f.evidence_text =
        fmt::format("  group: {}; requests {}\n  unreachable samples:\n", group_line(m, g),
                    request_sizes(group.chunk_size, is_mmapped_size(m, group)));
    for (uint64_t s : m.unreachable_samples[g])
        f.evidence_text += sample_text(*facts.dump, s, group.chunk_size, nullptr, "    ");
    if (!m.reach.missing_roots.empty())
        f.evidence_text += fmt::format(
            "  {} writable mapping(s) not (wholly) in this dump: pointers there were not seen\n",
            m.reach.missing_roots.size());
    json evidence = {{"reason", "unreachable"},
                     {"group", group_json(*facts.dump, m, g, m.unreachable_samples[g], false)},
                     {"missing_roots", m.reach.missing_roots.size()}};
    f.evidence = std::move(evidence);
    f.next_step = fmt::format(
        "Find who allocates {} and drops the last pointer: the samples' contents say what they "
        "hold; run the program under `valgrind --leak-check=full` or heaptrack, or break on "
        "malloc with such a size.",
        request_sizes(group.chunk_size, is_mmapped_size(m, group)));
    return f;
}

Finding dominant_finding(DumpFacts& facts, const MemoryFacts& m, size_t g) {
    const ChunkGroup& group = m.stats.groups[g];
    Finding f;
    f.kind = "leak-suspect";
    f.severity = Severity::kWarning;
    f.summary =
        fmt::format("{} x {} hold {} of a {} heap that is {} of the process's resident memory",
                    group.count, group_name(group.chunk_size, group.type),
                    percent(group.bytes, m.stats.in_use_bytes), human_size(m.stats.in_use_bytes),
                    percent(m.stats.in_use_bytes, m.resident_bytes.value_or(0)));
    f.evidence_text = "  group: " + group_line(m, g) + "\n";
    for (uint64_t s : group.samples) {
        f.evidence_text += sample_text(*facts.dump, s, group.chunk_size,
                                       m.reach_run ? m.referrers_of(s) : nullptr, "    ");
    }
    f.evidence = {{"reason", "dominant"},
                  {"heap_in_use_bytes", m.stats.in_use_bytes},
                  {"resident_bytes", m.resident_bytes.value_or(0)},
                  {"group", group_json(*facts.dump, m, g, group.samples, true)}};
    f.next_step =
        "Take a second dump later and run `dumpscope analyze DUMP1 DUMP2`: a group that keeps "
        "growing is the leak; one that stays is the working set (a cache to bound?).";
    return f;
}

// Up to kSamplesPerGroup chunks of `group` in `after` that were not chunks of it in `before`.
std::vector<uint64_t> new_chunks(const MemoryFacts& before, const MemoryFacts& after,
                                 const GroupGrowth& growth) {
    std::unordered_set<uint64_t> old;
    for (size_t i = 0; i < before.chunks.size(); ++i) {
        const uint32_t g = before.stats.group_of[i];
        if (g == HeapStatistics::kNoGroup) continue;
        const ChunkGroup& group = before.stats.groups[g];
        if (group.chunk_size == growth.chunk_size && group.type == growth.type)
            old.insert(before.chunks[i].address);
    }
    std::vector<uint64_t> out;
    for (size_t i = 0; i < after.chunks.size() && out.size() < kSamplesPerGroup; ++i) {
        const uint32_t g = after.stats.group_of[i];
        if (g == HeapStatistics::kNoGroup) continue;
        const ChunkGroup& group = after.stats.groups[g];
        if (group.chunk_size == growth.chunk_size && group.type == growth.type &&
            old.count(after.chunks[i].address) == 0)
            out.push_back(after.chunks[i].address);
    }
    return out;
}

json growth_json(const GroupGrowth& g) {
    return {
        {"chunk_size", g.chunk_size},     {"type", g.type.empty() ? json(nullptr) : json(g.type)},
        {"count_before", g.count_before}, {"count_after", g.count_after},
        {"bytes_before", g.bytes_before}, {"bytes_after", g.bytes_after}};
}

// The finding for grown[index]; `first_suspect` when no group grew more and was a suspect.
Finding growth_finding(DumpFacts& first, DumpFacts& second, const MemoryFacts& before,
                       const MemoryFacts& after, const std::vector<GroupGrowth>& grown,
                       size_t index, bool first_suspect) {
    const GroupGrowth& g = grown[index];
    Finding f;
    f.kind = "leak-suspect";
    f.severity = Severity::kWarning;
    f.summary = fmt::format("{} grew by {} chunks (+{}, {} -> {}) between the dumps{}",
                            group_name(g.chunk_size, g.type), g.grown_count(),
                            human_size(static_cast<uint64_t>(g.grown_bytes())),
                            human_size(g.bytes_before), human_size(g.bytes_after),
                            first_suspect ? ": the group that grew most, the first suspect" : "");
    // The new chunks, and what points at them in the later dump.
    const Snapshot& s = second.snapshot();
    const std::vector<uint64_t> headers = new_chunks(before, after, g);
    Reachability refs;
    if (after.reach_run) {
        refs = find_reachable(s, after.chunks, heap_ranges(s, after.walk, after.mmapped.chunks),
                              headers);
    }
    json samples = json::array();
    f.evidence_text = fmt::format("  {} -> {} chunks, {} -> {}; requests {}\n  new chunks:\n",
                                  g.count_before, g.count_after, human_size(g.bytes_before),
                                  human_size(g.bytes_after), request_sizes(g.chunk_size, false));
    for (size_t i = 0; i < headers.size(); ++i) {
        const std::vector<Referrer>* r =
            after.reach_run && i < refs.referrers.size() ? &refs.referrers[i] : nullptr;
        samples.push_back(sample_json(*second.dump, headers[i] + 16, g.chunk_size, r));
        f.evidence_text += sample_text(*second.dump, headers[i] + 16, g.chunk_size, r, "    ");
    }
    // The address space by usage, before and after.
    json usage = json::array();
    std::string usage_line;
    for (const UsageTotal& u : after.usage.by_usage) {
        const uint64_t was = before.usage.committed_of(u.usage);
        usage.push_back({{"usage", u.usage}, {"before", was}, {"after", u.committed}});
        if (u.committed != was)
            usage_line += fmt::format("{}{} {} -> {}", usage_line.empty() ? "" : ", ", u.usage,
                                      human_size(was), human_size(u.committed));
    }
    if (!usage_line.empty()) f.evidence_text += "  address space: " + usage_line + "\n";
    f.evidence_text +=
        fmt::format("  heap in use: {} -> {}\n", human_size(before.stats.in_use_bytes),
                    human_size(after.stats.in_use_bytes));
    json others = json::array();
    for (size_t i = 0; i < grown.size() && i < kShownGroups; ++i) {
        others.push_back(growth_json(grown[i]));
        if (i != index)
            f.evidence_text +=
                fmt::format("  also grew: {} +{} chunks (+{})\n",
                            group_name(grown[i].chunk_size, grown[i].type), grown[i].grown_count(),
                            human_size(static_cast<uint64_t>(grown[i].grown_bytes())));
    }
    f.evidence = {{"reason", "growth"},
                  {"between", {first.dump->path(), second.dump->path()}},
                  {"group", growth_json(g)},
                  {"samples", samples},
                  {"heap_in_use",
                   {{"before", before.stats.in_use_bytes}, {"after", after.stats.in_use_bytes}}},
                  {"usage_growth", usage},
                  {"grown_groups", others}};
    f.next_step = fmt::format(
        "Find who allocates {} and keeps them (the new chunks' contents and referrers above); a "
        "third dump later shows whether the growth goes on.",
        request_sizes(g.chunk_size, false));
    return f;
}

}  // namespace

const MemoryFacts& DumpFacts::memory() {
    if (!memory_) memory_ = std::make_shared<const MemoryFacts>(gather_memory_facts(*dump));
    return *memory_;
}

void detect_memory(DumpFacts& facts, std::vector<Finding>& out) {
    const MemoryFacts& m = facts.memory();
    if (!m.heap_walked) {
        facts.notes.push_back(m.heap_unavailable);
        return;
    }
    out.push_back(usage_finding(facts, m));
    if (m.reach_run && m.reach.complete) {
        for (size_t g : unreachable_suspects(m.unreachable_count, m.unreachable_bytes))
            out.push_back(unreachable_finding(facts, m, g));
    }
    if (auto g = dominant_group(m.stats, m.resident_bytes)) {
        out.push_back(dominant_finding(facts, m, *g));
    }
}

void detect_memory_growth(std::vector<DumpFacts>& dumps, std::vector<Finding>& out) {
    constexpr size_t kMaxGrowthFindings = 3;
    for (size_t i = 0; i + 1 < dumps.size(); ++i) {
        const Snapshot& a = dumps[i].snapshot();
        const Snapshot& b = dumps[i + 1].snapshot();
        if (a.process.pid == 0 || a.process.pid != b.process.pid) continue;
        const MemoryFacts& before = dumps[i].memory();
        const MemoryFacts& after = dumps[i + 1].memory();
        if (!before.heap_walked || !after.heap_walked) continue;
        const std::vector<GroupGrowth> grown =
            group_growth(before.stats.groups, after.stats.groups);
        size_t found = 0;
        for (size_t k = 0; k < grown.size() && found < kMaxGrowthFindings; ++k) {
            if (!growth_is_suspect(grown[k])) continue;  // most grown first
            out.push_back(
                growth_finding(dumps[i], dumps[i + 1], before, after, grown, k, found == 0));
            ++found;
        }
    }
}

}  // namespace dumpscope::diagnosis
