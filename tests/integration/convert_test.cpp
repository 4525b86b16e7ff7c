// `dumpscope convert`: a reader followed by a writer. Our minidumps become cores gdb walks, our
// and gcore's cores become minidumps lldb walks, with the same stacks dumpscope finds in the
// original; a round trip keeps threads, names and modules; only memory the input holds is
// written.
#include <gtest/gtest.h>

#include <fstream>

#include "analysis_support.h"
#include "shared_waiters.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

class Convert : public SharedWaiters<::testing::Test> {
protected:
    std::string convert(const std::string& input, const std::string& output,
                        const std::vector<std::string>& options = {}) {
        std::vector<std::string> argv{dumpscope_binary(), "convert", "--quiet", input, output};
        argv.insert(argv.end(), options.begin(), options.end());
        const CommandResult r = run(argv, 300);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return output;
    }
};

TEST_F(Convert, MinidumpBecomesACoreGdbWalksLikeTheOriginal) {
    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed (make deps)";
    const std::string dump = collect("mini", "minidump");
    const std::string core = convert(dump, dir_.path() + "/converted.core");
    EXPECT_EQ(info_json(core).at("format"), "elf-core");
    const Stacks original = dumpscope_stacks(dump);
    EXPECT_TRUE(same_stacks(original, gdb_stacks(dir_.path(), fixture_->path(), core)));
    EXPECT_TRUE(same_stacks(original, dumpscope_stacks(core)));
}

TEST_F(Convert, CoreBecomesAMinidumpLldbWalksLikeTheOriginal) {
    if (!have_program(lldb_binary())) GTEST_SKIP() << "lldb is not installed (make deps)";
    const std::string core = collect("mini", "core");
    const std::string dump = convert(core, dir_.path() + "/converted.dmp");
    EXPECT_EQ(info_json(dump).at("format"), "minidump");
    const Stacks original = dumpscope_stacks(core);
    EXPECT_TRUE(same_stacks(original, lldb_stacks(dir_.path(), dump)));
    EXPECT_TRUE(same_stacks(original, dumpscope_stacks(dump)));
}

TEST_F(Convert, GcoreCoreBecomesAMinidumpLldbWalks) {
    if (!have_program("gcore") || !have_program(lldb_binary())) GTEST_SKIP() << "needs gcore, lldb";
    const std::string prefix = dir_.path() + "/gcore";
    ASSERT_EQ(run({"gcore", "-o", prefix, std::to_string(fixture_->pid())}, 300).exit_code, 0);
    const std::string gcore = prefix + "." + std::to_string(fixture_->pid());
    const std::string dump = convert(gcore, dir_.path() + "/from-gcore.dmp");
    const Stacks stacks = lldb_stacks(dir_.path(), dump);
    ASSERT_EQ(stacks.size(), 4u);
    EXPECT_TRUE(same_stacks(dumpscope_stacks(gcore), stacks));
    EXPECT_TRUE(has_function(stacks.at(fixture_->pid()), "main_thread_wait"));
}

TEST_F(Convert, RoundTripKeepsThreadsNamesModulesAndMemory) {
    const std::string dump = collect("mini", "minidump");
    const std::string core = convert(dump, dir_.path() + "/round.core");
    const std::string back = convert(core, dir_.path() + "/round.dmp");
    const auto threads = [](const std::string& path) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& t :
             nlohmann::json::parse(run({dumpscope_binary(), "threads", "--json", path}).out)) {
            out.push_back({t.at("tid"), t.at("name"), t.at("state"), t.at("pc"), t.at("sp")});
        }
        return out;
    };
    EXPECT_EQ(threads(dump), threads(core));
    EXPECT_EQ(threads(dump), threads(back));
    const auto modules = [](const std::string& path) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m :
             nlohmann::json::parse(run({dumpscope_binary(), "modules", "--json", path}).out)) {
            out.push_back({m.at("path"), m.at("base"), m.at("build_id")});
        }
        return out;
    };
    EXPECT_EQ(modules(dump), modules(core));
    EXPECT_EQ(modules(dump), modules(back));
    // Every byte the minidump holds is in the result, and nothing the minidump lacks.
    const auto in_dump = [](const std::string& path) {
        return nlohmann::json::parse(
                   run({dumpscope_binary(), "regions", "--summary", "--json", path}).out)
            .at("state");
    };
    EXPECT_EQ(in_dump(core), in_dump(back));
    const nlohmann::json first = info_json(dump), last = info_json(back);
    EXPECT_EQ(first.at("memory_bytes"), last.at("memory_bytes"));
}

TEST_F(Convert, AFullConversionOfAMiniDumpAddsNoMemory) {
    const std::string dump = collect("mini", "minidump");
    const std::string again = convert(dump, dir_.path() + "/again.dmp", {"--type", "full"});
    EXPECT_EQ(info_json(dump).at("memory_bytes"), info_json(again).at("memory_bytes"));
}

TEST_F(Convert, BadInputAndExistingOutputAreErrors) {
    const std::string bad = dir_.path() + "/bad.dmp";
    std::ofstream(bad) << "MDMP";
    CommandResult r = run({dumpscope_binary(), "convert", bad, dir_.path() + "/out.core"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("too small"), std::string::npos) << r.err;
    const std::string dump = collect("mini", "minidump");
    const std::string out = convert(dump, dir_.path() + "/exists.core");
    r = run({dumpscope_binary(), "convert", dump, out});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(run({dumpscope_binary(), "convert", "--quiet", "--overwrite", dump, out}).exit_code,
              0);
}

}  // namespace
