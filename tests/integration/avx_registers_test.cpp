// A thread's ymm8 through a minidump and through `convert` to gdb: fixture_avx holds a known
// pattern in ymm8 while it waits; `dumpscope registers --thread TID ymm8` on its minidump shows
// the pattern, so does dumpscope on the core that `convert` makes of that minidump, and gdb (the
// independent reader) shows the same value in that core (where gdb 13 can read this CPU's XSAVE
// layout at all: on AMD Zen 4 it takes only the xmm half, as it does from the kernel's cores).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <regex>

#include "support.h"

using namespace test_support;

namespace {

std::vector<uint64_t> pattern_of(const Fixture& fixture) {
    std::vector<uint64_t> lanes;
    for (const auto& lane : fixture.info().at("ymm8")) {
        lanes.push_back(std::strtoull(lane.get<std::string>().c_str(), nullptr, 16));
    }
    return lanes;
}

struct GdbYmm {
    std::vector<uint64_t> lanes;  // the lanes gdb shows, in order (fewer when some are unavailable)
    bool xstate_too_small = false;  // gdb refused NT_X86_XSTATE as smaller than it expects
};

// gdb's `p/x $ymm8.v4_int64` in the thread with LWP `tid`.
GdbYmm gdb_ymm8(const std::string& program, const std::string& core, pid_t tid) {
    GdbYmm got;
    const CommandResult r = run({"gdb", "-batch", "-nx", "-ex", "set debuginfod enabled off", "-ex",
                                 "thread apply all p/x $ymm8.v4_int64", program, core},
                                300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    got.xstate_too_small = (r.out + r.err).find("in core file too small") != std::string::npos;
    const std::string marker = "(LWP " + std::to_string(tid) + ")";
    const size_t at = r.out.find(marker);
    if (at == std::string::npos) {
        ADD_FAILURE() << "gdb lists no thread " << tid << ":\n" << r.out;
        return got;
    }
    std::smatch m;
    const std::string rest = r.out.substr(at);
    if (!std::regex_search(rest, m, std::regex(R"(=\s*\{([^}]*)\})"))) {
        ADD_FAILURE() << "no value of $ymm8 after " << marker << ":\n" << rest;
        return got;
    }
    const std::string values = m[1];
    const std::regex hex("0x[0-9a-f]+");
    for (std::sregex_iterator it(values.begin(), values.end(), hex), end; it != end; ++it) {
        got.lanes.push_back(std::strtoull(it->str().c_str(), nullptr, 16));
    }
    return got;
}

TEST(AvxRegisters, Ymm8GoesThroughAMinidumpAndConvertToGdbUnchanged) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx")) GTEST_SKIP() << "the CPU has no AVX";
    Fixture fixture("fixture_avx");
    const pid_t tid = fixture.info().at("tid").get<pid_t>();
    const std::vector<uint64_t> pattern = pattern_of(fixture);
    ASSERT_EQ(pattern.size(), 4u);
    TempDir dir;
    const std::string dump = collect_into(dir.path(), fixture.pid(), "mini", "minidump");

    const CommandResult json = run(
        {dumpscope_binary(), "registers", dump, "--thread", std::to_string(tid), "--json", "ymm8"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(nlohmann::json::parse(json.out).at("ymm8").get<std::vector<uint64_t>>(), pattern)
        << json.out;
    const CommandResult text =
        run({dumpscope_binary(), "registers", dump, "--thread", std::to_string(tid)});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    char lanes[128];
    std::snprintf(
        lanes, sizeof lanes, "ymm8={%#018llx %#018llx %#018llx %#018llx}",
        static_cast<unsigned long long>(pattern[0]), static_cast<unsigned long long>(pattern[1]),
        static_cast<unsigned long long>(pattern[2]), static_cast<unsigned long long>(pattern[3]));
    EXPECT_NE(text.out.find(lanes), std::string::npos) << text.out;

    const std::string core = dir.path() + "/converted.core";
    const CommandResult converted = run({dumpscope_binary(), "convert", "--quiet", dump, core});
    ASSERT_EQ(converted.exit_code, 0) << converted.err;
    const CommandResult from_core = run(
        {dumpscope_binary(), "registers", core, "--thread", std::to_string(tid), "--json", "ymm8"});
    ASSERT_EQ(from_core.exit_code, 0) << from_core.err;
    EXPECT_EQ(nlohmann::json::parse(from_core.out).at("ymm8").get<std::vector<uint64_t>>(), pattern)
        << "NT_X86_XSTATE of the converted core";

    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed (make deps)";
    const GdbYmm gdb = gdb_ymm8(fixture.path(), core, tid);
    if (gdb.xstate_too_small) {
        // gdb 13 knows only Intel's XSAVE offsets: on CPUs that lay out AVX-512 without Intel's
        // MPX gap (AMD Zen 4: 2432 bytes for XCR0 0xe7, where gdb expects 2688) it refuses the
        // kernel's own NT_X86_XSTATE the same way, and shows the lower halves from NT_PRFPREG.
        ASSERT_EQ(gdb.lanes.size(), 2u);
        EXPECT_EQ(gdb.lanes, std::vector<uint64_t>(pattern.begin(), pattern.begin() + 2));
        std::cout << "gdb refuses this CPU's XSAVE layout; checked xmm8's half of ymm8 only\n";
    } else {
        EXPECT_EQ(gdb.lanes, pattern);
    }
}

}  // namespace
