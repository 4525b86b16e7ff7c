// The analysis commands' malloc settings: after tune_malloc_for_analysis, a large block comes from
// the heap (not a mapping of its own) in memory marked for transparent huge pages (VmFlags "hg" in
// /proc/self/smaps), memory freed there is reused, not returned to the system, and a limit on the
// process's data memory set before is kept.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

bool strict_overcommit() {
    std::ifstream mode("/proc/sys/vm/overcommit_memory");
    int value = 0;
    return mode >> value && value == 2;
}

TEST(MallocTuning, LargeBlocksComeFromAHeapInHugePages) {
    void* const before = sbrk(0);
    tune_malloc_for_analysis();
    // The heap grows by a gigabyte at once, unless the kernel commits it all (strict overcommit)
    // or a limit refuses it.
    const bool grown = static_cast<char*>(sbrk(0)) - static_cast<char*>(before) >= (1 << 30);
    EXPECT_TRUE(grown || strict_overcommit());
    constexpr size_t kBlock = 24u << 20;  // a vector of a million chunk records
    void* block = std::malloc(kBlock);
    ASSERT_NE(block, nullptr);
    std::memset(block, 1, kBlock);
    // (Its first bytes may lie before the first whole huge page of the heap's new part.)
    const std::string flags = vm_flags_at(static_cast<char*>(block) + kBlock / 2);
    ASSERT_FALSE(flags.empty());
    if (grown && huge_pages_possible()) {
        EXPECT_NE(flags.find(" hg"), std::string::npos) << flags;
    }
    // Freed and asked for again: the same memory (kept, not unmapped).
    std::free(block);
    void* again = std::malloc(kBlock);
    EXPECT_EQ(again, block);
    std::free(again);
}

// The kB of data memory (private writable mappings and the heap) the process has: what
// RLIMIT_DATA limits.
uint64_t vm_data_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmData:", 0) == 0) return std::stoull(line.substr(7));
    }
    return 0;
}

// The service limits each analysis child with RLIMIT_DATA, then tunes malloc: the heap grown
// ahead must count against the limit (here it does not fit, so it is not grown), and malloc must
// go on working.
TEST(MallocTuning, TheHeapGrownAheadStaysWithinRLIMIT_DATA) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const uint64_t allowed = (vm_data_kib() << 10) + (128u << 20);
        const rlimit limit{allowed, allowed};
        if (setrlimit(RLIMIT_DATA, &limit) != 0) _exit(10);
        void* const before = sbrk(0);
        tune_malloc_for_analysis();
        void* const after = sbrk(0);
        if (static_cast<char*>(after) - static_cast<char*>(before) > (128 << 20)) _exit(11);
        void* block = std::malloc(4u << 20);
        if (block == nullptr) _exit(12);
        std::memset(block, 1, 4u << 20);
        std::free(block);
        _exit((vm_data_kib() << 10) <= allowed ? 0 : 13);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace dumpscope
