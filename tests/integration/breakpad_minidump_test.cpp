// A minidump written by another producer - Google Breakpad's Linux client, at a real crash
// (tests/data/breakpad/README.md) - read by every analysis command: the threads, the exception,
// the modules with their build-ids, the memory at the stack pointer, and stacks whose first
// frame is the faulting instruction. The program's binary is not in the repository, so its
// frames are unnamed; libc's names depend on the machine's libc and are not checked.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "analysis_support.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

constexpr int kMainTid = 31869;
constexpr uint64_t kCrashOffset = 0x3bc8;  // crash_here+0x10 in the crasher

std::string dump_path() {
    return std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/data/breakpad/crasher.dmp";
}

nlohmann::json json_of(const std::vector<std::string>& command) {
    std::vector<std::string> argv{dumpscope_binary()};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--json");
    argv.push_back(dump_path());
    const CommandResult r = run(argv, 120);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

TEST(BreakpadMinidump, ThreadsExceptionAndProcess) {
    const nlohmann::json info = json_of({"info"});
    EXPECT_EQ(info["pid"], kMainTid);
    EXPECT_EQ(info["process_name"], "crasher_main");
    EXPECT_EQ(info["thread_count"], 3);
    EXPECT_EQ(info["module_count"], 7);

    // SystemInfo says 1 (Breakpad's cpuinfo reader gives up at long lines); its LinuxCpuInfo
    // stream lists the machine's 2 processors.
    EXPECT_EQ(json_of({"vertarget"})["system"]["cpu_count"], 2);

    const nlohmann::json exception = json_of({"exception"});
    EXPECT_EQ(exception["signal"], 11);
    EXPECT_EQ(exception["code_name"], "SEGV_MAPERR");
    EXPECT_EQ(exception["address"], 0);
    EXPECT_EQ(exception["tid"], kMainTid);

    const nlohmann::json threads = json_of({"threads"});
    ASSERT_EQ(threads.size(), 3u);
    std::set<int> tids;
    for (const auto& t : threads) tids.insert(t["tid"].get<int>());
    EXPECT_EQ(tids, (std::set<int>{kMainTid, kMainTid + 1, kMainTid + 2}));
}

TEST(BreakpadMinidump, ModulesKeepTheirBuildIds) {
    std::map<std::string, std::string> ids;
    for (const auto& m : json_of({"modules"})) {
        ids[m["path"].get<std::string>()] = m["build_id"].is_string() ? m["build_id"] : "";
    }
    EXPECT_EQ(ids["/srv/crasher"], "fd1e47eb168a68a045507c85a4f0a78e5e375e00");
    EXPECT_TRUE(ids.count("/usr/lib/x86_64-linux-gnu/libc.so.6"));
    EXPECT_EQ(ids.size(), 7u);
}

TEST(BreakpadMinidump, StacksStartAtEachThreadsSavedContext) {
    const nlohmann::json stacks = json_of({"stack", "--all"});
    ASSERT_EQ(stacks["threads"].size(), 3u);
    for (const auto& thread : stacks["threads"]) {
        const auto& first = thread["frames"].at(0);
        EXPECT_EQ(first["trust"], "context");
        if (thread["thread_id"] == kMainTid) {
            EXPECT_EQ(first["module"], "crasher");
            EXPECT_EQ(std::stoull(first["module_offset"].get<std::string>(), nullptr, 16),
                      kCrashOffset);
        } else {
            EXPECT_EQ(first["module"], "libc.so.6") << thread.dump();
            EXPECT_GE(thread["frames"].size(), 2u) << "walked out of libc";
        }
    }
}

// Addresses and lengths are hexadecimal, as in WinDbg.
std::string fmt_hex(uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

TEST(BreakpadMinidump, MemoryAtTheStackPointerIsInTheDump) {
    const nlohmann::json registers = json_of({"registers"});
    const uint64_t rsp = registers["rsp"];
    ASSERT_NE(rsp, 0u);
    const CommandResult r =
        run({dumpscope_binary(), "memory", "--json", dump_path(), fmt_hex(rsp), "0x40"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["bytes_in_dump"], 64);
    const CommandResult zero =
        run({dumpscope_binary(), "memory", "--json", dump_path(), "0", "16"});
    ASSERT_EQ(zero.exit_code, 0) << zero.err;
    EXPECT_EQ(nlohmann::json::parse(zero.out)["bytes_in_dump"], 0)
        << "no bytes at the fault address";
}

}  // namespace
