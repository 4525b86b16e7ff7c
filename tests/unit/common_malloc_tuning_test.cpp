// The analysis commands' malloc settings: after tune_malloc_for_analysis, a large block comes from
// the heap (not a mapping of its own) in memory marked for transparent huge pages (VmFlags "hg" in
// /proc/self/smaps), and memory freed there is reused, not returned to the system.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "common/malloc_tuning.h"

namespace dumpscope {
namespace {

// The VmFlags of the mapping holding `address`, "" when none does.
std::string vm_flags_at(const void* address) {
    const auto a = reinterpret_cast<uintptr_t>(address);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        uintptr_t start = 0, end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> start >> dash >> end && dash == '-') {
            inside = a >= start && a < end;
            continue;
        }
        if (inside && line.rfind("VmFlags:", 0) == 0) return line;
    }
    return "";
}

bool huge_pages_possible() {
    std::ifstream enabled("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    std::getline(enabled, modes);
    return !modes.empty() && modes.find("[never]") == std::string::npos;
}

TEST(MallocTuning, LargeBlocksComeFromAHeapInHugePages) {
    tune_malloc_for_analysis();
    constexpr size_t kBlock = 24u << 20;  // a vector of a million chunk records
    void* block = std::malloc(kBlock);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, kBlock);
    // (Its first bytes may lie before the first whole huge page of the heap's new part.)
    const std::string flags = vm_flags_at(static_cast<char*>(block) + kBlock / 2);
    ASSERT_FALSE(flags.empty());
    if (huge_pages_possible()) {
        EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
    }
    // Freed and asked for again: the same memory (kept, not unmapped).
    std::free(block);
    void* again = std::malloc(kBlock);
    EXPECT_EQ(again, block);
    std::free(again);
}

}  // namespace
}  // namespace dumpscope
