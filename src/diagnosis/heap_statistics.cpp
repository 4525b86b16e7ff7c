#include "diagnosis/heap_statistics.h"

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <unordered_map>
#include <vector>

#include "analysis/symbolizer.h"

namespace dumpscope {

namespace {

constexpr std::string_view kVtableFor = "vtable for ";

// The class whose vtable `word` points into (a C++ object's first word points 16 bytes into its
// class's vtable), cached per address.
class VtableNamer {
public:
    explicit VtableNamer(const analysis::DwflSession& session) : session_(session) {}

    const std::string& name(uint64_t word) {
        static const std::string kNone;
        if (session_.snapshot().module_at(word) == nullptr) return kNone;  // most words: data
        auto [it, inserted] = cache_.try_emplace(word);
        if (inserted) it->second = lookup(word);
        return it->second;
    }

private:
    std::string lookup(uint64_t word) const {
        const analysis::ModuleReport* report = session_.module_at(word);
        if (report == nullptr || report->dwfl_module == nullptr) return {};
        const Mapping* mapping = session_.snapshot().mapping_at(word);
        if (mapping == nullptr || mapping->exec) return {};  // vtables live in read-only data
        GElf_Off offset = 0;
        GElf_Sym sym;
        const char* symbol = dwfl_module_addrinfo(report->dwfl_module, word, &offset, &sym, nullptr,
                                                  nullptr, nullptr);
        if (symbol == nullptr || GELF_ST_TYPE(sym.st_info) != STT_OBJECT) return {};
        return class_of_vtable_symbol(symbol);
    }

    const analysis::DwflSession& session_;
    std::unordered_map<uint64_t, std::string> cache_;
};

}  // namespace

std::string class_of_vtable_symbol(const std::string& symbol) {
    if (symbol.rfind("_ZTV", 0) != 0) return {};
    const std::string text = analysis::demangle(symbol.c_str());
    if (text.rfind(kVtableFor, 0) != 0) return {};
    return text.substr(kVtableFor.size());
}

HeapStatistics heap_statistics(const analysis::DwflSession& session, const HeapWalk& walk,
                               size_t samples) {
    return heap_statistics(session, std::span<const HeapChunk>(walk.chunks), samples);
}

HeapStatistics heap_statistics(const analysis::DwflSession& session,
                               std::span<const HeapChunk> chunks, size_t samples) {
    HeapStatistics stats;
    VtableNamer namer(session);
    const MemorySource& memory = *session.snapshot().memory;
    std::map<std::pair<uint64_t, std::string>, size_t> index_of;  // (size, type) -> unsorted index
    std::vector<uint32_t> unsorted_group_of(chunks.size(), HeapStatistics::kNoGroup);
    for (size_t i = 0; i < chunks.size(); ++i) {
        const HeapChunk& chunk = chunks[i];
        if (chunk.state != ChunkState::kInUse) continue;
        ++stats.in_use_chunks;
        stats.in_use_bytes += chunk.size;
        std::array<uint8_t, 8> bytes{};
        uint64_t first_word = 0;
        auto n = memory.read(chunk.user_address(), bytes);
        if (n.ok() && *n == bytes.size()) std::memcpy(&first_word, bytes.data(), 8);
        const std::string& type = first_word != 0 ? namer.name(first_word) : std::string();
        if (!type.empty()) ++stats.typed_chunks;
        auto [it, added] = index_of.try_emplace({chunk.size, type}, stats.groups.size());
        if (added) stats.groups.push_back(ChunkGroup{chunk.size, type, 0, 0, {}});
        ChunkGroup& group = stats.groups[it->second];
        ++group.count;
        group.bytes += chunk.size;
        if (group.samples.size() < samples) group.samples.push_back(chunk.user_address());
        unsorted_group_of[i] = static_cast<uint32_t>(it->second);
    }
    // Biggest first; equal sizes by chunk size, then type, so the order does not depend on
    // where in the heap a group starts.
    std::vector<uint32_t> order(stats.groups.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        const ChunkGroup& x = stats.groups[a];
        const ChunkGroup& y = stats.groups[b];
        if (x.bytes != y.bytes) return x.bytes > y.bytes;
        if (x.chunk_size != y.chunk_size) return x.chunk_size < y.chunk_size;
        return x.type < y.type;
    });
    std::vector<uint32_t> rank(order.size());
    std::vector<ChunkGroup> sorted;
    sorted.reserve(order.size());
    for (uint32_t r = 0; r < order.size(); ++r) {
        rank[order[r]] = r;
        sorted.push_back(std::move(stats.groups[order[r]]));
    }
    stats.groups = std::move(sorted);
    stats.group_of.resize(chunks.size(), HeapStatistics::kNoGroup);
    for (size_t i = 0; i < chunks.size(); ++i) {
        if (unsorted_group_of[i] != HeapStatistics::kNoGroup)
            stats.group_of[i] = rank[unsorted_group_of[i]];
    }
    return stats;
}

}  // namespace dumpscope
