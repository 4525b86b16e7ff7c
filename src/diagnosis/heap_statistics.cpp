#include "diagnosis/heap_statistics.h"

#include <elfutils/libdwfl.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "analysis/symbolizer.h"
#include "diagnosis/forward_scan.h"

namespace dumpscope {

namespace {

constexpr std::string_view kVtableFor = "vtable for ";

// The class whose vtable `word` points into (a C++ object's first word points 16 bytes into its
// class's vtable), cached per address, as a number: 0 for none, else 1 + its index in names().
class VtableNamer {
public:
    explicit VtableNamer(const analysis::DwflSession& session) : session_(session) {}

    uint32_t type(uint64_t word) {
        if (word == 0 || session_.snapshot().module_at(word) == nullptr) return 0;  // most: data
        auto [it, inserted] = cache_.try_emplace(word, 0);
        if (inserted) {
            std::string name = lookup(word);
            if (!name.empty()) {
                auto [known, added] = ids_.try_emplace(name, names_.size() + 1);
                if (added) names_.push_back(std::move(name));
                it->second = known->second;
            }
        }
        return it->second;
    }
    const std::string& name(uint32_t type) const { return names_[type - 1]; }

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
    std::unordered_map<uint64_t, uint32_t> cache_;
    std::unordered_map<std::string, uint32_t> ids_;
    std::vector<std::string> names_;
};

// The first words the walk read, looked up by chunk address: chunks asked about in address
// order move a cursor forward; others are searched for.
class WalkedFirstWords {
public:
    explicit WalkedFirstWords(const HeapWalk* walk) : walk_(walk) {}

    bool find(uint64_t address, uint64_t& word) {
        if (walk_ == nullptr || walk_->first_words.size() != walk_->chunks.size()) return false;
        const std::vector<HeapChunk>& chunks = walk_->chunks;
        while (next_ < chunks.size() && chunks[next_].address < address) ++next_;
        size_t at = next_;
        if (at >= chunks.size() || chunks[at].address != address) {
            auto it =
                std::lower_bound(chunks.begin(), chunks.end(), address,
                                 [](const HeapChunk& c, uint64_t a) { return c.address < a; });
            if (it == chunks.end() || it->address != address) return false;
            at = static_cast<size_t>(it - chunks.begin());
        }
        word = walk_->first_words[at];
        return true;
    }

private:
    const HeapWalk* walk_;
    size_t next_ = 0;
};

// A group's key: chunk size and type number.
struct GroupKey {
    uint64_t size = 0;
    uint32_t type = 0;
    bool operator==(const GroupKey&) const = default;
};

struct GroupKeyHash {
    size_t operator()(const GroupKey& k) const {
        return std::hash<uint64_t>()(k.size * 0x9e3779b97f4a7c15ull ^ k.type);
    }
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
    return heap_statistics(session, std::span<const HeapChunk>(walk.chunks), samples, &walk);
}

HeapStatistics heap_statistics(const analysis::DwflSession& session,
                               std::span<const HeapChunk> chunks, size_t samples,
                               const HeapWalk* walk) {
    HeapStatistics stats;
    VtableNamer namer(session);
    // The chunks are sorted by address: the first words not in `walk` are read front to back.
    ForwardScan scan(*session.snapshot().memory);
    WalkedFirstWords walked(walk);
    std::unordered_map<GroupKey, size_t, GroupKeyHash> index_of;  // -> unsorted index
    std::vector<uint32_t> unsorted_group_of(chunks.size(), HeapStatistics::kNoGroup);
    for (size_t i = 0; i < chunks.size(); ++i) {
        const HeapChunk& chunk = chunks[i];
        if (chunk.state != ChunkState::kInUse) continue;
        ++stats.in_use_chunks;
        stats.in_use_bytes += chunk.size;
        uint64_t first_word = 0;
        if (!walked.find(chunk.address, first_word) &&
            !scan.word(chunk.user_address(), first_word)) {
            first_word = 0;
        }
        const uint32_t type = namer.type(first_word);
        if (type != 0) ++stats.typed_chunks;
        auto [it, added] = index_of.try_emplace(GroupKey{chunk.size, type}, stats.groups.size());
        if (added) {
            stats.groups.push_back(
                ChunkGroup{chunk.size, type != 0 ? namer.name(type) : std::string(), 0, 0, {}});
        }
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
