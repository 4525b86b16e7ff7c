#include "diagnosis/memory_evidence.h"

#include <fmt/format.h>

#include <array>
#include <vector>

#include "analysis/command.h"
#include "diagnosis/dump_memory.h"

namespace dumpscope::diagnosis {

namespace {

constexpr size_t kShownBytes = 32;

const char* kind_name(Referrer::Kind kind) {
    switch (kind) {
        case Referrer::Kind::kRegister:
            return "register";
        case Referrer::Kind::kStack:
            return "stack";
        case Referrer::Kind::kMemory:
            return "memory";
        case Referrer::Kind::kChunk:
            return "chunk";
    }
    return "memory";
}

// The first bytes of a chunk's user memory the dump holds (at most kShownBytes).
std::vector<uint8_t> first_bytes(const Snapshot& s, uint64_t user_address, uint64_t chunk_size) {
    const size_t want = std::min<uint64_t>(kShownBytes, chunk_size > 16 ? chunk_size - 16 : 0);
    std::vector<uint8_t> bytes(want);
    if (!s.memory || want == 0) return {};
    auto n = s.memory->read(user_address, bytes);
    bytes.resize(n.ok() ? std::min(*n, want) : 0);
    return bytes;
}

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0 && i % 8 == 0) out += ' ';
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

std::string printable(const std::vector<uint8_t>& bytes) {
    std::string out;
    for (uint8_t b : bytes) out += b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '.';
    return out;
}

}  // namespace

std::string hex_address(uint64_t value) { return fmt::format("{:#x}", value); }

std::string group_name(uint64_t chunk_size, const std::string& type) {
    const std::string size = analysis::human_size(chunk_size);
    return type.empty() ? size + " chunks" : fmt::format("{} ({} chunks)", type, size);
}

std::string request_sizes(uint64_t chunk_size, bool mmapped) {
    if (mmapped) return fmt::format("malloc(up to {})", chunk_size - 16);
    if (chunk_size <= 32) return "malloc(0..24)";
    return fmt::format("malloc({}..{})", chunk_size - 23, chunk_size - 8);
}

std::string referrer_text(analysis::DumpAnalysis& dump, const Referrer& r) {
    switch (r.kind) {
        case Referrer::Kind::kRegister:
            return fmt::format("register {} of thread {}", r.reg, r.tid);
        case Referrer::Kind::kStack:
            return fmt::format("stack of thread {} at {:#x}", r.tid, r.address);
        case Referrer::Kind::kChunk:
            return fmt::format("chunk {:#x} at +{:#x}", r.chunk + 16, r.address - r.chunk - 16);
        case Referrer::Kind::kMemory:
            break;
    }
    const std::string symbol = symbol_at(dump, r.address);
    const std::string region = region_at(dump.snapshot(), r.address);
    return symbol.empty() ? fmt::format("{} at {:#x}", region, r.address)
                          : fmt::format("{} ({}, {:#x})", symbol, region, r.address);
}

nlohmann::json referrer_json(analysis::DumpAnalysis& dump, const Referrer& r) {
    nlohmann::json j = {{"kind", kind_name(r.kind)}, {"where", referrer_text(dump, r)}};
    j["address"] = r.kind == Referrer::Kind::kRegister ? nlohmann::json(nullptr)
                                                       : nlohmann::json(hex_address(r.address));
    if (r.kind == Referrer::Kind::kRegister || r.kind == Referrer::Kind::kStack) j["tid"] = r.tid;
    if (r.kind == Referrer::Kind::kRegister) j["register"] = r.reg;
    if (r.kind == Referrer::Kind::kChunk) j["chunk"] = hex_address(r.chunk + 16);
    if (r.kind == Referrer::Kind::kMemory) {
        const std::string symbol = symbol_at(dump, r.address);
        j["symbol"] = symbol.empty() ? nlohmann::json(nullptr) : nlohmann::json(symbol);
    }
    return j;
}

nlohmann::json sample_json(analysis::DumpAnalysis& dump, uint64_t user_address, uint64_t chunk_size,
                           const std::vector<Referrer>* referrers) {
    const std::vector<uint8_t> bytes = first_bytes(dump.snapshot(), user_address, chunk_size);
    nlohmann::json j = {{"address", hex_address(user_address)},
                        {"contents", hex_bytes(bytes)},
                        {"text", printable(bytes)}};
    if (referrers == nullptr) {
        j["referrers"] = nullptr;
    } else {
        j["referrers"] = nlohmann::json::array();
        for (const Referrer& r : *referrers) j["referrers"].push_back(referrer_json(dump, r));
    }
    return j;
}

std::string sample_text(analysis::DumpAnalysis& dump, uint64_t user_address, uint64_t chunk_size,
                        const std::vector<Referrer>* referrers, const std::string& indent) {
    const std::vector<uint8_t> bytes = first_bytes(dump.snapshot(), user_address, chunk_size);
    std::string out =
        fmt::format("{}{:#x}: {} |{}|\n", indent, user_address, hex_bytes(bytes), printable(bytes));
    if (referrers == nullptr) return out;
    if (referrers->empty()) {
        out += indent + "  <- no pointer to it in reachable memory\n";
        return out;
    }
    for (const Referrer& r : *referrers) out += indent + "  <- " + referrer_text(dump, r) + "\n";
    return out;
}

}  // namespace dumpscope::diagnosis
