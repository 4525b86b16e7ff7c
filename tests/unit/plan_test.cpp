// The plan as pure logic: a hand-built snapshot with a fake memory source, no process.
#include "plan/plan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "output/write_context.h"
#include "plan/dump_flags.h"
#include "plan/memory_ranges.h"
#include "synthetic_snapshot.h"

using namespace dumpscope;

namespace {

// Memory made of 8-byte words set by the test; every other byte of a mapping reads as 0xAA.
class FakeMemory : public MemorySource {
public:
    explicit FakeMemory(const Snapshot* s) : snapshot_(s) {}
    std::map<uint64_t, uint64_t> words;
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        size_t n = 0;
        for (; n < out.size(); ++n) {
            const Mapping* m = snapshot_->mapping_at(addr + n);
            if (m == nullptr || !m->read) break;
            out[n] = 0xAA;
        }
        for (const auto& [a, v] : words) {
            for (int i = 0; i < 8; ++i) {
                const uint64_t at = a + static_cast<uint64_t>(i);
                if (at >= addr && at < addr + n)
                    out[at - addr] = static_cast<uint8_t>(v >> (8 * i));
            }
        }
        return n;
    }

private:
    const Snapshot* snapshot_;
};

constexpr uint64_t kExeBase = 0x400000, kExeData = 0x600000, kExeBss = 0x601000;
constexpr uint64_t kLibBase = 0x7f0000000000, kLibData = 0x7f0000200000;
constexpr uint64_t kOtherLib = 0x7f1000000000;
constexpr uint64_t kHeap = 0x1000000, kAnon = 0x2000000, kShared = 0x3000000;
constexpr uint64_t kStack = 0x7ffd00000000, kStackEnd = 0x7ffd00021000;
constexpr uint64_t kSp = 0x7ffd00020000;

Mapping mapping(uint64_t start, uint64_t size, const char* perms, std::string path = "",
                uint64_t inode = 0) {
    Mapping m;
    m.start = start;
    m.end = start + size;
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.shared = perms[3] == 's';
    m.path = std::move(path);
    m.inode = inode;
    return m;
}

class PlanTest : public ::testing::Test {
protected:
    void SetUp() override {
        s.process.pid = 42;
        s.mappings = {
            mapping(kExeBase, 0x3000, "r-xp", "/bin/app", 1),
            mapping(kExeData, 0x1000, "rw-p", "/bin/app", 1),
            mapping(kExeBss, 0x1000, "rw-p"),
            mapping(kHeap, 0x10000, "rw-p", "[heap]"),
            mapping(kAnon, 0x10000, "rw-p"),
            mapping(kShared, 0x1000, "rw-s", "/dev/shm/x", 3),
            mapping(kLibBase, 0x1000, "r-xp", "/lib/libc.so.6", 2),
            mapping(kLibData, 0x1000, "rw-p", "/lib/libc.so.6", 2),
            mapping(kOtherLib, 0x1000, "r-xp", "/lib/libm.so.6", 4),
            mapping(kStack, kStackEnd - kStack, "rw-p", "[stack]"),
        };
        s.modules = {{"/bin/app", kExeBase, kExeBss + 0x1000, {1, 2}, true},
                     {"/lib/libc.so.6", kLibBase, kLibData + 0x1000, {3, 4}, false},
                     {"/lib/libm.so.6", kOtherLib, kOtherLib + 0x1000, {5}, false}};
        Thread t;
        t.tid = 42;
        t.regs.edit_x86_64().gp.rsp = kSp;
        t.regs.edit_x86_64().gp.rip = kLibBase + 0x800;
        t.regs.edit_x86_64().gp.fs_base = kAnon + 0x8000;
        t.stack_start = kStack;
        t.stack_end = kStackEnd;
        s.threads.push_back(t);
        Thread t2 = t;
        t2.tid = 43;
        t2.regs.edit_x86_64().gp.rsp =
            kAnon + 0xf000;  // a thread stack inside the anonymous mapping
        t2.stack_start = kAnon;
        t2.stack_end = kAnon + 0x10000;
        s.threads.push_back(t2);
        memory = std::make_shared<FakeMemory>(&s);
        memory->words[kSp + 0x10] = kExeBase + 0x2123;  // return address into the executable
        memory->words[kSp + 0x18] = kHeap + 0x5000;     // pointer to the heap
        memory->words[kSp + 0x20] = 0x1234;             // a plain number
        s.memory = memory;
    }

    DumpContent plan(uint32_t flags, PlanOptions options = {}) {
        options.flags = flags;
        auto content = plan_dump(s, options);
        EXPECT_TRUE(content.ok()) << (content.ok() ? "" : content.error().message);
        return content.ok() ? *content : DumpContent{};
    }

    static bool covers(const DumpContent& c, uint64_t addr, uint64_t size = 1) {
        for (const auto& r : c.memory)
            if (addr >= r.start && addr + size <= r.end()) return true;
        return false;
    }

    Snapshot s;
    std::shared_ptr<FakeMemory> memory;
};

TEST_F(PlanTest, NormalHasUsedStacksAndInstructionWindowsOnly) {
    DumpContent c = plan(dump_flag::Normal);
    EXPECT_EQ(c.threads.size(), 2u);
    EXPECT_EQ(c.modules.size(), 3u);
    EXPECT_TRUE(covers(c, kSp - 128, kStackEnd - (kSp - 128)));  // red zone up to the top
    EXPECT_FALSE(covers(c, kStack));                             // unused stack below
    EXPECT_TRUE(covers(c, kLibBase + 0x800 - 128, 256));         // instruction window
    EXPECT_FALSE(covers(c, kHeap + 0x5000));
    EXPECT_FALSE(covers(c, kExeData));
    EXPECT_TRUE(covers(c, kExeBase, 0x1000));  // each module's headers (gdb matches build-ids)
    EXPECT_FALSE(covers(c, kExeBase + 0x1000));
    for (size_t i = 1; i < c.memory.size(); ++i)
        EXPECT_LT(c.memory[i - 1].end(), c.memory[i].start);
}

TEST_F(PlanTest, IndirectMemoryIsAWindowAroundPointersOutsideModules) {
    DumpContent c = plan(dump_flag::WithIndirectlyReferencedMemory);
    EXPECT_TRUE(covers(c, kHeap + 0x5000 - 256, 1024));
    EXPECT_FALSE(covers(c, kHeap + 0x5000 - 257));
    EXPECT_FALSE(covers(c, kHeap + 0x5000 + 768));
    EXPECT_FALSE(covers(c, kExeBase + 0x2123 - 256, 1024));  // module pointers are not followed
}

TEST_F(PlanTest, IndirectMemoryKeepsWhatSyscallArgumentsAndRegistersPointTo) {
    // Thread 42 sleeps in futex() on a global mutex (module data); thread 43's rbx points into
    // libc's data.
    s.threads[0].syscall.in_syscall = true;
    s.threads[0].syscall.number = 202;
    s.threads[0].syscall.args = {kExeData + 0x100, 128, 2, 0, 0, 0};
    s.threads[1].regs.edit_x86_64().gp.rbx = kLibData + 0x40;
    DumpContent c = plan(dump_flag::WithIndirectlyReferencedMemory);
    EXPECT_TRUE(covers(c, kExeData + 0x100 - 128, 256));  // the lock and what is around it
    EXPECT_FALSE(covers(c, kExeData + 0x100 + 128));
    EXPECT_TRUE(covers(c, kLibData, 0x40 + 128));  // clipped to the mapping's start
    DumpContent normal = plan(dump_flag::Normal);
    EXPECT_FALSE(covers(normal, kExeData + 0x100));
    DumpContent none =
        plan(dump_flag::WithIndirectlyReferencedMemory | dump_flag::WithoutOptionalData);
    EXPECT_FALSE(covers(none, kExeData + 0x100));
}

TEST_F(PlanTest, DataSegsAreWritableModuleMappingsWithBss) {
    DumpContent c = plan(dump_flag::WithDataSegs);
    EXPECT_TRUE(covers(c, kExeData, 0x1000));
    EXPECT_TRUE(covers(c, kExeBss, 0x1000));
    EXPECT_TRUE(covers(c, kLibData, 0x1000));
    EXPECT_FALSE(covers(c, kHeap));
    PlanOptions only_main;
    only_main.data_seg_modules = {kMainModuleToken};
    DumpContent m = plan(dump_flag::WithDataSegs, only_main);
    EXPECT_TRUE(covers(m, kExeData, 0x1000));
    EXPECT_FALSE(covers(m, kLibData));
}

TEST_F(PlanTest, PrivateReadWriteIsAnonymousNonModuleMemory) {
    DumpContent c = plan(dump_flag::WithPrivateReadWriteMemory);
    EXPECT_TRUE(covers(c, kHeap, 0x10000));
    EXPECT_TRUE(covers(c, kAnon, 0x10000));
    EXPECT_FALSE(covers(c, kShared));
    EXPECT_FALSE(covers(c, kExeBss));  // .bss belongs to the module image
    EXPECT_FALSE(covers(c, kLibData));
}

TEST_F(PlanTest, FullMemoryIsEveryReadableMappingAndWithoutOptionalDataCancelsIt) {
    DumpContent c = plan(dump_flag::WithFullMemory);
    EXPECT_TRUE(c.full_memory);
    for (const auto& m : s.mappings) EXPECT_TRUE(covers(c, m.start, m.size())) << m.path;
    DumpContent none = plan(dump_flag::WithFullMemory | dump_flag::WithoutOptionalData);
    EXPECT_FALSE(none.full_memory);
    EXPECT_FALSE(covers(none, kHeap));
}

TEST_F(PlanTest, ScanMemoryKeepsOnlyReferencedModules) {
    DumpContent c = plan(dump_flag::ScanMemory);
    ASSERT_EQ(c.modules.size(), 2u);  // app (stack word) and libc (rip); not libm
    EXPECT_EQ(s.modules[c.modules[0]].path, "/bin/app");
    EXPECT_EQ(s.modules[c.modules[1]].path, "/lib/libc.so.6");
}

TEST_F(PlanTest, FilterMemoryZeroesWordsThatAreNotCodeOrStackPointers) {
    DumpContent c = plan(dump_flag::FilterMemory);
    auto zeroed = [&](uint64_t a) {
        for (const auto& r : c.zeroed)
            if (a >= r.start && a < r.end()) return true;
        return false;
    };
    EXPECT_FALSE(zeroed(kSp + 0x10));  // code pointer kept
    EXPECT_TRUE(zeroed(kSp + 0x18));   // heap pointer zeroed
    EXPECT_TRUE(zeroed(kSp + 0x20));   // number zeroed
    uint64_t unreadable = 0;
    std::vector<uint8_t> out(8);
    ASSERT_TRUE(read_dump_memory(s, c, kSp + 0x18, out, unreadable).ok());
    EXPECT_EQ(std::vector<uint8_t>(8, 0), out);
    ASSERT_TRUE(read_dump_memory(s, c, kSp + 0x10, out, unreadable).ok());
    uint64_t word = 0;
    std::memcpy(&word, out.data(), 8);
    EXPECT_EQ(word, kExeBase + 0x2123);
    EXPECT_TRUE(plan(dump_flag::FilterMemory | dump_flag::WithFullMemory).zeroed.empty());
}

TEST_F(PlanTest, CallbacksSelectThreadsModulesAndExtraMemory) {
    PlanOptions o;
    o.only_threads = {43};
    o.exclude_module_globs = {"libm*"};
    o.extra_memory = {{kHeap + 0x100, 0x20}};
    DumpContent c = plan(dump_flag::Normal, o);
    ASSERT_EQ(c.threads.size(), 1u);
    EXPECT_EQ(s.threads[c.threads[0]].tid, 43);
    EXPECT_EQ(c.modules.size(), 2u);
    EXPECT_TRUE(covers(c, kHeap + 0x100, 0x20));
    EXPECT_FALSE(covers(c, kSp));  // thread 42's stack is not in

    PlanOptions bad;
    bad.only_threads = {99};
    EXPECT_FALSE(plan_dump(s, bad).ok());
    PlanOptions unmapped;
    unmapped.extra_memory = {{0x10, 0x10}};
    EXPECT_FALSE(plan_dump(s, unmapped).ok());
}

TEST_F(PlanTest, PresetsFollowTheArticle) {
    auto tiny = preset_options("tiny");
    ASSERT_TRUE(tiny.ok());
    DumpContent t = plan(tiny->flags, *tiny);
    EXPECT_TRUE(t.threads.empty());
    EXPECT_TRUE(t.modules.empty());
    EXPECT_TRUE(t.memory.empty());
    auto midi = preset_options("midi");
    ASSERT_TRUE(midi.ok());
    DumpContent m = plan(midi->flags, *midi);
    EXPECT_TRUE(m.handle_data && m.thread_info && m.memory_info_list);
    EXPECT_TRUE(covers(m, kExeData) && covers(m, kLibData) && covers(m, kHeap));
    auto full = preset_options("full");
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full->type_name, "maxi");
    EXPECT_FALSE(preset_options("huge").ok());
}

// A scripted MiniDumpWriteDump routine: records each call, answers as the test says.
class ScriptedCallbacks : public PlanCallbacks {
public:
    std::vector<std::string> calls;
    std::set<int32_t> drop_threads;
    std::set<uint64_t> drop_modules;
    uint32_t module_mask = ~0u;
    uint32_t thread_mask = ~0u;
    uint32_t module_flags_seen = 0;
    std::vector<MemoryRange> memory;
    size_t memory_calls = 0;
    bool endless_memory = false;
    int cancel_at = -1;
    int cancel_calls = 0;

    bool include_thread(const Thread& t) override {
        calls.push_back("IncludeThread");
        return !drop_threads.count(t.tid);
    }
    bool include_module(const Module& m) override {
        calls.push_back("IncludeModule");
        return !drop_modules.count(m.base);
    }
    uint32_t module_flags(const Module&, uint32_t flags) override {
        calls.push_back("Module");
        module_flags_seen |= flags;
        return (flags & module_mask) | 0x8000;  // 0x8000: tries to set a flag it was not offered
    }
    uint32_t thread_flags(const Thread&, MemoryRange, uint32_t flags) override {
        calls.push_back("Thread");
        return flags & thread_mask;
    }
    std::optional<MemoryRange> more_memory() override {
        calls.push_back("Memory");
        if (endless_memory) return MemoryRange{kHeap, 16};
        if (memory_calls < memory.size()) return memory[memory_calls++];
        return std::nullopt;
    }
    CancelAnswer check_cancel() override {
        calls.push_back("Cancel");
        return ++cancel_calls == cancel_at ? CancelAnswer::kCancel : CancelAnswer::kContinue;
    }
};

TEST_F(PlanTest, RoutineCallbacksComeInTheArticlesOrder) {
    auto callbacks = std::make_shared<ScriptedCallbacks>();
    PlanOptions options;
    options.callbacks = callbacks;
    plan(dump_flag::Normal, options);
    std::vector<std::string> order;
    for (const std::string& c : callbacks->calls)
        if (c != "Cancel" && (order.empty() || order.back() != c)) order.push_back(c);
    EXPECT_EQ(order, (std::vector<std::string>{"IncludeThread", "IncludeModule", "Module", "Thread",
                                               "Memory"}));
}

TEST_F(PlanTest, RoutineCallbacksDropThreadsModulesAndStacks) {
    auto callbacks = std::make_shared<ScriptedCallbacks>();
    callbacks->drop_threads = {43};
    callbacks->drop_modules = {kOtherLib};
    PlanOptions options;
    options.callbacks = callbacks;
    DumpContent c = plan(dump_flag::Normal, options);
    ASSERT_EQ(c.threads.size(), 1u);
    EXPECT_EQ(s.threads[c.threads[0]].tid, 42);
    EXPECT_EQ(c.modules.size(), 2u);
    EXPECT_FALSE(covers(c, kOtherLib));
    EXPECT_TRUE(covers(c, kSp));

    callbacks->calls.clear();
    callbacks->thread_mask = ~thread_write::Stack;  // ThreadWriteStack cleared
    c = plan(dump_flag::Normal, options);
    EXPECT_FALSE(covers(c, kSp));
    EXPECT_TRUE(covers(c, kLibBase + 0x800));  // the instruction window stays
}

TEST_F(PlanTest, RoutineCallbacksCannotSetFlagsTheDumpTypeDidNotSet) {
    auto callbacks = std::make_shared<ScriptedCallbacks>();
    PlanOptions options;
    options.callbacks = callbacks;
    // The routine answers with DataSeg set, but MiniDumpNormal did not offer it.
    callbacks->module_mask = ~0u;
    DumpContent c = plan(dump_flag::Normal, options);
    EXPECT_EQ(callbacks->module_flags_seen & module_write::DataSeg, 0u);
    EXPECT_FALSE(covers(c, kExeData));
    // WithDataSegs offers it; the routine clears it: no module keeps its data.
    callbacks->module_mask = ~module_write::DataSeg;
    c = plan(dump_flag::WithDataSegs, options);
    EXPECT_FALSE(covers(c, kExeData));
    EXPECT_FALSE(covers(c, kLibData));
}

TEST_F(PlanTest, MemoryCallbackAddsReadableRangesUntilItAddsNothingAndIsBounded) {
    auto callbacks = std::make_shared<ScriptedCallbacks>();
    callbacks->memory = {{kHeap + 0x100, 0x200}, {0x10, 0x10} /* unmapped: skipped */};
    PlanOptions options;
    options.callbacks = callbacks;
    DumpContent c = plan(dump_flag::Normal, options);
    EXPECT_TRUE(covers(c, kHeap + 0x100, 0x200));
    EXPECT_FALSE(covers(c, 0x10));
    EXPECT_EQ(std::count(callbacks->calls.begin(), callbacks->calls.end(), "Memory"), 3);

    auto endless = std::make_shared<ScriptedCallbacks>();
    endless->endless_memory = true;
    options.callbacks = endless;
    c = plan(dump_flag::Normal, options);  // a routine that never stops is cut off
    EXPECT_EQ(std::count(endless->calls.begin(), endless->calls.end(), "Memory"), 65536);
}

TEST_F(PlanTest, CancelCallbackStopsThePlan) {
    for (int at = 1; at <= 4; ++at) {
        auto callbacks = std::make_shared<ScriptedCallbacks>();
        callbacks->cancel_at = at;
        PlanOptions options;
        options.callbacks = callbacks;
        options.flags = dump_flag::Normal;
        auto content = plan_dump(s, options);
        ASSERT_FALSE(content.ok()) << "cancel at call " << at;
        EXPECT_NE(content.error().message.find("CancelCallback"), std::string::npos);
    }
}

TEST(DumpFlags, ParseAndPrintRoundTrip) {
    auto bits = parse_dump_flags("WithDataSegs, MiniDumpScanMemory,withhandledata");
    ASSERT_TRUE(bits.ok());
    EXPECT_EQ(*bits, 0x1u | 0x10u | 0x4u);
    EXPECT_EQ(dump_flags_to_string(*bits), "WithDataSegs|WithHandleData|ScanMemory");
    EXPECT_FALSE(parse_dump_flags("WithEverything").ok());
    EXPECT_EQ(*parse_dump_flags("0x1800"), 0x1800u);
    EXPECT_EQ(dump_flags_to_string(0), "Normal");
}

TEST(MemoryRanges, NormalizeMergesTouchingAndOverlapping) {
    auto r = normalize_ranges({{30, 10}, {0, 10}, {10, 5}, {35, 10}, {100, 0}});
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], (MemoryRange{0, 15}));
    EXPECT_EQ(r[1], (MemoryRange{30, 15}));
}

}  // namespace

// A conversion plans exactly the memory the input dump holds: no zeros that look like memory.
TEST(ConversionPlan, OnlyMemoryTheInputHoldsIsPlannedAndExactly) {
    Snapshot s = test::synthetic_snapshot();
    auto options = preset_options("full");
    ASSERT_TRUE(options.ok());
    options->available_memory = std::vector<MemoryRange>{{test::kHeap + 0x10, 0x20}};
    auto content = plan_dump(s, *options);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(content->memory, (std::vector<MemoryRange>{{test::kHeap + 0x10, 0x20}}));
    EXPECT_FALSE(content->whole_pages);
    EXPECT_EQ(intersect_ranges({{0, 10}, {20, 10}}, {{5, 20}}),
              (std::vector<MemoryRange>{{5, 5}, {20, 5}}));
}
