// Scans of a dump file's memory read by pread (MappedFile kept open, RangeMemorySource::copy,
// ForwardScan's growing window, WindowReader) give exactly the bytes reading the mapping gives:
// across adjacent ranges, up to a gap and no further, forward, after jumps and backwards.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "common/mapped_file.h"
#include "diagnosis/forward_scan.h"
#include "fake_word_memory.h"
#include "temp_files.h"

namespace dumpscope {
namespace {

constexpr uint64_t kFirst = 0x10000000;
constexpr uint64_t kSecond = kFirst + 0x3000;  // adjacent to the first
constexpr uint64_t kFar = 0x20000000;          // after a gap

// Three ranges of random words: two adjacent (0x3000 and 0x180000 bytes), one after a gap.
test::FakeWordMemory random_memory() {
    test::FakeWordMemory memory;
    memory.region(kFirst, 0x3000);
    memory.region(kSecond, 0x180000);
    memory.region(kFar, 0x5000);
    std::mt19937_64 random(7);
    for (uint64_t a = kFirst; a < kSecond + 0x180000; a += 8) memory.put(a, random());
    for (uint64_t a = kFar; a < kFar + 0x5000; a += 8) memory.put(a, random());
    return memory;
}

std::vector<uint8_t> read_all(const MemorySource& memory, uint64_t addr, size_t size) {
    std::vector<uint8_t> out(size);
    auto n = memory.read(addr, out);
    out.resize(n.ok() ? *n : 0);
    return out;
}

// The random memory in memory and as a dump file read by pread.
class DumpFileReads : public ::testing::Test {
protected:
    void SetUp() override {
        in_memory = memory.source();
        file = memory.file_source(dir.path + "/dump");
        ASSERT_NE(file, nullptr);
    }
    // reader.word(a) says what reading 8 bytes at a in memory says.
    template <typename Reader>
    void expect_word(Reader& reader, uint64_t a) {
        uint64_t word = 0;
        const std::vector<uint8_t> want = read_all(*in_memory, a, 8);
        ASSERT_EQ(reader.word(a, word), want.size() == 8) << std::hex << a;
        if (want.size() == 8) {
            EXPECT_EQ(std::memcmp(&word, want.data(), 8), 0) << std::hex << a;
        }
    }
    test::FakeWordMemory memory = random_memory();
    test_files::TempDir dir;
    std::shared_ptr<const MemorySource> in_memory;
    std::shared_ptr<const RangeMemorySource> file;
};

TEST(DumpFileRead, AKeptMappedFileReadsByPreadWhatItMaps) {
    test_files::TempDir dir;
    std::vector<uint8_t> bytes(10000);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7);
    test_files::save(dir.path + "/f", bytes);
    auto closed = MappedFile::open(dir.path + "/f");
    ASSERT_TRUE(closed.ok());
    EXPECT_FALSE(closed->can_read_at());
    std::vector<uint8_t> out(100);
    EXPECT_FALSE(closed->read_at(0, out).ok());
    auto kept = MappedFile::open(dir.path + "/f", MappedFile::Descriptor::kKeep);
    ASSERT_TRUE(kept.ok());
    ASSERT_TRUE(kept->can_read_at());
    auto n = kept->read_at(9950, out);  // a short count at the end of the file
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 50u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 50, kept->bytes().begin() + 9950));
    EXPECT_EQ(*kept->read_at(20000, out), 0u);
    MappedFile moved(std::move(*kept));  // the descriptor goes with the mapping
    EXPECT_TRUE(moved.can_read_at());
    EXPECT_EQ(*moved.read_at(0, out), 100u);
}

TEST_F(DumpFileReads, CopyGivesWhatReadGivesAcrossRangesAndUpToGaps) {
    const std::vector<std::pair<uint64_t, size_t>> reads = {
        {kFirst, 16},          {kFirst + 0x2ff8, 16},        // a word on each side of the join
        {kFirst + 8, 0x40000}, {kSecond + 0x17fff0, 0x100},  // up to the gap, no further
        {kFar - 8, 64},        {kFar + 0x4000, 0x2000},     {kFirst - 0x1000, 0x2000}};
    for (const auto& [addr, size] : reads) {
        std::vector<uint8_t> copied(size);
        auto n = file->copy(addr, copied);
        ASSERT_TRUE(n.ok());
        copied.resize(*n);
        EXPECT_EQ(copied, read_all(*in_memory, addr, size)) << std::hex << addr;
    }
}

TEST_F(DumpFileReads, AForwardScanOfTheFileSeesWhatTheMappingHolds) {
    ForwardScan scan(*file);
    // Forward in small steps (the window grows), a jump back, a jump past a gap, a read larger
    // than the largest window, and words straddling the join of two ranges.
    std::vector<std::pair<uint64_t, size_t>> steps;
    for (uint64_t a = kFirst; a < kSecond + 0x170000; a += 0x1230) steps.emplace_back(a, 0x400);
    steps.emplace_back(kFirst + 0x100, 0x80);
    steps.emplace_back(kFar + 8, 0x100);
    steps.emplace_back(kSecond + 0x17ff00, 0x200);
    steps.emplace_back(kFirst, ForwardScan::kLargestWindow + 0x1000);
    for (const auto& [addr, size] : steps) {
        const std::vector<uint8_t> want = read_all(*in_memory, addr, size);
        std::vector<uint8_t> got(size);
        auto n = scan.read(addr, got);
        ASSERT_TRUE(n.ok());
        got.resize(*n);
        EXPECT_EQ(got, want) << std::hex << addr;
        const std::span<const uint8_t> view = scan.view(addr, size);
        EXPECT_EQ(std::vector<uint8_t>(view.begin(), view.end()), want) << std::hex << addr;
    }
    for (uint64_t a : {kSecond - 8, kSecond - 4, kFar - 4, kFar + 0x4ff8}) expect_word(scan, a);
}

TEST_F(DumpFileReads, AWindowReaderOfTheFileReadsEveryWordOnce) {
    WindowReader reader(*file);
    for (uint64_t a = kFirst + 4; a < kSecond + 0x180000; a += 0x998) expect_word(reader, a);
    uint64_t word = 0;
    EXPECT_FALSE(reader.word(kSecond + 0x17fffc, word));  // half of it past the end: no word
    EXPECT_TRUE(reader.word(kFar, word));
}

}  // namespace
}  // namespace dumpscope
