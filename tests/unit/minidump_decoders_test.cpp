// The shared stream decoders (minidump_decoders.h) and the directory check of MinidumpFile, seen
// through both of their callers: read_minidump and summarize_minidump (`info`) must give the
// same answer for a thread named twice, and both must refuse a directory that lists a stream
// type twice, as LLVM's Object/Minidump does.
#include "minidump/minidump_decoders.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "minidump/minidump_reader.h"
#include "minidump/minidump_summary.h"
#include "minidump/minidump_writer.h"
#include "synthetic_snapshot.h"

namespace dumpscope {
namespace {

using minidump::StreamType;

constexpr uint32_t type_of(StreamType type) { return static_cast<uint32_t>(type); }

class MinidumpDecodersTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/dumpscope-decoders-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        Snapshot snapshot = test::synthetic_snapshot();
        ExceptionInfo exception;
        exception.tid = test::kPid + 1;
        exception.signal.signo = 11;
        exception.context = snapshot.threads[1].regs;
        snapshot.exception = exception;
        const std::string path = dir_ + "/good.dmp";
        auto file = DumpFile::create(path, true);
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto size = write_minidump(snapshot, test::synthetic_content(), *file, {});
        ASSERT_TRUE(size.ok()) << size.error().message;
        ASSERT_TRUE(file->commit(*size).ok());
        std::ifstream in(path, std::ios::binary);
        good_.assign(std::istreambuf_iterator<char>(in), {});
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string save(const std::vector<uint8_t>& bytes) {
        const std::string path = dir_ + "/case.dmp";
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        return path;
    }
    static uint32_t u32(const std::vector<uint8_t>& b, size_t off) {
        uint32_t v;
        std::memcpy(&v, b.data() + off, 4);
        return v;
    }
    static void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
        std::memcpy(b.data() + off, &v, 4);
    }
    uint32_t stream_count() const { return u32(good_, 8); }
    size_t entry_offset(uint32_t index) const { return u32(good_, 12) + 12 * size_t{index}; }
    // The directory index of the stream of this type.
    uint32_t index_of(StreamType type) const {
        for (uint32_t i = 0; i < stream_count(); ++i) {
            if (u32(good_, entry_offset(i)) == type_of(type)) return i;
        }
        ADD_FAILURE() << "no stream of type " << type_of(type);
        return 0;
    }
    uint32_t rva_of(StreamType type) const { return u32(good_, entry_offset(index_of(type)) + 8); }

    // Both callers of the decoders fail on `bytes` with a one-line message holding `expected`.
    void expect_both_reject(const std::vector<uint8_t>& bytes, const std::string& expected) {
        const std::string path = save(bytes);
        auto snapshot = read_minidump(path);
        auto summary = summarize_minidump(path);
        ASSERT_FALSE(snapshot.ok()) << "read_minidump accepted it (expected: " << expected << ")";
        ASSERT_FALSE(summary.ok())
            << "summarize_minidump accepted it (expected: " << expected << ")";
        for (const std::string& message : {snapshot.error().message, summary.error().message}) {
            EXPECT_NE(message.find(expected), std::string::npos) << message;
            EXPECT_NE(message.find(path), std::string::npos) << message;
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        }
    }

    std::string dir_;
    std::vector<uint8_t> good_;
};

TEST_F(MinidumpDecodersTest, ReaderAndSummaryReadTheSameThreadsModulesAndMemory) {
    const std::string path = save(good_);
    auto snapshot = read_minidump(path);
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    auto summary = summarize_minidump(path);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_EQ(snapshot->threads.size(), 2u);
    EXPECT_EQ(summary->thread_count, 2u);
    EXPECT_EQ(summary->thread_names,
              (std::vector<std::string>{fmt::format("{} synthetic", test::kPid),
                                        fmt::format("{} worker", test::kPid + 1)}));
    EXPECT_EQ(snapshot->threads[0].name, "synthetic");
    EXPECT_EQ(snapshot->threads[1].name, "worker");
    ASSERT_EQ(summary->module_paths, std::vector<std::string>{"/bin/synthetic"});
    ASSERT_EQ(snapshot->modules.size(), 1u);
    EXPECT_EQ(snapshot->modules[0].path, "/bin/synthetic");
    EXPECT_EQ(summary->memory, test::synthetic_content().memory);
    ASSERT_TRUE(summary->exception.has_value());
    ASSERT_TRUE(snapshot->exception.has_value());
    EXPECT_EQ(summary->exception_tid, snapshot->exception->tid);
}

// ThreadNameList lists thread `named_twice` twice: first with the name written for thread
// `first_owner`, then with the one written for the other thread. The first name wins, in the
// reader and in the summary alike, and the other thread is left without a name.
TEST_F(MinidumpDecodersTest, ThreadNamedTwiceKeepsItsFirstNameInReaderAndSummary) {
    const uint32_t names = rva_of(StreamType::ThreadNameList);
    ASSERT_EQ(u32(good_, names), 2u);
    const size_t first_id = names + 4;
    const size_t second_id = names + 4 + 12;
    ASSERT_EQ(u32(good_, first_id), uint32_t(test::kPid));
    ASSERT_EQ(u32(good_, second_id), uint32_t(test::kPid + 1));

    struct Case {
        size_t rewritten;  // the entry whose thread id is changed
        uint32_t to;       // the thread listed twice
        std::string expected_name;
        size_t unnamed;  // index of the thread left without a name
    };
    for (const Case& c : {Case{second_id, uint32_t(test::kPid), "synthetic", 1},
                          Case{first_id, uint32_t(test::kPid + 1), "synthetic", 0}}) {
        SCOPED_TRACE(fmt::format("thread {} listed twice", c.to));
        std::vector<uint8_t> twice = good_;
        put32(twice, c.rewritten, c.to);
        // DumpscopeThreadExtra's names (the bytes, preferred by the reader) are blanked: this is
        // about ThreadNameList.
        const uint32_t extra = rva_of(StreamType::DumpscopeThreadExtra);
        const uint32_t header_size = u32(twice, extra), entry_size = u32(twice, extra + 4);
        ASSERT_EQ(entry_size, sizeof(minidump::ThreadExtraEntry));
        for (uint32_t i = 0; i < u32(twice, extra + 8); ++i) {
            const size_t name =
                extra + header_size + i * entry_size + offsetof(minidump::ThreadExtraEntry, name);
            std::fill(twice.begin() + name, twice.begin() + name + 16, 0);
        }
        const std::string path = save(twice);

        auto snapshot = read_minidump(path);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        auto summary = summarize_minidump(path);
        ASSERT_TRUE(summary.ok()) << summary.error().message;
        ASSERT_EQ(snapshot->threads.size(), 2u);
        const size_t named = 1 - c.unnamed;
        EXPECT_EQ(snapshot->threads[named].tid, int32_t(c.to));
        EXPECT_EQ(snapshot->threads[named].name, c.expected_name);
        EXPECT_EQ(snapshot->threads[c.unnamed].name, "");

        std::vector<std::string> expected(2);
        expected[named] = fmt::format("{} {}", c.to, c.expected_name);
        expected[c.unnamed] = fmt::format("{}", snapshot->threads[c.unnamed].tid);
        EXPECT_EQ(summary->thread_names, expected);

        auto file = minidump::MinidumpFile::open(path);
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto threads = minidump::decode_threads(*file);
        ASSERT_TRUE(threads.ok()) << threads.error().message;
        ASSERT_EQ(threads->size(), 2u);
        EXPECT_EQ((*threads)[named].name, c.expected_name);
        EXPECT_EQ((*threads)[c.unnamed].name, "");
    }
}

TEST_F(MinidumpDecodersTest, DuplicateStreamTypeIsRejectedNamingTypeAndBothIndexes) {
    const uint32_t modules = index_of(StreamType::ModuleList);
    const uint32_t misc = index_of(StreamType::MiscInfo);
    ASSERT_LT(misc, modules);
    std::vector<uint8_t> twice = good_;
    put32(twice, entry_offset(misc), type_of(StreamType::ModuleList));
    expect_both_reject(
        twice, fmt::format("ModuleListStream (type 0x4) twice: entries {} and {}", misc, modules));

    // A user stream type is a type like any other.
    twice = good_;
    put32(twice, entry_offset(misc), 0x10000001);
    put32(twice, entry_offset(modules), 0x10000001);
    expect_both_reject(twice,
                       fmt::format("(type 0x10000001) twice: entries {} and {}", misc, modules));
}

TEST_F(MinidumpDecodersTest, UnusedSlotsAndRepeatedExceptionStreamsAreNotDuplicates) {
    std::vector<uint8_t> dump = good_;
    // Two all-zero slots, as Breakpad leaves for streams it skipped, and a second Exception
    // stream after the first (lldb writes one per thread that has a signal).
    put32(dump, entry_offset(index_of(StreamType::MiscInfo)), 0);
    put32(dump, entry_offset(index_of(StreamType::MiscInfo)) + 4, 0);
    put32(dump, entry_offset(index_of(StreamType::MiscInfo)) + 8, 0);
    put32(dump, entry_offset(index_of(StreamType::HandleData)), 0);
    put32(dump, entry_offset(index_of(StreamType::HandleData)) + 4, 0);
    put32(dump, entry_offset(index_of(StreamType::HandleData)) + 8, 0);
    const uint32_t exception = index_of(StreamType::Exception);
    const uint32_t info_list = index_of(StreamType::MemoryInfoList);
    ASSERT_LT(exception, info_list);
    put32(dump, entry_offset(info_list), type_of(StreamType::Exception));
    const std::string path = save(dump);
    auto snapshot = read_minidump(path);
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    auto summary = summarize_minidump(path);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_TRUE(snapshot->exception.has_value());
    EXPECT_EQ(snapshot->exception->tid, test::kPid + 1);  // the first Exception stream
    EXPECT_EQ(snapshot->exception->signal.signo, 11);
    EXPECT_EQ(summary->exception_tid, test::kPid + 1);
}

TEST_F(MinidumpDecodersTest, ErrorsNameTheStreamWithItsOffsetAndSize) {
    const uint32_t threads = index_of(StreamType::ThreadList);
    const uint32_t rva = u32(good_, entry_offset(threads) + 8);
    const uint32_t size = u32(good_, entry_offset(threads) + 4);
    std::vector<uint8_t> bad = good_;
    put32(bad, rva, 1000);  // the count
    expect_both_reject(
        bad, fmt::format("ThreadListStream (offset {:#x}, {} bytes) claims 1000", rva, size));

    // An entry's reference names the stream and the entry.
    const uint32_t modules = rva_of(StreamType::ModuleList);
    bad = good_;
    put32(bad, modules + 4 + 20, uint32_t(bad.size()));  // module 0's name RVA
    expect_both_reject(bad, "ModuleListStream entry 0: the name of module 0");
}

}  // namespace
}  // namespace dumpscope
