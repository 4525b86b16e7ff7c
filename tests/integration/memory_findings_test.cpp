// `dumpscope analyze` on heaps with known contents (tests/fixtures/fixture_leak.cpp,
// fixture_heap.c), from the dump types docs/dump-types.md promises the memory findings for (midi
// and full; a mini dump says which type to take): a chain of lost objects is a leak suspect
// because it is unreachable, a group that grows between two dumps is the first suspect, and the
// biggest group of a heap that does neither is never one. The counts checked (how many chunks of
// which size and class, how many were lost, how many the list grew by) are the fixtures' own.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "monitored_child.h"
#include "support.h"

using namespace test_support;

namespace {

using nlohmann::json;

struct DumpKind {
    std::string type;
    std::string format;
};

std::string kind_name(const ::testing::TestParamInfo<DumpKind>& info) {
    return info.param.type + "_" + info.param.format;
}

json analyze(const std::vector<std::string>& dumps) {
    std::vector<std::string> argv{dumpscope_binary(), "analyze", "--json"};
    argv.insert(argv.end(), dumps.begin(), dumps.end());
    const CommandResult r = run(argv, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    try {
        return json::parse(r.out);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out << r.err;
        return json::object();
    }
}

std::vector<json> findings_of(const json& report, const std::string& kind) {
    std::vector<json> out;
    for (const json& f : report.value("findings", json::array()))
        if (f.at("kind") == kind) out.push_back(f);
    return out;
}

std::string describe(const json& report) { return report.dump(1).substr(0, 8000); }

// The group of the memory-usage finding with this chunk size (and type, when given).
const json* group_of(const json& usage, uint64_t chunk_size) {
    for (const json& g : usage.at("evidence").at("groups"))
        if (g.at("chunk_size").get<uint64_t>() == chunk_size) return &g;
    return nullptr;
}

bool contains(const json& value, const std::string& part) {
    return value.is_string() && value.get<std::string>().find(part) != std::string::npos;
}

class MemoryFindings : public ::testing::TestWithParam<DumpKind> {
protected:
    // A dump of `pid` into its own directory (several dumps of one process do not collide).
    std::string dump_of(pid_t pid) {
        dirs_.push_back(std::make_unique<TempDir>());
        return collect_into(dirs_.back()->path(), pid, GetParam().type, GetParam().format);
    }

private:
    std::vector<std::unique_ptr<TempDir>> dirs_;
};

TEST_P(MemoryFindings, ALostChainIsUnreachableAndTheWorkingSetIsNot) {
    DrivenFixture target("fixture_leak", {"lost"});
    const uint64_t lost = target.info().at("lost_blocks").get<uint64_t>();
    ASSERT_EQ(lost, 2000u);
    const json report = analyze({dump_of(target.pid())});

    const auto suspects = findings_of(report, "leak-suspect");
    ASSERT_EQ(suspects.size(), 1u) << describe(report);
    const json& suspect = suspects[0];
    EXPECT_EQ(suspect.at("severity"), "warning");
    EXPECT_EQ(suspect.at("evidence").at("reason"), "unreachable");
    const json& group = suspect.at("evidence").at("group");
    EXPECT_EQ(group.at("chunk_size"), 336);  // sizeof(Session) 320 + header, 16-aligned
    EXPECT_TRUE(contains(group.at("type"), "Session")) << group.dump();
    EXPECT_EQ(group.at("count").get<uint64_t>(), lost);
    // Each lost session points to the next: a chain that nothing outside it reaches. A stale
    // register could keep the last few; the chain itself must not keep any.
    EXPECT_GE(group.at("unreachable_count").get<uint64_t>(), lost - 8) << group.dump();
    EXPECT_LE(group.at("unreachable_count").get<uint64_t>(), lost);
    ASSERT_FALSE(group.at("samples").empty());
    EXPECT_TRUE(suspect.at("summary").get<std::string>().find("unreachable") != std::string::npos);

    // The working set: reachable from a global array, through a chain of chunks from a global
    // head, and two mmapped buffers held in globals.
    const auto usage = findings_of(report, "memory-usage");
    ASSERT_EQ(usage.size(), 1u) << describe(report);
    EXPECT_EQ(usage[0].at("severity"), "info");
    const json& evidence = usage[0].at("evidence");
    EXPECT_TRUE(evidence.at("reachability").at("checked").get<bool>()) << evidence.dump();
    const json& groups = evidence.at("groups");
    ASSERT_FALSE(groups.empty());
    EXPECT_EQ(groups[0].at("chunk_size"), 1008);  // the biggest group: 3000 x malloc(1000)
    EXPECT_EQ(groups[0].at("count"), target.info().at("cache_blocks"));
    EXPECT_EQ(groups[0].at("unreachable_count"), 0);
    const json* list = group_of(usage[0], 80);  // 200 x malloc(64), reached chunk by chunk
    ASSERT_NE(list, nullptr) << groups.dump();
    EXPECT_EQ(list->at("count"), target.info().at("list_records"));
    EXPECT_EQ(list->at("unreachable_count"), 0);
    // The first cache block is pointed to by g_cache[0], the others by their slots.
    bool named_global = false;
    for (const json& sample : groups[0].at("samples"))
        for (const json& r : sample.at("referrers"))
            named_global |= contains(r.at("symbol"), "g_cache");
    EXPECT_TRUE(named_global) << groups[0].dump();
    EXPECT_EQ(evidence.at("heap").at("mmapped_chunks"), target.info().at("big_buffers"));
    EXPECT_GE(evidence.at("heap").at("mmapped_bytes").get<uint64_t>(), 2u << 20);
    EXPECT_GT(evidence.at("explained").at("share").get<double>(), 0.5);
}

TEST_P(MemoryFindings, AGroupThatGrowsBetweenTwoDumpsIsTheFirstSuspect) {
    DrivenFixture target("fixture_leak", {"grow"});
    target.send("grow");
    const uint64_t before = target.read_json().at("grown").get<uint64_t>();
    const std::string first = dump_of(target.pid());
    target.send("grow");
    target.read_json();
    target.send("grow");
    const uint64_t after = target.read_json().at("grown").get<uint64_t>();
    const std::string second = dump_of(target.pid());
    ASSERT_EQ(after - before, 6000u);

    const json report = analyze({first, second});
    std::vector<json> growth;
    for (const json& f : findings_of(report, "leak-suspect")) {
        EXPECT_EQ(f.at("evidence").at("reason"), "growth") << f.dump(1);
        growth.push_back(f);
    }
    ASSERT_FALSE(growth.empty()) << describe(report);
    const json& suspect = growth[0];
    EXPECT_EQ(suspect.at("severity"), "warning");
    EXPECT_EQ(suspect.at("dump"), second);
    const json& group = suspect.at("evidence").at("group");
    EXPECT_EQ(group.at("chunk_size"), 432);  // sizeof(OrderCache::Entry) 416 + header
    EXPECT_EQ(group.at("type"), "OrderCache::Entry");
    EXPECT_EQ(group.at("count_before").get<uint64_t>(), before);
    EXPECT_EQ(group.at("count_after").get<uint64_t>(), after);
    EXPECT_NE(suspect.at("summary").get<std::string>().find("first suspect"), std::string::npos);
    // The new entries are pointed to by the entry allocated after them, or by the list's head.
    ASSERT_FALSE(suspect.at("evidence").at("samples").empty());
    for (const json& sample : suspect.at("evidence").at("samples")) {
        ASSERT_TRUE(sample.at("referrers").is_array()) << sample.dump();
        EXPECT_FALSE(sample.at("referrers").empty()) << sample.dump();
    }
    // Nothing else grew: the cache of 1000-byte blocks is the same in both.
    for (const json& f : growth)
        EXPECT_NE(f.at("evidence").at("group").at("chunk_size"), 1008) << f.dump(1);

    // One dump alone: the growing list is the biggest group, reachable; not a suspect by itself.
    const json alone = analyze({second});
    EXPECT_TRUE(findings_of(alone, "leak-suspect").empty()) << describe(alone);
    const auto usage = findings_of(alone, "memory-usage");
    ASSERT_EQ(usage.size(), 1u);
    EXPECT_EQ(usage[0].at("evidence").at("groups")[0].at("type"), "OrderCache::Entry");
}

TEST_P(MemoryFindings, AHealthyHeapGetsOnlyItsUsage) {
    DrivenFixture target("fixture_heap");
    const std::string dump = dump_of(target.pid());
    const json report = analyze({dump});
    for (const json& f : report.at("findings")) {
        EXPECT_EQ(f.at("severity"), "info") << f.dump(1);
        EXPECT_EQ(f.at("kind"), "memory-usage") << f.dump(1);
    }
    const auto usage = findings_of(report, "memory-usage");
    ASSERT_EQ(usage.size(), 1u) << describe(report);
    const json& biggest = usage[0].at("evidence").at("groups")[0];
    EXPECT_EQ(biggest.at("chunk_size"), 1008);
    EXPECT_EQ(biggest.at("count"), target.info().at("main_arena_blocks"));
    EXPECT_EQ(biggest.at("unreachable_count"), 0);
    const CommandResult text = run({dumpscope_binary(), "analyze", dump});
    EXPECT_EQ(text.out.rfind("No problems found.", 0), 0u) << text.out;
    EXPECT_NE(text.out.find("memory-usage"), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(Types, MemoryFindings,
                         ::testing::Values(DumpKind{"midi", "minidump"},
                                           DumpKind{"full", "minidump"}, DumpKind{"full", "core"}),
                         kind_name);

TEST(MemoryFindingsMini, AMiniDumpSaysWhichTypeHasTheHeap) {
    DrivenFixture target("fixture_leak", {"lost"});
    TempDir dir;
    const json report = analyze({collect_into(dir.path(), target.pid(), "mini", "minidump")});
    EXPECT_TRUE(findings_of(report, "memory-usage").empty()) << describe(report);
    EXPECT_TRUE(findings_of(report, "leak-suspect").empty()) << describe(report);
    bool said = false;
    for (const json& note : report.at("dumps")[0].at("notes"))
        said |= contains(note, "heap not in this mini dump") && contains(note, "--type midi");
    EXPECT_TRUE(said) << report.at("dumps")[0].at("notes").dump();
}

}  // namespace
