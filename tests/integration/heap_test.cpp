// `dumpscope heap` on a real process with a known heap (tests/fixtures/fixture_heap.c): the arenas
// it has, the chunks of each size in use, on the tcache and in the bins, checked against what the
// fixture did and, for main_arena itself, against gdb reading the same core with libc's symbols.
#include <gtest/gtest.h>

#include <regex>

#include "support.h"

using namespace test_support;

namespace {

using nlohmann::json;

json heap_json(const std::string& dump, bool stat) {
    std::vector<std::string> argv = {dumpscope_binary(), "heap", "--json", dump};
    if (stat) argv.push_back("--stat");
    CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

uint64_t in_use_of_size(const json& stat, uint64_t chunk_size) {
    uint64_t count = 0;
    for (const json& g : stat.at("groups")) {
        if (g.at("chunk_size").get<uint64_t>() == chunk_size)
            count += g.at("count").get<uint64_t>();
    }
    return count;
}

class HeapWalk : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        fixture_ = new Fixture("fixture_heap");
        dir_ = new TempDir();
        core_ = collect_into(dir_->path(), fixture_->pid(), "full", "core");
        minidump_ = collect_into(dir_->path(), fixture_->pid(), "full", "minidump");
    }
    static void TearDownTestSuite() {
        delete fixture_;
        delete dir_;
    }
    static Fixture* fixture_;
    static TempDir* dir_;
    static std::string core_, minidump_;
};
Fixture* HeapWalk::fixture_ = nullptr;
TempDir* HeapWalk::dir_ = nullptr;
std::string HeapWalk::core_, HeapWalk::minidump_;

TEST_F(HeapWalk, TwoArenasWalkedToTheirTopsInBothFormats) {
    for (const std::string& dump : {core_, minidump_}) {
        SCOPED_TRACE(dump);
        const json s = heap_json(dump, false);
        EXPECT_EQ(s.at("allocator"), "glibc");
        EXPECT_EQ(s.at("glibc_version"), "2.36");
        EXPECT_EQ(s.at("found_by"), "symbol main_arena");
        EXPECT_TRUE(s.at("complete").get<bool>()) << s.at("notes").dump();
        ASSERT_EQ(s.at("arenas").size(), 2u);  // main, and the second thread's
        EXPECT_TRUE(s.at("arenas")[0].at("main").get<bool>());
        EXPECT_FALSE(s.at("arenas")[1].at("main").get<bool>());
        EXPECT_GE(s.at("tcaches").get<uint64_t>(), 2u);  // one per thread that used malloc
    }
}

TEST_F(HeapWalk, InUseChunksOfEachSizeAreWhatTheFixtureKept) {
    for (const std::string& dump : {core_, minidump_}) {
        SCOPED_TRACE(dump);
        const json stat = heap_json(dump, true);
        EXPECT_EQ(in_use_of_size(stat, 0x3f0), 900u);  // 1000 x malloc(1000), every tenth freed
        EXPECT_EQ(in_use_of_size(stat, 0xd0), 500u);   // 500 x malloc(200) in the thread's arena
    }
}

TEST_F(HeapWalk, MainArenaTopAndSystemMemoryAreWhatGdbReads) {
    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed";
    CommandResult gdb =
        run({"gdb", "-batch", "-nx", "-ex", "p/x (unsigned long) main_arena.top", "-ex",
             "p/x main_arena.system_mem", fixture_path("fixture_heap"), core_});
    ASSERT_EQ(gdb.exit_code, 0) << gdb.err;
    std::smatch m;
    const std::regex values(R"(\$1 = (0x[0-9a-f]+)\s+\$2 = (0x[0-9a-f]+))");
    ASSERT_TRUE(std::regex_search(gdb.out, m, values)) << gdb.out << gdb.err;
    const json s = heap_json(core_, false);
    const json& main_arena = s.at("arenas")[0];
    EXPECT_EQ(main_arena.at("top_chunk").get<uint64_t>(), std::stoull(m[1].str(), nullptr, 16));
    EXPECT_EQ(main_arena.at("system_mem").get<uint64_t>(), std::stoull(m[2].str(), nullptr, 16));
}

// gdb walks every arena's chunks itself (tests/integration/gdb_heap_walk.py, with libc's DWARF
// types: malloc_state, heap_info, mp_.sbrk_base, each thread's tcache): the chunks whose header
// says in use are our in-use plus our cached (tcache, fastbin) chunks, the free ones are ours,
// and the tcache and fastbin counts add up to our cached chunks. Both dump formats agree.
TEST_F(HeapWalk, EveryArenaAddsUpAsGdbWalksIt) {
    if (!have_program("gdb")) GTEST_SKIP() << "gdb is not installed";
    CommandResult gdb =
        run({"gdb", "-batch", "-nx", "-ex",
             "source " + std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/integration/gdb_heap_walk.py",
             fixture_path("fixture_heap"), core_});
    ASSERT_EQ(gdb.exit_code, 0) << gdb.err;
    const size_t at = gdb.out.find("GDB-HEAP ");
    ASSERT_NE(at, std::string::npos) << gdb.out << gdb.err;
    const json theirs = json::parse(gdb.out.substr(at + 9, gdb.out.find('\n', at) - at - 9));
    for (const std::string& dump : {core_, minidump_}) {
        SCOPED_TRACE(dump);
        const json ours = heap_json(dump, false);
        ASSERT_EQ(ours.at("arenas").size(), theirs.at("arenas").size());
        uint64_t cached = 0;
        for (size_t i = 0; i < theirs.at("arenas").size(); ++i) {
            const json& a = ours.at("arenas")[i];
            const json& g = theirs.at("arenas")[i];
            EXPECT_EQ(a.at("address"), g.at("address"));
            EXPECT_EQ(a.at("in_use_chunks").get<uint64_t>() + a.at("cached_chunks").get<uint64_t>(),
                      g.at("in_use_chunks").get<uint64_t>());
            EXPECT_EQ(a.at("in_use_bytes").get<uint64_t>() + a.at("cached_bytes").get<uint64_t>(),
                      g.at("in_use_bytes").get<uint64_t>());
            EXPECT_EQ(a.at("free_chunks"), g.at("free_chunks"));
            EXPECT_EQ(a.at("free_bytes"), g.at("free_bytes"));
            cached += a.at("cached_chunks").get<uint64_t>();
            cached -= g.at("fastbin_chunks").get<uint64_t>();
        }
        EXPECT_EQ(cached, theirs.at("tcache_chunks").get<uint64_t>());
        EXPECT_GE(cached, 7u);  // the fixture's seven freed 1000-byte blocks at least
    }
}

TEST_F(HeapWalk, TextSaysWhatTheWalkDoesNotCover) {
    CommandResult r = run({dumpscope_binary(), "heap", core_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("glibc 2.36 malloc"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mmapped chunks (above the mmap threshold, each its own mapping): 0"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("not covered: memory of other allocators"), std::string::npos) << r.out;
}

TEST_F(HeapWalk, DebugShellHasHeapSAndHeapStat) {
    CommandResult r =
        run({dumpscope_binary(), "debug", core_, "-c", "!heap -s; !heap -stat; !heap -x"});
    EXPECT_EQ(r.exit_code, 1);  // the last word's argument is wrong
    EXPECT_NE(r.out.find("0:000> !heap -s"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("glibc 2.36 malloc: main_arena at"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0:000> !heap -stat"), std::string::npos) << r.out;
    // The 1000-byte blocks' row: chunk size, then how many are in use.
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(1008 B\s+900\s)"))) << r.out;
    EXPECT_NE(r.out.find("!heap takes -s"), std::string::npos) << r.out;
    const CommandResult help = run({dumpscope_binary(), "debug", core_, "-c", "help"});
    EXPECT_NE(help.out.find("!heap"), std::string::npos) << help.out;
}

TEST_F(HeapWalk, AMiniDumpSaysTheHeapIsNotInIt) {
    const std::string mini = collect_into(dir_->path(), fixture_->pid(), "mini", "minidump");
    CommandResult r = run({dumpscope_binary(), "heap", mini});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("take --type midi or full"), std::string::npos) << r.err;
}

}  // namespace
