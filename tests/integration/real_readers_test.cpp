// Independent readers: lldb loads every minidump preset and names the fixture's functions on
// the right threads; gdb and eu-stack load every ELF core and show the same stacks. The same for
// dumps written from a clone (`--clone=required`, the presets with memory).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

#include "shared_waiters.h"
#include "support.h"

using namespace test_support;

namespace {

constexpr uint64_t kDataMarker = 0xD47A5E6D47A5E6D4ull;

std::string lldb_binary() { return have_program("lldb-16") ? "lldb-16" : "lldb"; }

// Splits "bt all" output into one block per thread, keyed by the thread id lldb/gdb print.
std::map<int, std::string> blocks_by_tid(const std::string& text, const std::regex& header) {
    std::map<int, std::string> blocks;
    std::istringstream in(text);
    std::string line;
    int current = -1;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, header)) current = std::stoi(m[1].str(), nullptr, 0);
        if (current >= 0) blocks[current] += line + "\n";
    }
    return blocks;
}

// (preset, written from a clone)
class RealReaders : public SharedWaiters<::testing::TestWithParam<std::tuple<std::string, bool>>> {
protected:
    std::string preset() const { return std::get<0>(GetParam()); }
    std::string dump(const std::string& format) {
        return collect(preset(), format, std::get<1>(GetParam()));
    }
};

TEST_P(RealReaders, LldbShowsEveryThreadsFunctionsAndTheDataMarkerOnlyWhenIncluded) {
    if (!have_program(lldb_binary())) GTEST_SKIP() << "lldb is not installed (make deps)";
    const std::string type = preset();
    const std::string dump = this->dump("minidump");
    if (type == "tiny") {
        // No threads to walk: lldb must still load it.
        CommandResult r =
            run({lldb_binary(), "--no-lldbinit", "-b", "-c", dump, "-o", "thread list"}, 180);
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("was loaded"), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("tid ="), std::string::npos) << r.out;
        return;
    }
    CommandResult r =
        run({lldb_binary(), "--no-lldbinit", "-b", "-c", dump, "-o", "thread list", "-o", "bt all"},
            180);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // "thread list" maps lldb's index to the tid ("thread #2: tid = 1234, ..."); "bt all" then
    // prints each stack under "thread #2".
    std::map<int, int> tid_of_index;
    std::smatch m;
    std::string rest = r.out;
    while (std::regex_search(rest, m, std::regex(R"(thread #(\d+): tid = (\d+))"))) {
        tid_of_index[std::stoi(m[1].str())] = std::stoi(m[2].str());
        rest = m.suffix();
    }
    const size_t bt_start = r.out.find("(lldb) bt all");
    ASSERT_NE(bt_start, std::string::npos) << r.out;
    std::map<int, std::string> blocks;
    for (const auto& [index, block] :
         blocks_by_tid(r.out.substr(bt_start), std::regex(R"(^\*?\s*thread #(\d+))")))
        blocks[tid_of_index[index]] = block;
    ASSERT_EQ(blocks.size(), 4u) << r.out;
    EXPECT_NE(blocks[tid(0)].find("main_thread_wait"), std::string::npos) << blocks[tid(0)];
    EXPECT_NE(blocks[tid(0)].find("main"), std::string::npos);
    for (int i = 1; i <= 3; ++i) {
        EXPECT_NE(blocks[tid(i)].find("wait_forever_in_waiter"), std::string::npos)
            << blocks[tid(i)];
        EXPECT_NE(blocks[tid(i)].find("waiter_thread_main"), std::string::npos) << blocks[tid(i)];
    }
    // lldb fails a read of memory that is not in the dump: the exit code says nothing here.
    std::ostringstream read_marker;
    read_marker << "memory read --format x --size 8 --count 1 "
                << fixture_->address("data_marker_address");
    CommandResult read =
        run({lldb_binary(), "--no-lldbinit", "-b", "-c", dump, "-o", read_marker.str()}, 180);
    std::ostringstream marker;
    marker << "0x" << std::hex << kDataMarker;
    const bool expect_marker = type == "midi" || type == "maxi";
    EXPECT_EQ(read.out.find(marker.str()) != std::string::npos, expect_marker)
        << read.out << read.err;
}

TEST_P(RealReaders, GdbShowsEveryThreadsFunctionsFromTheCore) {
    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed (make deps)";
    const std::string type = preset();
    const std::string core = dump("core");
    if (type == "tiny") {  // no threads: gdb must still load it, and show none of the fixture's
        CommandResult r =
            run({"gdb", "-nx", "-batch", "-ex", "info threads", fixture_->path(), core}, 180);
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_EQ(r.out.find("LWP"), std::string::npos) << r.out;
        return;
    }
    std::ostringstream read_marker;
    read_marker << "x/gx " << fixture_->address("data_marker_address");
    CommandResult r = run({"gdb", "-nx", "-batch", "-ex", "set debuginfod enabled off", "-ex",
                           "thread apply all bt", "-ex", read_marker.str(), fixture_->path(), core},
                          180);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // gdb: "Thread 2 (LWP 1234 ...)" or "Thread 2 (Thread 0x... (LWP 1234))".
    auto blocks = blocks_by_tid(r.out, std::regex(R"(^Thread \d+ \(.*LWP (\d+))"));
    ASSERT_EQ(blocks.size(), 4u) << r.out << r.err;
    EXPECT_NE(blocks[tid(0)].find("main_thread_wait"), std::string::npos) << blocks[tid(0)];
    for (int i = 1; i <= 3; ++i)
        EXPECT_NE(blocks[tid(i)].find("waiter_thread_main"), std::string::npos) << blocks[tid(i)];
    std::ostringstream marker;
    marker << "0x" << std::hex << kDataMarker;
    const bool expect_marker = type == "midi" || type == "maxi";
    EXPECT_EQ(r.out.find(marker.str()) != std::string::npos, expect_marker) << r.out;
}

TEST_P(RealReaders, EuStackWalksEveryThreadOfTheCore) {
    if (!have_program("eu-stack")) GTEST_SKIP() << "eu-stack is not installed (make deps)";
    const std::string type = preset();
    const std::string core = dump("core");
    CommandResult r = run({"eu-stack", "--core", core, "--executable", fixture_->path()}, 120);
    if (type == "tiny") {  // eu-stack reads the process record and finds no thread
        EXPECT_NE(r.out.find("PID " + std::to_string(fixture_->pid())), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find("TID "), std::string::npos) << r.out;
        return;
    }
    // eu-stack exits 1 when some frame cannot be unwound further; the output is what counts.
    auto blocks = blocks_by_tid(r.out, std::regex(R"(^TID (\d+):)"));
    ASSERT_EQ(blocks.size(), 4u) << r.out << r.err;
    for (int i = 1; i <= 3; ++i)
        EXPECT_NE(blocks[tid(i)].find("waiter_thread_main"), std::string::npos) << blocks[tid(i)];
    EXPECT_NE(blocks[tid(0)].find("main_thread_wait"), std::string::npos) << blocks[tid(0)];
}

INSTANTIATE_TEST_SUITE_P(Presets, RealReaders,
                         ::testing::Combine(::testing::Values("tiny", "mini", "midi", "maxi"),
                                            ::testing::Values(false)));
INSTANTIATE_TEST_SUITE_P(FromAClone, RealReaders,
                         ::testing::Combine(::testing::Values("mini", "maxi"),
                                            ::testing::Values(true)));

}  // namespace
