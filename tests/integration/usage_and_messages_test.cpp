// What a user trips over (issue 11, item 9): every usage error exits 2 (CLI11's and ours), empty
// or absurd option values are refused, and commands that have nothing to show say why; `info`
// agrees with `modules`, and `convert` keeps what a gcore core knows (name, command line,
// parent) and never stamps the conversion time as the capture time.
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support.h"

using namespace test_support;

namespace {

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

nlohmann::json json_of(const std::vector<std::string>& argv) {
    const CommandResult r = run(argv, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

TEST(UsageErrors, EveryUsageErrorExitsTwo) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string pid = std::to_string(target.pid());
    const std::string dump = collect_into(dir.path(), target.pid(), "mini", "minidump");
    const std::vector<std::vector<std::string>> cases = {
        {"collect", "--no-such-option", pid, dir.path()},  // CLI11: 109
        {"collect", "--format", "zip", pid, dir.path()},   // CLI11: 105
        {"info"},                                          // CLI11: 106
        {"collect", "--max-stack", "0", pid, dir.path()},
        {"collect", "--type", "", pid, dir.path()},
        {"collect", "--flags", "", pid, dir.path()},
        {"collect", "--flags", ",", pid, dir.path()},
        {"collect", "--add-memory", "0:0xffffffffffffffff", pid, dir.path()},
        {"collect", "--add-memory", "0x1000:0", pid, dir.path()},
        {"stack", "--symbols", "/nonexistent", dump},
    };
    for (const auto& args : cases) {
        std::vector<std::string> argv = {dumpscope_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = run(argv);
        std::string shown;
        for (const auto& a : args) shown += "'" + a + "' ";
        EXPECT_EQ(r.exit_code, 2) << shown << r.err;
        EXPECT_FALSE(r.err.empty()) << shown;
    }
    EXPECT_EQ(run({dumpscope_binary(), "--help"}).exit_code, 0);
    EXPECT_EQ(run({dumpscope_binary(), "collect", "--help"}).exit_code, 0);
    EXPECT_EQ(dir.files().size(), 1u);  // only the dump made above
    EXPECT_TRUE(running_and_not_stopped(target.pid()));
}

// An --add-memory range with no readable byte is refused like one past the address space.
TEST(UsageErrors, UnreadableAddMemoryRangeIsRefusedToo) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const CommandResult r = run({dumpscope_binary(), "collect", "--add-memory", "0x1000:0x1000",
                                 std::to_string(target.pid()), dir.path()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find("not readable"), std::string::npos) << r.err;
    EXPECT_TRUE(dir.files().empty());
}

TEST(EmptyAnswers, CommandsWithNothingToShowSayWhy) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string tiny = collect_into(dir.path(), target.pid(), "tiny", "minidump");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"threads", tiny}, {"stack", "--all", tiny}}) {
        std::vector<std::string> argv = {dumpscope_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("the dump holds no threads (a tiny dump"), std::string::npos)
            << args[0] << ": " << r.out;
    }
    const CommandResult end = run({dumpscope_binary(), "memory", tiny, "0xffffffffffffffff", "16"});
    EXPECT_EQ(end.exit_code, 1);
    EXPECT_TRUE(one_line(end.err)) << end.err;
    EXPECT_NE(end.err.find("end of the 64-bit address space"), std::string::npos) << end.err;
    const CommandResult cut = run({dumpscope_binary(), "memory", tiny, "0xfffffffffffffff8", "16"});
    EXPECT_EQ(cut.exit_code, 0) << cut.err;
    EXPECT_NE(cut.out.find("cut at the end of the address space"), std::string::npos) << cut.out;
}

// !address -summary: InDump in the units of TotalSize (hex bytes and a human size).
TEST(EmptyAnswers, RegionSummaryInDumpColumnHasUnits) {
    Fixture target("fixture_waiters");
    TempDir dir;
    const std::string dump = collect_into(dir.path(), target.pid(), "mini", "minidump");
    const CommandResult r = run({dumpscope_binary(), "regions", "--summary", dump});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t rows = 0;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        // The rows of the summary tables (the last table, largest regions, has no InDump).
        if (line.rfind("Stack ", 0) != 0 && line.rfind("Image ", 0) != 0) continue;
        if (line.find('%') == std::string::npos) continue;
        ++rows;
        // "... 1a000 (104.000 KiB)" twice: TotalSize and InDump.
        size_t units = 0;
        for (const char* unit : {" B)", "KiB)", "MiB)", "GiB)"}) {
            for (size_t at = line.find(unit); at != std::string::npos; at = line.find(unit, at + 1))
                ++units;
        }
        EXPECT_EQ(units, 2u) << line;
    }
    EXPECT_GE(rows, 2u) << r.out;
}

class GcoreCore : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_program("gcore")) GTEST_SKIP() << "gcore missing";
        target_ = std::make_unique<Fixture>("fixture_waiters");
        core_ = dir_.path() + "/gcore";
        const CommandResult r = run({"gcore", "-o", core_, std::to_string(target_->pid())}, 300);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        core_ += '.';
        core_ += std::to_string(target_->pid());
    }
    TempDir dir_;
    std::unique_ptr<Fixture> target_;
    std::string core_;
};

TEST_F(GcoreCore, InfoAgreesWithModulesAndSaysTheKernelVersionIsUnknown) {
    const nlohmann::json info = info_json(core_);
    const nlohmann::json modules = json_of({dumpscope_binary(), "modules", "--json", core_});
    ASSERT_TRUE(modules.is_array()) << modules.dump();
    EXPECT_EQ(info.at("module_count").get<size_t>(), modules.size());
    EXPECT_NE(info.at("os").get<std::string>().find("records no kernel version"), std::string::npos)
        << info.at("os");

    // A dumpscope core records uname: info shows the kernel release.
    const std::string ours = collect_into(dir_.path(), target_->pid(), "mini", "core");
    utsname u{};
    ASSERT_EQ(::uname(&u), 0);
    EXPECT_NE(info_json(ours).at("os").get<std::string>().find(u.release), std::string::npos);
}

TEST_F(GcoreCore, ConvertKeepsNameCommandLineParentAndNoConversionTime) {
    const std::string converted = dir_.path() + "/converted.dmp";
    const CommandResult r = run({dumpscope_binary(), "convert", core_, converted}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json info = info_json(converted);
    EXPECT_EQ(info.at("process_name").get<std::string>(), "fixture_waiters");
    EXPECT_NE(info.at("command_line").get<std::string>().find("fixture_waiters"), std::string::npos)
        << info.at("command_line");
    ASSERT_TRUE(info.contains("capture"));
    EXPECT_EQ(info.at("capture").at("capture_time_unix").get<uint64_t>(), 0u);
    const std::string notes = info.at("capture").at("notes").dump();
    EXPECT_NE(notes.find("capture time unknown"), std::string::npos) << notes;
    const nlohmann::json target = json_of({dumpscope_binary(), "vertarget", "--json", converted});
    EXPECT_EQ(target.at("process").at("ppid").get<int>(), ::getpid()) << target.dump();
    EXPECT_FALSE(target.contains("dump_time_unix")) << target.dump();
}

}  // namespace
