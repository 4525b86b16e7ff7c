#include "diagnosis/heap_statistics.h"

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <unordered_map>

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
    HeapStatistics stats;
    VtableNamer namer(session);
    const MemorySource& memory = *session.snapshot().memory;
    std::map<std::pair<uint64_t, std::string>, ChunkGroup> groups;
    for (const HeapChunk& chunk : walk.chunks) {
        if (chunk.state != ChunkState::kInUse) continue;
        ++stats.in_use_chunks;
        stats.in_use_bytes += chunk.size;
        std::array<uint8_t, 8> bytes{};
        uint64_t first_word = 0;
        auto n = memory.read(chunk.user_address(), bytes);
        if (n.ok() && *n == bytes.size()) std::memcpy(&first_word, bytes.data(), 8);
        const std::string& type = first_word != 0 ? namer.name(first_word) : std::string();
        if (!type.empty()) ++stats.typed_chunks;
        ChunkGroup& group = groups[{chunk.size, type}];
        group.chunk_size = chunk.size;
        group.type = type;
        ++group.count;
        group.bytes += chunk.size;
        if (group.samples.size() < samples) group.samples.push_back(chunk.user_address());
    }
    for (auto& [key, group] : groups) stats.groups.push_back(std::move(group));
    std::stable_sort(stats.groups.begin(), stats.groups.end(),
                     [](const ChunkGroup& a, const ChunkGroup& b) { return a.bytes > b.bytes; });
    return stats;
}

}  // namespace dumpscope
