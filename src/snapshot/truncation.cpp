#include "snapshot/truncation.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/printable_bytes.h"

namespace dumpscope {

namespace {

// Items named before "and N more".
constexpr size_t kNamedItems = 4;

}  // namespace

void Truncation::add(std::string what, uint64_t end) {
    cut.push_back(std::move(what));
    expected_size = std::max(expected_size, end);
}

void Truncation::add_memory(uint64_t size, uint64_t present, uint64_t end) {
    ++memory_ranges_cut;
    memory_bytes_absent += size - std::min(size, present);
    expected_size = std::max(expected_size, end);
}

std::string describe_truncation(const std::string& path, const Truncation& t) {
    if (!t.truncated()) return {};
    std::string text =
        fmt::format("{} is truncated: {} bytes missing (the file has {} of {} bytes)", path,
                    t.expected_size - t.file_size, t.file_size, t.expected_size);
    if (!t.cut.empty()) {
        text += "; cut: ";
        for (size_t i = 0; i < t.cut.size() && i < kNamedItems; ++i) {
            if (i > 0) text += ", ";
            text += t.cut[i];
        }
        if (t.cut.size() > kNamedItems)
            text += fmt::format(" and {} more", t.cut.size() - kNamedItems);
    }
    if (t.memory_ranges_cut > 0) {
        text += fmt::format("; {} memory range{} ({} bytes) read as absent", t.memory_ranges_cut,
                            t.memory_ranges_cut == 1 ? "" : "s", t.memory_bytes_absent);
    }
    return text;
}

}  // namespace dumpscope
