// summarize_minidump on damaged files (each kind of bad offset, size or count is an Error with a
// message, never a crash or a read outside the file) and on a dump whose memory passes 4 GiB.
#include "minidump/minidump_summary.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "minidump/minidump_writer.h"

namespace dumpscope {
namespace {

class PatternMemory : public MemorySource {
public:
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(addr + i);
        return out.size();
    }
};

Snapshot small_snapshot() {
    Snapshot s;
    s.system.sysname = "Linux";
    s.system.release = "6.1.0";
    s.system.machine = "x86_64";
    s.system.cpu_count = 1;
    s.process.pid = 77;
    s.process.status = "Name:\tsmall\nPid:\t77\n";
    Thread t;
    t.tid = 77;
    t.name = "small";
    t.regs.edit_x86_64().gp.rsp = 0x7000 + 0x10;
    s.threads = {t};
    Module m;
    m.path = "/bin/small";
    m.base = 0x400000;
    m.end = 0x401000;
    m.build_id = {1, 2, 3, 4};
    s.modules = {m};
    s.memory = std::make_shared<PatternMemory>();
    return s;
}

class MinidumpSummaryTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/dumpscope-summary-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        Snapshot snapshot = small_snapshot();
        DumpContent content;
        content.threads = {0};
        content.modules = {0};
        content.memory = {{0x7000, 0x100}, {0x9000, 0x100}};
        const std::string path = dir_ + "/good.dmp";
        auto file = DumpFile::create(path, true);
        ASSERT_TRUE(file.ok());
        auto size = write_minidump(snapshot, content, *file, {});
        ASSERT_TRUE(size.ok()) << size.error().message;
        ASSERT_TRUE(file->commit(*size).ok());
        std::ifstream in(path, std::ios::binary);
        good_.assign(std::istreambuf_iterator<char>(in), {});
        ASSERT_TRUE(summarize_minidump(path).ok());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string save(const std::vector<uint8_t>& bytes) {
        const std::string path = dir_ + "/case.dmp";
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        return path;
    }
    uint32_t u32(const std::vector<uint8_t>& b, size_t off) const {
        uint32_t v;
        std::memcpy(&v, b.data() + off, 4);
        return v;
    }
    void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
        std::memcpy(b.data() + off, &v, 4);
    }
    // File offset of the directory entry of a stream type.
    size_t entry_of(uint32_t type) const {
        for (uint32_t i = 0; i < u32(good_, 8); ++i) {
            if (u32(good_, 32 + 12 * i) == type) return 32 + 12 * i;
        }
        ADD_FAILURE() << "no stream " << type;
        return 0;
    }
    // Summarizing `bytes` fails with a message containing `expected`.
    void expect_error(const std::vector<uint8_t>& bytes, const std::string& expected) {
        auto summary = summarize_minidump(save(bytes));
        ASSERT_FALSE(summary.ok()) << "accepted a damaged file (expected: " << expected << ")";
        EXPECT_NE(summary.error().message.find(expected), std::string::npos)
            << summary.error().message;
        EXPECT_EQ(summary.error().message.find('\n'), std::string::npos);
    }

    std::string dir_;
    std::vector<uint8_t> good_;
};

TEST_F(MinidumpSummaryTest, MissingEmptyAndTruncatedFilesAreErrors) {
    EXPECT_FALSE(summarize_minidump(dir_ + "/absent.dmp").ok());
    expect_error({}, "is empty");
    expect_error(std::vector<uint8_t>(good_.begin(), good_.begin() + 20), "too small");
    // Cut inside the stream directory: nothing can be read.
    expect_error(std::vector<uint8_t>(good_.begin(), good_.begin() + 40), "past the end");
}

// Missing its last bytes (the capture record, written last): summarized without it, with one
// warning saying what is missing.
TEST_F(MinidumpSummaryTest, TruncatedFileIsSummarizedWithAWarning) {
    auto summary = summarize_minidump(save({good_.begin(), good_.end() - 0x80}));
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_EQ(summary->warnings.size(), 1u);
    EXPECT_NE(summary->warnings[0].find("is truncated: 128 bytes missing"), std::string::npos)
        << summary->warnings[0];
    EXPECT_NE(summary->warnings[0].find("cut: DumpscopeCapture"), std::string::npos)
        << summary->warnings[0];
    EXPECT_FALSE(summary->capture.has_value());
    EXPECT_EQ(summary->memory_bytes, 0x200u);
    EXPECT_EQ(summary->thread_count, 1u);
}

TEST_F(MinidumpSummaryTest, WrongMagicIsAnError) {
    std::vector<uint8_t> bad = good_;
    bad[0] = 'X';
    expect_error(bad, "not a minidump");
    EXPECT_FALSE(looks_like_minidump(save(bad)));
}

TEST_F(MinidumpSummaryTest, DirectoryPastTheEndIsAnError) {
    std::vector<uint8_t> bad = good_;
    put32(bad, 12, uint32_t(bad.size() - 4));
    expect_error(bad, "stream directory");
    bad = good_;
    put32(bad, 8, 0xffffffff);  // a huge stream count
    expect_error(bad, "stream directory");
}

TEST_F(MinidumpSummaryTest, StreamPastTheEndIsAnError) {
    std::vector<uint8_t> bad = good_;
    put32(bad, entry_of(3) + 4, 0x7fffffff);  // ThreadList size
    expect_error(bad, "ThreadListStream");
    bad = good_;
    put32(bad, entry_of(4) + 4, 0x7fffffff);  // ModuleList size: overlaps the streams after it
    expect_error(bad, "ModuleListStream");
    // A stream wholly past the end (ModuleList RVA) reads as a file cut short: absent, and named.
    bad = good_;
    put32(bad, entry_of(4) + 8, 0xfffffff0);
    auto summary = summarize_minidump(save(bad));
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_EQ(summary->warnings.size(), 1u);
    EXPECT_NE(summary->warnings[0].find("cut: ModuleListStream"), std::string::npos)
        << summary->warnings[0];
    EXPECT_TRUE(summary->module_paths.empty());
}

TEST_F(MinidumpSummaryTest, HugeCountsAreErrors) {
    for (uint32_t type : {3u, 4u, 5u, 24u}) {
        std::vector<uint8_t> bad = good_;
        put32(bad, u32(good_, entry_of(type) + 8), 0xffffffff);
        expect_error(bad, "claims 4294967295 entries");
    }
}

TEST_F(MinidumpSummaryTest, BadInnerReferencesAreErrors) {
    // The module name RVA, the thread's context RVA and a memory range's RVA point outside.
    const uint32_t modules = u32(good_, entry_of(4) + 8);
    std::vector<uint8_t> bad = good_;
    put32(bad, modules + 4 + 20, uint32_t(bad.size()));
    expect_error(bad, "the name of module 0");

    bad = good_;
    const uint32_t name = u32(good_, modules + 4 + 20);
    put32(bad, name, 0x7ffffff0);  // the string claims an absurd length
    expect_error(bad, "the name of module 0");

    const uint32_t threads = u32(good_, entry_of(3) + 8);
    bad = good_;
    put32(bad, threads + 4 + 44, uint32_t(bad.size() - 8));
    expect_error(bad, "the context of thread 77");

    const uint32_t memory = u32(good_, entry_of(5) + 8);
    bad = good_;
    put32(bad, memory + 4 + 8, 0x10000000);  // DataSize of the first range
    expect_error(bad, "memory range 0x7000");
}

TEST_F(MinidumpSummaryTest, BadCaptureRecordIsAnError) {
    std::vector<uint8_t> bad = good_;
    bad[u32(good_, entry_of(0x44530002) + 8)] = '!';
    expect_error(bad, "DumpscopeCapture");
}

TEST_F(MinidumpSummaryTest, DumpsWithoutOurStreamsStillSummarize) {
    // Turn every stream but SystemInfo, ThreadList and MemoryList into UnusedStream, as a
    // reader would see a minimal dump from another writer.
    std::vector<uint8_t> other = good_;
    for (uint32_t i = 0; i < u32(other, 8); ++i) {
        const uint32_t type = u32(other, 32 + 12 * i);
        if (type != 7 && type != 3 && type != 5) put32(other, 32 + 12 * i, 0);
    }
    auto summary = summarize_minidump(save(other));
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    EXPECT_EQ(summary->thread_count, 1u);
    EXPECT_EQ(summary->thread_names, std::vector<std::string>{"77"});
    EXPECT_EQ(summary->memory_bytes, 0x200u);
    EXPECT_EQ(summary->pid, 0);
    EXPECT_FALSE(summary->capture.has_value());
    ASSERT_GE(summary->entries.size(), 2u);
    EXPECT_EQ(summary->entries[1].name, "UnusedStream");  // was MiscInfo
}

TEST_F(MinidumpSummaryTest, RandomDamageNeverCrashes) {
    std::mt19937 random(1234);
    int errors = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<uint8_t> bad = good_;
        const uint32_t header_and_streams = std::min<uint32_t>(uint32_t(bad.size()), 0x1000);
        for (int flips = 0; flips < 4; ++flips) {
            bad[random() % header_and_streams] = uint8_t(random());
        }
        auto summary = summarize_minidump(save(bad));
        if (!summary.ok()) ++errors;
    }
    EXPECT_GT(errors, 0);
}

TEST_F(MinidumpSummaryTest, MemoryPastFourGigabytesUsesMemory64AndKeepsRvasBelowIt) {
    // 4 GiB + 8 KiB of zero pages: a sparse file, so this costs CPU time but little disk.
    Snapshot snapshot = small_snapshot();
    const uint64_t big = (4ull << 30) + 0x2000;
    class ZeroMemory : public MemorySource {
    public:
        Result<size_t> read(uint64_t, std::span<uint8_t> out) const override {
            std::memset(out.data(), 0, out.size());
            return out.size();
        }
    };
    snapshot.memory = std::make_shared<ZeroMemory>();
    DumpContent content;
    content.threads = {0};
    content.full_memory = false;  // the size alone must switch to Memory64List
    content.memory = {{0x7000, 0x2000}, {0x100000000, big}};
    const std::string path = dir_ + "/big.dmp";
    auto file = DumpFile::create(path, true);
    ASSERT_TRUE(file.ok());
    auto size = write_minidump(snapshot, content, *file, {});
    ASSERT_TRUE(size.ok()) << size.error().message;
    ASSERT_TRUE(file->commit(*size).ok());
    EXPECT_GT(*size, big);

    auto summary = summarize_minidump(path);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    EXPECT_EQ(summary->memory, content.memory);
    ASSERT_TRUE(summary->capture.has_value()) << "the capture record must stay reachable";
    bool has_memory64 = false;
    for (const auto& entry : summary->entries) {
        EXPECT_LT(entry.offset + entry.size, 1ull << 32) << entry.name;
        if (entry.type == 9) has_memory64 = true;
    }
    EXPECT_TRUE(has_memory64);
    EXPECT_LT(summary->disk_usage, 64u << 20) << "zero pages must be holes";
}

}  // namespace
}  // namespace dumpscope
