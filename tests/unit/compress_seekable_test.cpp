// The zstd seekable writer and reader: round trips of out-of-order dumps (head last, memory in
// order, gaps of zeros), checked byte for byte by our reader and by the zstd CLI (an independent
// decoder); bounds of the seek table parser; corrupt frames and tables rejected by name.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "compress/seek_table.h"
#include "compress/seekable_reader.h"
#include "compress/seekable_writer.h"
#include "temp_files.h"

using namespace dumpscope;
using namespace dumpscope::compress;
using dumpscope::test_files::load;
using dumpscope::test_files::save;

using dumpscope::test_files::TempDir;

namespace {

constexpr uint32_t kFrame = 64 * 1024;

std::string run(const std::string& command, int* status = nullptr) {
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = ::pclose(p);
    if (status != nullptr) *status = rc;
    return out;
}

// Bytes that compress somewhat, like a heap: text, counters and some noise.
std::vector<uint8_t> dumpish(size_t size, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(size);
    for (size_t i = 0; i < size; ++i) {
        v[i] = (i / 512) % 3 == 0 ? static_cast<uint8_t>(rng())
                                  : static_cast<uint8_t>("record "[i % 7]);
    }
    return v;
}

struct Written {
    std::vector<uint8_t> physical;
    std::vector<uint8_t> plain;
};

// Writes `plain` the way the dump writers do: memory from `head` on in increasing order in
// pieces (skipping all-zero pieces, which must come back as zeros), then the head last.
Written write_like_a_dump(const std::vector<uint8_t>& plain, uint64_t head, size_t piece,
                          SeekableWriterOptions options = {}) {
    Written w;
    w.plain = plain;
    options.frame_size = kFrame;
    options.deferred_head = head;
    auto writer = SeekableZstdWriter::create(
        [&](uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            if (w.physical.size() < offset + bytes.size()) w.physical.resize(offset + bytes.size());
            std::memcpy(w.physical.data() + offset, bytes.data(), bytes.size());
            return {};
        },
        options, "test.dmp.zst");
    EXPECT_TRUE(writer.ok()) << writer.error().message;
    const uint64_t body = (*writer)->head_size();
    for (uint64_t at = body; at < plain.size(); at += piece) {
        const size_t n = std::min<uint64_t>(piece, plain.size() - at);
        std::span<const uint8_t> bytes(plain.data() + at, n);
        if (std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; })) continue;
        Status s = (*writer)->write_at(at, bytes);
        EXPECT_TRUE(s.ok()) << s.error().message;
    }
    const uint64_t head_end = std::min<uint64_t>(body, plain.size());
    // The head in two writes, back to front.
    Status s =
        (*writer)->write_at(head_end / 2, {plain.data() + head_end / 2, head_end - head_end / 2});
    EXPECT_TRUE(s.ok()) << s.error().message;
    s = (*writer)->write_at(0, {plain.data(), head_end / 2});
    EXPECT_TRUE(s.ok()) << s.error().message;
    auto size = (*writer)->finish(plain.size());
    EXPECT_TRUE(size.ok()) << size.error().message;
    if (size.ok()) {
        EXPECT_EQ(*size, w.physical.size());
    }
    return w;
}

// A dump: a 10000-byte head, memory with zero stretches of several frames, a record at the end.
std::vector<uint8_t> sample_dump() {
    std::vector<uint8_t> plain = dumpish(20 * kFrame + 777, 1);
    std::fill(plain.begin() + 3 * kFrame + 100, plain.begin() + 9 * kFrame, 0);  // a gap
    std::fill(plain.begin() + 15 * kFrame, plain.begin() + 16 * kFrame, 0);      // one frame
    return plain;
}

void expect_reads_match(const std::string& path, const std::vector<uint8_t>& plain) {
    auto file = SeekableZstdFile::open(path, 3 * kFrame);
    ASSERT_TRUE(file.ok()) << file.error().message;
    ASSERT_EQ((*file)->size(), plain.size());
    std::mt19937_64 rng(7);
    for (int i = 0; i < 400; ++i) {
        const uint64_t offset = rng() % plain.size();
        const size_t n = std::min<uint64_t>(rng() % (3 * kFrame), plain.size() - offset);
        std::vector<uint8_t> got(n);
        Status s = (*file)->read(offset, got);
        ASSERT_TRUE(s.ok()) << s.error().message;
        ASSERT_TRUE(std::equal(got.begin(), got.end(), plain.begin() + offset))
            << "at " << offset << " size " << n;
    }
    std::vector<uint8_t> all(plain.size());
    ASSERT_TRUE((*file)->read(0, all).ok());
    EXPECT_EQ(all, plain);
}

TEST(SeekableZstd, OutOfOrderDumpRoundTripsThroughOurReaderAndTheZstdCli) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample_dump();
    Written w = write_like_a_dump(plain, 10000, 5000);
    const std::string path = dir.path + "/d.dmp.zst";
    save(path, w.physical);
    EXPECT_LT(w.physical.size(), plain.size());
    expect_reads_match(path, plain);

    int status = 0;
    const std::string out = run("zstd -q -d -c " + path + " > " + dir.path + "/d.dmp", &status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(load(dir.path + "/d.dmp"), plain);

    const std::string listed = run("zstd -l " + path, &status);
    EXPECT_EQ(status, 0) << listed;
    EXPECT_NE(listed.find("Frames"), std::string::npos) << listed;
}

TEST(SeekableZstd, TableListsHeadFramesPaddingAndBodyFramesWithChecksums) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample_dump();
    // A head of 2.5 frames: three head frames, then the padding, then body frames from 2.5.
    const uint64_t head = 2 * kFrame + kFrame / 2;
    Written w = write_like_a_dump(plain, head, 4096);
    const std::string path = dir.path + "/d.zst";
    save(path, w.physical);
    auto file = SeekableZstdFile::open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    const SeekTable& t = (*file)->table();
    ASSERT_TRUE(t.checksums);
    ASSERT_GE(t.frames.size(), 5u);
    EXPECT_EQ(t.frames[0].decompressed_size, kFrame);
    EXPECT_EQ(t.frames[2].decompressed_size, kFrame / 2);
    EXPECT_EQ(t.frames[3].decompressed_size, 0u);  // padding
    EXPECT_EQ(t.frames[4].decompressed_offset, head);
    EXPECT_EQ(t.frames[4].decompressed_size, kFrame / 2);  // up to the next aligned frame
    EXPECT_EQ(t.frames[5].decompressed_offset, 3 * kFrame);
    EXPECT_EQ(t.frames.back().decompressed_size, 777u);
    expect_reads_match(path, plain);
    int status = 0;
    run("zstd -q -t " + path, &status);
    EXPECT_EQ(status, 0);
}

TEST(SeekableZstd, SizesOnFrameBoundariesAndHeadLargerThanTheFile) {
    TempDir dir;
    for (uint64_t size : {uint64_t{kFrame}, uint64_t{4 * kFrame}, uint64_t{4 * kFrame + 1},
                          uint64_t{kFrame - 1}, uint64_t{1}}) {
        SCOPED_TRACE(size);
        const std::vector<uint8_t> plain = dumpish(size, 3);
        for (uint64_t head : {uint64_t{0}, uint64_t{4096}, uint64_t{8 * kFrame}}) {
            Written w = write_like_a_dump(plain, head, kFrame);
            const std::string path = dir.path + "/b.zst";
            save(path, w.physical);
            expect_reads_match(path, plain);
            int status = 0;
            run("zstd -q -d -f " + path + " -o " + dir.path + "/b", &status);
            ASSERT_EQ(status, 0);
            EXPECT_EQ(load(dir.path + "/b"), plain);
        }
    }
}

TEST(SeekableZstd, AllZeroDumpIsTinyAndEmptyDumpIsValid) {
    TempDir dir;
    const std::vector<uint8_t> zeros(64 * kFrame, 0);
    Written w = write_like_a_dump(zeros, 4096, kFrame);
    EXPECT_LT(w.physical.size(), 64 * 1024u);
    save(dir.path + "/z.zst", w.physical);
    expect_reads_match(dir.path + "/z.zst", zeros);

    Written empty = write_like_a_dump({}, 0, kFrame);
    save(dir.path + "/e.zst", empty.physical);
    int status = 0;
    const std::string out = run("zstd -q -d -c " + dir.path + "/e.zst | wc -c", &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(std::stoul(out), 0u);
}

TEST(SeekableZstd, WriteIntoACompressedFrameIsAnError) {
    SeekableWriterOptions options;
    options.frame_size = kFrame;
    options.deferred_head = 4096;
    auto writer = SeekableZstdWriter::create(
        [](uint64_t, std::span<const uint8_t>) -> Status { return {}; }, options, "x.zst");
    ASSERT_TRUE(writer.ok());
    std::vector<uint8_t> bytes(100, 1);
    ASSERT_TRUE((*writer)->write_at(kFrame + 5, bytes).ok());
    ASSERT_TRUE((*writer)->write_at(kFrame, bytes).ok());  // same frame, earlier: fine
    ASSERT_TRUE((*writer)->write_at(3 * kFrame, bytes).ok());
    ASSERT_TRUE((*writer)->write_at(0, bytes).ok());  // the head: any time
    Status s = (*writer)->write_at(2 * kFrame + 8, bytes);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("x.zst"), std::string::npos);
    EXPECT_NE(s.error().message.find("already compressed"), std::string::npos) << s.error().message;
    EXPECT_FALSE((*writer)->finish(4 * kFrame).ok());  // the writer stays failed
}

TEST(SeekableZstd, SinkErrorsAndShortFinalSizeAreReported) {
    SeekableWriterOptions options;
    options.frame_size = kFrame;
    auto writer = SeekableZstdWriter::create(
        [](uint64_t, std::span<const uint8_t>) -> Status { return Error{"disk full"}; }, options,
        "y.zst");
    ASSERT_TRUE(writer.ok());
    std::vector<uint8_t> bytes(2 * kFrame, 1);
    Status s = (*writer)->write_at(0, bytes);
    Status drained =
        s.ok() ? Status((*writer)->finish(2 * kFrame).ok() ? Status() : Error{"x"}) : s;
    EXPECT_FALSE(drained.ok());

    auto other = SeekableZstdWriter::create(
        [](uint64_t, std::span<const uint8_t>) -> Status { return {}; }, options, "z.zst");
    ASSERT_TRUE((*other)->write_at(100, bytes).ok());
    auto finished = (*other)->finish(50);
    ASSERT_FALSE(finished.ok());
    EXPECT_NE(finished.error().message.find("smaller than"), std::string::npos);
}

// ---- the seek table parser

std::vector<uint8_t> table_of(std::vector<std::pair<uint32_t, uint32_t>> sizes) {
    std::vector<SeekFrame> frames;
    for (auto [c, d] : sizes) frames.push_back({0, c, 0, d, std::nullopt});
    return encode_seek_table(frames);
}

// A file of `before` bytes of frames followed by the table.
std::vector<uint8_t> file_with(uint64_t before, const std::vector<uint8_t>& table) {
    std::vector<uint8_t> f(before + table.size(), 0);  // (insert: a false -Warray-bounds at -O3)
    std::copy(table.begin(), table.end(), f.begin() + static_cast<ptrdiff_t>(before));
    return f;
}

std::string parse_error(const std::vector<uint8_t>& file) {
    auto t = parse_seek_table(file, file.size(), "f.zst");
    return t.ok() ? "" : t.error().message;
}

TEST(SeekTableParse, ValidTableGivesOffsets) {
    auto file = file_with(300, table_of({{100, 4096}, {8, 0}, {192, 10}}));
    auto t = parse_seek_table(file, file.size(), "f.zst");
    ASSERT_TRUE(t.ok()) << t.error().message;
    ASSERT_EQ(t->frames.size(), 3u);
    EXPECT_EQ(t->frames[2].compressed_offset, 108u);
    EXPECT_EQ(t->frames[2].decompressed_offset, 4096u);
    EXPECT_EQ(t->decompressed_size, 4106u);
    EXPECT_EQ(t->frame_at(4095), 0u);
    EXPECT_EQ(t->frame_at(4096), 2u);  // the empty frame holds nothing
    EXPECT_FALSE(t->frame_at(4106));
    EXPECT_EQ(t->table_size, 8u + 3 * 8 + 9);
}

TEST(SeekTableParse, RejectsCorruptAndTruncatedTablesByName) {
    auto good = file_with(300, table_of({{100, 4096}, {200, 10}}));
    auto bad_magic = good;
    bad_magic.back() ^= 1;
    EXPECT_NE(parse_error(bad_magic).find("no seekable magic"), std::string::npos);

    auto reserved = good;
    reserved[reserved.size() - 5] = 0x04;
    EXPECT_NE(parse_error(reserved).find("reserved bits"), std::string::npos);

    auto too_many = good;  // 2^31 frames in a file of 350 bytes
    const uint32_t huge = 0x80000000u;
    std::memcpy(too_many.data() + too_many.size() - 9, &huge, 4);
    const std::string e = parse_error(too_many);
    EXPECT_NE(e.find("claims 2147483648 frames"), std::string::npos) << e;
    EXPECT_NE(e.find("f.zst"), std::string::npos);

    auto truncated = std::vector<uint8_t>(good.begin() + 1, good.end());  // one byte short
    EXPECT_NE(parse_error(truncated).find("past the seek table at 0x12b"), std::string::npos)
        << parse_error(truncated);
    auto longer = file_with(301, table_of({{100, 4096}, {200, 10}}));  // one byte too many
    EXPECT_NE(parse_error(longer).find("take 300 bytes"), std::string::npos) << parse_error(longer);

    auto cut = std::vector<uint8_t>(good.begin(), good.end() - 1);  // footer cut
    EXPECT_NE(parse_error(cut).find("no seekable magic"), std::string::npos);

    auto beyond = file_with(300, table_of({{100, 4096}, {0xFFFFFFF0u, 10}}));
    EXPECT_NE(parse_error(beyond).find("past the seek table"), std::string::npos);

    auto skippable_size = good;
    skippable_size[good.size() - (8 + 2 * 8 + 9) + 4] ^= 1;
    EXPECT_NE(parse_error(skippable_size).find("says"), std::string::npos);

    auto big_frame = file_with(300, table_of({{300, 0xFFFFFFFFu}}));
    EXPECT_NE(parse_error(big_frame).find("at most"), std::string::npos);

    // 1 TiB is the most a table may describe: 1025 frames of 1 GiB.
    std::vector<std::pair<uint32_t, uint32_t>> many(1025, {1, 1u << 30});
    auto huge_total = file_with(1025, table_of(many));
    EXPECT_NE(parse_error(huge_total).find("decompressed bytes"), std::string::npos);
    EXPECT_EQ(parse_error(file_with(0, table_of({}))), "");
}

TEST(SeekableZstd, CorruptFrameIsReportedWithItsOffsets) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample_dump();
    Written w = write_like_a_dump(plain, 10000, 5000);
    const std::string path = dir.path + "/c.zst";
    {
        // Flip bytes in the middle of the 8th frame's data.
        save(path, w.physical);
        auto file = SeekableZstdFile::open(path);
        ASSERT_TRUE(file.ok());
        const SeekFrame f = (*file)->table().frames[8];
        w.physical[f.compressed_offset + f.compressed_size / 2] ^= 0xff;
        w.physical[f.compressed_offset + f.compressed_size / 2 + 1] ^= 0xff;
        save(path, w.physical);
    }
    auto file = SeekableZstdFile::open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;  // headers are intact
    const SeekFrame f = (*file)->table().frames[8];
    std::vector<uint8_t> out(10);
    Status s = (*file)->read(f.decompressed_offset + 5, out);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find(path), std::string::npos);
    EXPECT_NE(s.error().message.find("frame 8"), std::string::npos) << s.error().message;
    // Other frames still read.
    EXPECT_TRUE((*file)->read(0, out).ok());

    // A table whose sizes disagree with a frame header is refused at open.
    std::vector<uint8_t> lying = w.physical;
    const size_t table_at = lying.size() - (*file)->table().table_size;
    uint32_t d = 0;
    std::memcpy(&d, lying.data() + table_at + 8 + 4, 4);  // frame 0's decompressed size
    d -= 1;
    std::memcpy(lying.data() + table_at + 8 + 4, &d, 4);
    save(path + ".lying", lying);
    auto refused = SeekableZstdFile::open(path + ".lying");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("header says"), std::string::npos)
        << refused.error().message;
}

TEST(SeekableZstd, DetectsSeekableFilesOnly) {
    TempDir dir;
    Written w = write_like_a_dump(sample_dump(), 4096, 4096);
    save(dir.path + "/s.zst", w.physical);
    save(dir.path + "/p", sample_dump());
    run("zstd -q " + dir.path + "/p -o " + dir.path + "/p.zst");
    EXPECT_TRUE(is_seekable_zstd(dir.path + "/s.zst"));
    EXPECT_FALSE(is_seekable_zstd(dir.path + "/p.zst"));
    EXPECT_FALSE(is_seekable_zstd(dir.path + "/p"));
    auto plain = SeekableZstdFile::open(dir.path + "/p.zst");
    ASSERT_FALSE(plain.ok());
    EXPECT_NE(plain.error().message.find("no zstd seek table"), std::string::npos);
}

}  // namespace

// Never-block mode (a paused target): with one slow worker (level 19) the writer never waits;
// frames the worker cannot take go raw to a sparse spill file and come back in order, so the
// file is the same dump; nothing is left in spill_dir. The spill file is a memfd up to the
// memory bound (the parameter, in frames; -1: the default, a quarter of MemAvailable), then an
// unlinked temporary in spill_dir.
class NeverBlock : public ::testing::TestWithParam<int> {};

TEST_P(NeverBlock, SpillsFramesAndKeepsTheirOrder) {
    TempDir dir;
    TempDir spill_dir;
    std::vector<uint8_t> plain = dumpish(48 * kFrame + 300, 3);
    std::fill(plain.begin() + 5 * kFrame, plain.begin() + 9 * kFrame, 0);           // whole frames
    std::fill(plain.begin() + 20 * kFrame + 8192, plain.begin() + 21 * kFrame, 0);  // zero pages
    const uint64_t head = 3 * 4096;
    SeekableWriterOptions options;
    options.level = 19;
    options.threads = 1;
    options.frame_size = kFrame;
    options.deferred_head = head;
    options.spill_dir = spill_dir.path;
    if (GetParam() >= 0) options.memory_spill_bytes = uint64_t{kFrame} * GetParam();
    std::vector<uint8_t> physical;
    auto writer = SeekableZstdWriter::create(
        [&](uint64_t offset, std::span<const uint8_t> bytes) -> Status {
            if (physical.size() < offset + bytes.size()) physical.resize(offset + bytes.size());
            std::memcpy(physical.data() + offset, bytes.data(), bytes.size());
            return {};
        },
        options, "paused.dmp.zst");
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    (*writer)->set_never_block(true);
    const auto started = std::chrono::steady_clock::now();
    for (uint64_t at = head; at < plain.size(); at += 10000) {
        const size_t n = std::min<uint64_t>(10000, plain.size() - at);
        std::span<const uint8_t> bytes(plain.data() + at, n);
        if (std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; })) continue;
        Status s = (*writer)->write_at(at, bytes);
        ASSERT_TRUE(s.ok()) << s.error().message;
    }
    const double paused_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    (*writer)->set_never_block(false);
    ASSERT_TRUE((*writer)->write_at(0, {plain.data(), head}).ok());
    auto size = (*writer)->finish(plain.size());
    ASSERT_TRUE(size.ok()) << size.error().message;
    EXPECT_EQ(*size, physical.size());

    const SeekableWriterStats& stats = (*writer)->stats();
    EXPECT_TRUE(stats.spill_error.empty()) << stats.spill_error;
    EXPECT_GT(stats.spilled_frames, 20u);
    EXPECT_LE(stats.spilled_frames, stats.frames);
    const uint64_t in_memory = GetParam() < 0 ? stats.spilled_frames : uint64_t(GetParam());
    EXPECT_EQ(stats.memory_spilled_frames, in_memory);
    // Sparse: the zero pages of frame 20 were not written to it (whole zero frames are not
    // counted: nothing of them goes to the file).
    EXPECT_LE(stats.spilled_bytes, stats.spilled_frames * kFrame - (kFrame - 8192));
    std::printf("paused writes %.1f ms, backlog %.1f ms, %llu of %llu frames spilled\n", paused_ms,
                stats.backlog_ms, static_cast<unsigned long long>(stats.spilled_frames),
                static_cast<unsigned long long>(stats.frames));
    // The worker's backlog, not the paused writes, took the time (level 19 on one thread).
    EXPECT_LT(paused_ms * 2, stats.backlog_ms)
        << "paused " << paused_ms << " ms, backlog " << stats.backlog_ms << " ms";
    EXPECT_EQ(run("ls -A " + spill_dir.path), "");

    const std::string path = dir.path + "/paused.dmp.zst";
    save(path, physical);
    expect_reads_match(path, plain);
    int status = 0;
    const std::string out = run("zstd -q -d -c " + path + " > " + dir.path + "/p.dmp", &status);
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(load(dir.path + "/p.dmp"), plain);
}

INSTANTIATE_TEST_SUITE_P(MemoryBound, NeverBlock, ::testing::Values(0, 6, -1),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                             return param_info.param == 0  ? std::string("FileOnly")
                                    : param_info.param > 0 ? std::string("SixFramesInMemory")
                                                           : std::string("DefaultBound");
                         });
