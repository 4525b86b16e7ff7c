// !address, !address ADDR, !address -summary (regions): every region with its usage, type,
// state, protection and the bytes of it in the dump; the summary by usage, type and state with
// sizes and percentages of the busy and the whole user address space, as WinDbg prints it.
#include <fmt/format.h>

#include <map>

#include "analysis/command.h"
#include "analysis/memory_text.h"
#include "analysis/region_classifier.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

using minidump::memory_state_name;
using minidump::memory_type_name;
using minidump::MemoryState;
using minidump::page_protection_name;
using nlohmann::json;

std::string in_dump_text(const Region& r) {
    if (r.state == MemoryState::Free) return "";
    if (r.bytes_in_dump == 0) return "no";
    if (r.bytes_in_dump == r.size()) return "yes";
    return fmt::format("{:x} of {:x}", r.bytes_in_dump, r.size());
}

// "00000008 PAGE_WRITECOPY (rw-p)", as WinDbg's Protect line with the maps letters after it.
std::string protect_text(const Region& r) {
    if (r.protect == 0) return "-";
    return fmt::format("{:08x} {} ({})", r.protect, page_protection_name(r.protect), r.protection);
}

std::string usage_text(const Region& r) {
    std::string text = usage_name(r.usage);
    if (!r.detail.empty()) text += " [" + r.detail + "]";
    return text;
}

json region_json(const Region& r) {
    return {{"start", r.start},
            {"end", r.end},
            {"size", r.size()},
            {"usage", usage_name(r.usage)},
            {"detail", r.detail},
            {"type", memory_type_name(r.type)},
            {"state", memory_state_name(r.state)},
            {"protection", r.protection},
            {"page_protection", r.protect == 0 ? "" : page_protection_name(r.protect)},
            {"path", printable_bytes(r.path)},
            {"bytes_in_dump", r.bytes_in_dump}};
}

std::string row(const Region& r) {
    return fmt::format("{} {:>12x} {:>12x} {:>12x} {:<11} {:<11} {:<5} {:<11} {}\n",
                       r.state == MemoryState::Free ? " " : "+", r.start, r.end, r.size(),
                       memory_type_name(r.type), memory_state_name(r.state), r.protection,
                       in_dump_text(r), usage_text(r));
}

CommandOutput list(const std::vector<Region>& regions) {
    CommandOutput out;
    out.text = fmt::format("  {:>12} {:>12} {:>12} {:<11} {:<11} {:<5} {:<11} {}\n", "BaseAddr",
                           "EndAddr+1", "RgnSize", "Type", "State", "Prot", "InDump", "Usage");
    out.json = json::array();
    for (const Region& r : regions) {
        out.text += row(r);
        out.json.push_back(region_json(r));
    }
    return out;
}

Result<CommandOutput> one(const std::vector<Region>& regions, uint64_t address) {
    for (const Region& r : regions) {
        if (address < r.start || address >= r.end) continue;
        CommandOutput out;
        out.text = fmt::format(
            "Usage:                  {}\nBase Address:           {}\nEnd Address:            {}\n"
            "Region Size:            {} ({})\nState:                  {}\nProtect:                "
            "{}\n"
            "Type:                   {}\nIn the dump:            {} bytes\n",
            usage_text(r), windbg_pointer(r.start), windbg_pointer(r.end), windbg_pointer(r.size()),
            r.size(), memory_state_name(r.state), protect_text(r), memory_type_name(r.type),
            r.bytes_in_dump);
        if (!r.path.empty())
            out.text += "Mapping:                " + printable_bytes(r.path) + "\n";
        out.json = region_json(r);
        return out;
    }
    return Error{fmt::format("{:#x} is outside the user address space", address)};
}

struct Tally {
    uint64_t count = 0;
    uint64_t size = 0;
    uint64_t in_dump = 0;
    uint64_t largest = 0;
};

std::string percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? "  0.00%"
                      : fmt::format("{:6.2f}%",
                                    100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

CommandOutput summary(const std::vector<Region>& regions) {
    std::map<std::string, Tally> by_usage, by_type, by_state;
    uint64_t busy = 0, total = 0;
    for (const Region& r : regions) {
        const bool free = r.state == MemoryState::Free;
        for (auto* table : {&by_usage, &by_type, &by_state}) {
            const std::string key = table == &by_usage ? usage_name(r.usage)
                                    : table == &by_type
                                        ? (free ? "<free>" : memory_type_name(r.type))
                                        : memory_state_name(r.state);
            Tally& t = (*table)[key];
            ++t.count;
            t.size += r.size();
            t.in_dump += r.bytes_in_dump;
            t.largest = std::max(t.largest, r.size());
        }
        total += r.size();
        if (!free) busy += r.size();
    }
    CommandOutput out;
    out.json = {{"total", total}, {"busy", busy}};
    auto table = [&](const char* title, const char* column,
                     const std::map<std::string, Tally>& rows, bool busy_share) {
        out.text += fmt::format("\n--- {} Summary {:-<40}\n", title, "");
        out.text += fmt::format("{:<12} {:>8} {:>20} {:>9} {:>9} {:>20}\n", column, "RgnCount",
                                "TotalSize", "%ofBusy", "%ofTotal", "InDump");
        json rows_json = json::array();
        for (const auto& [name, t] : rows) {
            const bool free = name == "Free" || name == "<free>" || name == "MEM_FREE";
            out.text += fmt::format("{:<12} {:>8} {:>12x} ({:>5}) {:>9} {:>9} {:>12x} ({:>5})\n",
                                    name, t.count, t.size, human_size(t.size),
                                    busy_share && !free ? percent(t.size, busy) : "",
                                    percent(t.size, total), t.in_dump, human_size(t.in_dump));
            rows_json.push_back(
                {{"name", name},
                 {"regions", t.count},
                 {"size", t.size},
                 {"largest", t.largest},
                 {"bytes_in_dump", t.in_dump},
                 {"percent_of_busy", free || busy == 0 ? json() : json(100.0 * t.size / busy)},
                 {"percent_of_total", 100.0 * t.size / total}});
        }
        out.json[std::string(title) == "Usage"  ? "usage"
                 : std::string(title) == "Type" ? "type"
                                                : "state"] = rows_json;
    };
    table("Usage", "Usage", by_usage, true);
    table("Type", "Type", by_type, true);
    table("State", "State", by_state, true);
    out.text += fmt::format("\nTot: {:x} ({}) Busy: {:x} ({})\n", total, human_size(total), busy,
                            human_size(busy));
    out.text += "\n--- Largest Region by Usage " + std::string(40, '-') + "\n";
    for (const auto& [name, t] : by_usage) {
        out.text += fmt::format("{:<12} {:>12x} ({})\n", name, t.largest, human_size(t.largest));
    }
    return out;
}

}  // namespace

std::string human_size(uint64_t bytes) {
    if (bytes >= (1ull << 40)) return fmt::format("{:.3f} TiB", bytes / double(1ull << 40));
    if (bytes >= (1ull << 30)) return fmt::format("{:.3f} GiB", bytes / double(1ull << 30));
    if (bytes >= (1ull << 20)) return fmt::format("{:.3f} MiB", bytes / double(1ull << 20));
    if (bytes >= (1ull << 10)) return fmt::format("{:.3f} KiB", bytes / double(1ull << 10));
    return fmt::format("{} B", bytes);
}

Result<CommandOutput> command_regions(DumpAnalysis& dump, const CommandArgs& args) {
    if (args.size() > 1) return Error{"usage: !address [ADDR | -summary]"};
    if (args.empty()) return list(classify_regions(dump.snapshot(), true));
    if (args[0] == "-summary" || args[0] == "--summary") {
        return summary(classify_regions(dump.snapshot(), true));
    }
    auto address = parse_windbg_number(args[0]);
    if (!address.ok()) return address.error();
    return one(classify_regions(dump.snapshot(), true), *address);
}

}  // namespace dumpscope::analysis
