// A zstd seekable file mapped with pages filled on demand (userfaultfd): the span reads like the
// plain bytes, from this thread, from others and through the kernel (write() from the span);
// residency stays bounded; a corrupt frame reads as zeros and is reported; the temporary-file
// path gives the same bytes for plain zstd and gzip.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "compress/dump_bytes.h"
#include "compress/fault_mapping.h"
#include "compress/ordered_compressor.h"
#include "compress/read_errors.h"
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

constexpr uint32_t kFrame = 1u << 20;

// 40 MiB + 123 bytes: text, noise, and zero stretches.
std::vector<uint8_t> sample() {
    std::mt19937 rng(5);
    std::vector<uint8_t> v(40 * kFrame + 123);
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = (i / 4096) % 5 == 0 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(i * 7);
    std::fill(v.begin() + 10 * kFrame, v.begin() + 14 * kFrame + 100, 0);
    return v;
}

std::vector<uint8_t> seekable(const std::vector<uint8_t>& plain, uint64_t head) {
    std::vector<uint8_t> out;
    SeekableWriterOptions options;
    options.frame_size = kFrame;
    options.deferred_head = head;
    auto w = SeekableZstdWriter::create(
        [&](uint64_t offset, std::span<const uint8_t> b) -> Status {
            if (out.size() < offset + b.size()) out.resize(offset + b.size());
            std::memcpy(out.data() + offset, b.data(), b.size());
            return {};
        },
        options, "t.zst");
    EXPECT_TRUE(w.ok());
    const uint64_t h = (*w)->head_size();
    EXPECT_TRUE((*w)->write_at(h, {plain.data() + h, plain.size() - h}).ok());
    EXPECT_TRUE((*w)->write_at(0, {plain.data(), h}).ok());
    EXPECT_TRUE((*w)->finish(plain.size()).ok());
    return out;
}

size_t resident_pages(const uint8_t* p, size_t length) {
    std::vector<unsigned char> vec((length + 4095) / 4096);
    if (::mincore(const_cast<uint8_t*>(p), length, vec.data()) != 0) return SIZE_MAX;
    size_t n = 0;
    for (unsigned char c : vec) n += c & 1;
    return n;
}

TEST(FaultMapping, ReadsLikeThePlainBytesFromAnyThreadAndTheKernel) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample();
    save(dir.path + "/d.zst", seekable(plain, 5000));  // head not a multiple of the page
    auto mapped = map_dump_file(dir.path + "/d.zst");
    ASSERT_TRUE(mapped.ok()) << mapped.error().message;
    const std::span<const uint8_t> bytes = mapped->bytes();
    ASSERT_EQ(bytes.size(), plain.size());

    // Random reads from four threads at once.
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937_64 rng(t);
            for (int i = 0; i < 300; ++i) {
                const uint64_t at = rng() % plain.size();
                const size_t n = std::min<uint64_t>(rng() % 20000, plain.size() - at);
                if (std::memcmp(bytes.data() + at, plain.data() + at, n) != 0) ++mismatches;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(mismatches.load(), 0);
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), plain.begin()));

    // The kernel reads the span too (a fault in copy_from_user).
    const std::string copy = dir.path + "/copy";
    const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data() + 3 * kFrame + 17, 2 * kFrame),
              static_cast<ssize_t>(2 * kFrame));
    ::close(fd);
    std::ifstream in(copy, std::ios::binary);
    std::vector<uint8_t> got((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(std::equal(got.begin(), got.end(), plain.begin() + 3 * kFrame + 17));
    EXPECT_FALSE(mapped->read_error());
}

// Frames of any size, as other writers make them (here 5000 bytes: pages straddle frames).
TEST(FaultMapping, FramesThatDoNotFollowPagesReadLikeThePlainBytes) {
    TempDir dir;
    std::vector<uint8_t> plain(3 * kFrame + 77);
    std::mt19937 rng(9);
    for (auto& b : plain) b = static_cast<uint8_t>(rng() % 7);
    std::vector<uint8_t> file;
    std::vector<SeekFrame> frames;
    for (size_t at = 0; at < plain.size(); at += 5000) {
        const size_t n = std::min<size_t>(5000, plain.size() - at);
        auto frame = OrderedCompressor::compress_frame(1, {plain.data() + at, n});
        ASSERT_TRUE(frame.ok());
        file.insert(file.end(), frame->begin(), frame->end());
        frames.push_back(
            {0, static_cast<uint32_t>(frame->size()), 0, static_cast<uint32_t>(n), std::nullopt});
    }
    const std::vector<uint8_t> table = encode_seek_table(frames);
    file.insert(file.end(), table.begin(), table.end());
    save(dir.path + "/odd.zst", file);
    auto mapped = map_dump_file(dir.path + "/odd.zst");
    ASSERT_TRUE(mapped.ok()) << mapped.error().message;
    ASSERT_EQ(mapped->bytes().size(), plain.size());
    // Back to front, so that pages shared by two frames are met from both sides.
    for (size_t at = plain.size(); at > 0;) {
        const size_t n = std::min<size_t>(3000, at);
        at -= n;
        ASSERT_EQ(std::memcmp(mapped->bytes().data() + at, plain.data() + at, n), 0) << at;
    }
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), mapped->bytes().begin()));
    EXPECT_FALSE(mapped->read_error());
}

TEST(FaultMapping, ResidencyStaysBounded) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample();
    save(dir.path + "/d.zst", seekable(plain, 0));
    auto file = SeekableZstdFile::open(dir.path + "/d.zst", 2 * kFrame);
    ASSERT_TRUE(file.ok());
    auto m = FaultMapping::create(std::move(*file), 16u << 20);  // the smallest bound
    ASSERT_TRUE(m.ok()) << m.error().message;
    const uint8_t* p = (*m)->data();
    uint64_t sum = 0;
    for (uint64_t at = 0; at < plain.size(); at += 4096) sum += p[at];
    uint64_t expected = 0;
    for (uint64_t at = 0; at < plain.size(); at += 4096) expected += plain[at];
    EXPECT_EQ(sum, expected);
    // 40 MiB touched, at most 16 MiB (+ the frame being filled) kept.
    const size_t pages = resident_pages(p, plain.size());
    EXPECT_LE(pages * 4096, (16u << 20) + kFrame);
    EXPECT_GT(pages, 0u);
    // Dropped pages come back with the same bytes.
    EXPECT_EQ(std::memcmp(p, plain.data(), kFrame), 0);
}

TEST(FaultMapping, CorruptFrameReadsAsZerosAndIsReported) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample();
    std::vector<uint8_t> z = seekable(plain, 0);
    save(dir.path + "/d.zst", z);
    SeekFrame f;
    {
        auto file = SeekableZstdFile::open(dir.path + "/d.zst");
        ASSERT_TRUE(file.ok());
        f = (*file)->table().frames[3];
    }
    z[f.compressed_offset + f.compressed_size - 5] ^= 0x77;  // its checksum
    save(dir.path + "/d.zst", z);
    auto mapped = map_dump_file(dir.path + "/d.zst");
    ASSERT_TRUE(mapped.ok()) << mapped.error().message;
    EXPECT_EQ(mapped->bytes()[0], plain[0]);
    EXPECT_FALSE(mapped->read_error());
    EXPECT_EQ(mapped->bytes()[f.decompressed_offset + 10], 0);
    auto error = mapped->read_error();
    ASSERT_TRUE(error);
    EXPECT_NE(error->find("zstd frame 3 at offset"), std::string::npos) << *error;
    EXPECT_NE(error->find(dir.path + "/d.zst"), std::string::npos);
    EXPECT_EQ(first_read_error(), error);
}

// Scans read a compressed dump through the reader (MappedFile::read_at), not the mapping: the
// same bytes, from several threads at once (each decompressing its frames), no page of the
// mapping touched; a corrupt frame ends the read with the error, recorded as for a fault.
TEST(FaultMapping, ReadAtGivesThePlainBytesFromThreadsWithoutTouchingTheMapping) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample();
    std::vector<uint8_t> z = seekable(plain, 0);
    save(dir.path + "/d.zst", z);
    auto mapped = map_dump_file(dir.path + "/d.zst");
    ASSERT_TRUE(mapped.ok()) << mapped.error().message;
    ASSERT_TRUE(mapped->can_read_at());
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::vector<uint8_t> out(300000);
            for (uint64_t at = static_cast<uint64_t>(t) * 7777; at < plain.size(); at += 1234567) {
                auto n = mapped->read_at(at, out);
                const size_t want = std::min<size_t>(out.size(), plain.size() - at);
                if (!n.ok() || *n != want || std::memcmp(out.data(), plain.data() + at, want) != 0)
                    ++wrong;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(wrong, 0);
    std::vector<uint8_t> tail(1000);
    EXPECT_EQ(*mapped->read_at(plain.size() - 10, tail), 10u);  // a short count at the end
    EXPECT_EQ(resident_pages(mapped->bytes().data(), plain.size()), 0u);

    SeekFrame f;
    {
        auto file = SeekableZstdFile::open(dir.path + "/d.zst");
        ASSERT_TRUE(file.ok());
        f = (*file)->table().frames[5];
    }
    z[f.compressed_offset + f.compressed_size - 5] ^= 0x77;
    save(dir.path + "/e.zst", z);
    auto corrupt = map_dump_file(dir.path + "/e.zst");
    ASSERT_TRUE(corrupt.ok());
    std::vector<uint8_t> out(100);
    EXPECT_TRUE(corrupt->read_at(f.decompressed_offset - 200, out).ok());  // frame 4
    EXPECT_FALSE(corrupt->read_error());
    auto bad = corrupt->read_at(f.decompressed_offset + 10, out);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("zstd frame 5 at offset"), std::string::npos);
    ASSERT_TRUE(corrupt->read_error());
    EXPECT_EQ(*corrupt->read_error(), bad.error().message);
}

TEST(DumpBytes, PlainZstdAndGzipGiveTheSameBytesAsThePlainFile) {
    TempDir dir;
    const std::vector<uint8_t> plain = sample();
    save(dir.path + "/p", plain);
    ASSERT_EQ(std::system(("zstd -q " + dir.path + "/p -o " + dir.path + "/p.zst").c_str()), 0);
    ASSERT_EQ(std::system(("gzip -k " + dir.path + "/p").c_str()), 0);
    EXPECT_EQ(detect_storage(dir.path + "/p"), Storage::kPlain);
    EXPECT_EQ(detect_storage(dir.path + "/p.zst"), Storage::kZstd);
    EXPECT_EQ(detect_storage(dir.path + "/p.gz"), Storage::kGzip);
    for (const std::string name : {"/p.zst", "/p.gz"}) {
        auto mapped = map_dump_file(dir.path + name);
        ASSERT_TRUE(mapped.ok()) << mapped.error().message;
        ASSERT_EQ(mapped->bytes().size(), plain.size());
        EXPECT_TRUE(std::equal(plain.begin(), plain.end(), mapped->bytes().begin())) << name;
        auto prefix = read_dump_prefix(dir.path + name, 100);
        ASSERT_TRUE(prefix.ok());
        EXPECT_TRUE(std::equal(prefix->begin(), prefix->end(), plain.begin()));
        EXPECT_EQ(prefix->size(), 100u);
    }
    // Truncated inputs are errors, not short dumps.
    for (const std::string name : {"/p.zst", "/p.gz"}) {
        std::ifstream in(dir.path + name, std::ios::binary);
        std::vector<uint8_t> packed((std::istreambuf_iterator<char>(in)), {});
        packed.resize(packed.size() / 2);
        save(dir.path + "/cut" + name.substr(2), packed);
        auto mapped = map_dump_file(dir.path + "/cut" + name.substr(2));
        ASSERT_FALSE(mapped.ok());
        EXPECT_NE(mapped.error().message.find("truncated"), std::string::npos)
            << mapped.error().message;
    }
}

}  // namespace
