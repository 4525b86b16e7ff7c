// Compressed dumps opened in place: a minidump and a core compressed into the zstd seekable
// format (by compress/'s writer, written the way the dump writers write: head last) give the
// same `info`, `threads`, `stack --all` and `memory` output as the plain files; plain zstd and
// gzip files open too, with one note on stderr; a corrupt frame makes the command fail with an
// error naming the file and the frame.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <regex>

#include "analysis_support.h"
#include "compress/seekable_reader.h"
#include "compress/seekable_writer.h"

using namespace test_support;

namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new NoDebuginfod);

// Compresses `plain` into a seekable file at `out` with small frames (so that a command touches
// only some of them): memory in increasing order, then the head of `head` bytes last.
void compress_seekable(const std::string& plain, const std::string& out, uint64_t head) {
    const std::vector<uint8_t> bytes = read_file(plain);
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    dumpscope::compress::SeekableWriterOptions options;
    options.frame_size = 256 * 1024;
    options.deferred_head = head;
    auto writer = dumpscope::compress::SeekableZstdWriter::create(
        [fd](uint64_t offset, std::span<const uint8_t> b) -> dumpscope::Status {
            if (::pwrite(fd, b.data(), b.size(), static_cast<off_t>(offset)) !=
                static_cast<ssize_t>(b.size()))
                return dumpscope::Error{"short write"};
            return {};
        },
        options, out);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    const uint64_t body = std::min<uint64_t>((*writer)->head_size(), bytes.size());
    for (uint64_t at = body; at < bytes.size(); at += 100000) {
        const size_t n = std::min<uint64_t>(100000, bytes.size() - at);
        ASSERT_TRUE((*writer)->write_at(at, {bytes.data() + at, n}).ok());
    }
    ASSERT_TRUE((*writer)->write_at(0, {bytes.data(), body}).ok());
    auto size = (*writer)->finish(bytes.size());
    ASSERT_TRUE(size.ok()) << size.error().message;
    ::close(fd);
}

std::string output_of(const std::vector<std::string>& args, int* exit_code = nullptr,
                      std::string* err = nullptr) {
    std::vector<std::string> argv{dumpscope_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run(argv, 300);
    if (exit_code != nullptr) *exit_code = r.exit_code;
    if (err != nullptr) *err = r.err;
    return r.out;
}

// `info` without the lines that describe the file rather than the dump (its path, its size on
// disk).
std::string info_text(const std::string& dump) {
    int code = -1;
    std::string err;
    std::string out = output_of({"info", dump}, &code, &err);
    EXPECT_EQ(code, 0) << err;
    std::string kept;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.find(dump) != std::string::npos || line.find("disk") != std::string::npos)
            continue;
        kept += line + "\n";
    }
    return kept;
}

class CompressedDumps : public ::testing::Test {
protected:
    void SetUp() override {
        fixture_ = std::make_unique<Fixture>("fixture_waiters");
        dump_ = collect_into(dir_.path(), fixture_->pid(), "maxi", "minidump");
        core_ = collect_into(dir_.path(), fixture_->pid(), "maxi", "core");
        fixture_.reset();
    }
    void expect_same_output(const std::string& plain, const std::string& compressed) {
        EXPECT_EQ(info_text(plain), info_text(compressed));
        for (const std::vector<std::string>& command :
             {std::vector<std::string>{"threads"}, {"stack", "--all"}, {"regions"}}) {
            std::vector<std::string> a = command, b = command;
            a.push_back(plain);
            b.push_back(compressed);
            int code_a = -1, code_b = -1;
            std::string err_b;
            const std::string out_a = output_of(a, &code_a);
            const std::string out_b = output_of(b, &code_b, &err_b);
            EXPECT_EQ(code_a, 0);
            EXPECT_EQ(code_b, 0) << err_b;
            EXPECT_EQ(out_a, out_b) << command[0];
            EXPECT_FALSE(out_a.empty());
        }
    }

    TempDir dir_;
    std::unique_ptr<Fixture> fixture_;
    std::string dump_, core_;
};

TEST_F(CompressedDumps, SeekableMinidumpAndCoreReadLikeThePlainFiles) {
    const std::string dmp_zst = dump_ + ".zst";
    const std::string core_zst = core_ + ".zst";
    compress_seekable(dump_, dmp_zst, 64 * 1024);
    compress_seekable(core_, core_zst, 16 * 1024);
    ASSERT_TRUE(dumpscope::compress::is_seekable_zstd(dmp_zst));
    // The zstd CLI gives back the plain bytes: the test compares like with like.
    ASSERT_EQ(run({"zstd", "-q", "-d", "-f", core_zst, "-o", dir_.path() + "/back.core"}).exit_code,
              0);
    ASSERT_EQ(read_file(dir_.path() + "/back.core"), read_file(core_));
    expect_same_output(dump_, dmp_zst);
    expect_same_output(core_, core_zst);
}

TEST_F(CompressedDumps, PlainZstdAndGzipOpenThroughATemporaryFileWithOneNote) {
    ASSERT_EQ(run({"zstd", "-q", "-k", core_, "-o", core_ + ".zst"}).exit_code, 0);
    ASSERT_EQ(run({"sh", "-c", "gzip -c " + dump_ + " > " + dump_ + ".gz"}).exit_code, 0);
    for (const auto& [plain, packed, kind] :
         {std::tuple{core_, core_ + ".zst", std::string("zstd-compressed without a seek table")},
          std::tuple{dump_, dump_ + ".gz", std::string("gzip-compressed")}}) {
        int code = -1;
        std::string err;
        const std::string out = output_of({"stack", "--all", packed}, &code, &err);
        EXPECT_EQ(code, 0) << err;
        EXPECT_EQ(out, output_of({"stack", "--all", plain}));
        EXPECT_NE(err.find(kind), std::string::npos) << err;
        EXPECT_NE(err.find("temporary file"), std::string::npos) << err;
        size_t notes = 0;
        for (size_t at = err.find("dumpscope:"); at != std::string::npos;
             at = err.find("dumpscope:", at + 1))
            ++notes;
        EXPECT_EQ(notes, 1u) << err;
        expect_same_output(plain, packed);
    }
}

TEST_F(CompressedDumps, CorruptFrameFailsTheCommandNamingFileAndFrame) {
    const std::string core_zst = core_ + ".zst";
    compress_seekable(core_, core_zst, 16 * 1024);
    // Corrupt every frame after the head (keeping headers, so the file opens): any command that
    // reads the memory meets one.
    std::vector<uint8_t> bytes = read_file(core_zst);
    {
        auto file = dumpscope::compress::SeekableZstdFile::open(core_zst);
        ASSERT_TRUE(file.ok()) << file.error().message;
        for (const auto& f : (*file)->table().frames) {
            if (f.decompressed_offset < 64 * 1024 || f.decompressed_size == 0) continue;
            bytes[f.compressed_offset + f.compressed_size - 6] ^= 0x5a;
        }
    }
    std::ofstream(core_zst, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    int code = -1;
    std::string err;
    output_of({"stack", "--all", core_zst}, &code, &err);
    EXPECT_NE(code, 0);
    EXPECT_TRUE(std::regex_search(
        err, std::regex("dumpscope: " + core_zst + ": zstd frame [0-9]+ at offset 0x[0-9a-f]+")))
        << err;
}

}  // namespace

namespace {

// collect --compress writes .zst dumps that zstd -d turns into the plain dump gdb and lldb walk,
// with the stacks dumpscope finds in the compressed file itself; convert goes both ways.
TEST(CompressedCollect, CollectCompressGivesDumpsZstdGdbAndLldbRead) {
    TempDir dir;
    Fixture fixture("fixture_waiters");
    const std::string pid = std::to_string(fixture.pid());
    for (const std::string format : {"minidump", "core"}) {
        SCOPED_TRACE(format);
        const CommandResult r = run({dumpscope_binary(), "collect", "--quiet", "--type", "maxi",
                                     "--format", format, "--compress", pid, dir.path()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::string dmp_zst, core_zst;
    for (const std::string& name : dir.files()) {
        if (name.ends_with(".dmp.zst")) dmp_zst = dir.path() + "/" + name;
        if (name.ends_with(".core.zst")) core_zst = dir.path() + "/" + name;
    }
    ASSERT_FALSE(dmp_zst.empty());
    ASSERT_FALSE(core_zst.empty());
    EXPECT_TRUE(dumpscope::compress::is_seekable_zstd(dmp_zst));
    EXPECT_TRUE(dumpscope::compress::is_seekable_zstd(core_zst));
    const std::string dmp = dir.path() + "/plain.dmp";
    const std::string core = dir.path() + "/plain.core";
    ASSERT_EQ(run({"zstd", "-q", "-d", dmp_zst, "-o", dmp}).exit_code, 0);
    ASSERT_EQ(run({"zstd", "-q", "-d", core_zst, "-o", core}).exit_code, 0);
    EXPECT_LT(read_file(core_zst).size() * 4, read_file(core).size());  // it did compress

    const Stacks from_zst = dumpscope_stacks(core_zst);
    ASSERT_EQ(from_zst.size(), 4u);
    EXPECT_TRUE(same_stacks(from_zst, dumpscope_stacks(dmp_zst)));
    if (have_program("gdb")) {
        EXPECT_TRUE(same_stacks(from_zst, gdb_stacks(dir.path(), fixture.path(), core)));
    }
    if (have_program(lldb_binary())) {
        EXPECT_TRUE(same_stacks(dumpscope_stacks(dmp_zst), lldb_stacks(dir.path(), dmp)));
    }

    // convert X.dmp.zst X.dmp: the plain dump, which lldb reads; and back to .zst.
    const std::string converted = dir.path() + "/converted.dmp";
    CommandResult c = run({dumpscope_binary(), "convert", "--quiet", dmp_zst, converted});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(info_json(converted).at("format"), "minidump");
    EXPECT_FALSE(dumpscope::compress::is_seekable_zstd(converted));
    if (have_program(lldb_binary())) {
        EXPECT_TRUE(same_stacks(dumpscope_stacks(dmp_zst), lldb_stacks(dir.path(), converted)));
    }
    const std::string again = dir.path() + "/again.core.zst";
    c = run({dumpscope_binary(), "convert", "--quiet", converted, again});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    EXPECT_TRUE(dumpscope::compress::is_seekable_zstd(again));
    EXPECT_EQ(info_json(again).at("format"), "elf-core");
    EXPECT_TRUE(same_stacks(from_zst, dumpscope_stacks(again)));

    const CommandResult bad =
        run({dumpscope_binary(), "collect", "--compress=30", pid, dir.path()});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("not a zstd compression level"), std::string::npos) << bad.err;
}

}  // namespace

namespace {

// A trigger writes its dump through the same compressed DumpFile.
TEST(CompressedCollect, TriggeredDumpIsCompressedToo) {
    TempDir dir;
    Fixture fixture("fixture_waiters");
    const CommandResult r = run({dumpscope_binary(), "collect", "--quiet", "--compress",
                                 "--threads", "2", std::to_string(fixture.pid()), dir.path()},
                                120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(dir.files().size(), 1u);
    const std::string dump = dir.path() + "/" + dir.files().front();
    EXPECT_TRUE(dump.ends_with(".dmp.zst")) << dump;
    EXPECT_TRUE(dumpscope::compress::is_seekable_zstd(dump));
    EXPECT_EQ(info_json(dump).at("format"), "minidump");
    EXPECT_EQ(dumpscope_stacks(dump).size(), 4u);
}

}  // namespace

namespace {

// The n-th word fixture_memory_hog wrote (its xorshift sequence).
uint64_t hog_word(uint64_t n) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint64_t i = 0; i <= n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

uint64_t dumped_word(const std::string& dump, uint64_t address) {
    std::ostringstream hex;
    hex << std::hex << address;
    const CommandResult r = run({dumpscope_binary(), "memory", "--json", dump, hex.str(), "8"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | j.at("bytes").at(i).get<uint64_t>();
    return value;
}

// The target's pause does not grow with --compress: while it is paused the writer never waits
// for the compressor (frames it cannot take go to a spill file beside the dump). 128 MiB of
// random bytes at level 15 take seconds to compress on two cores; the pause in the capture
// record stays a small part of the collect's wall time, and the spilled frames come back in
// order (the fixture's words at the start, middle and end of its memory).
TEST(CompressedCollect, PauseDoesNotWaitForCompression) {
    TempDir dir;
    Fixture fixture("fixture_memory_hog", {"128"});
    const std::string dump = dir.path() + "/hog.dmp.zst";
    const auto started = std::chrono::steady_clock::now();
    const CommandResult r = run({dumpscope_binary(), "collect", "--verbose", "--type", "full",
                                 "--compress=15", std::to_string(fixture.pid()), dump},
                                600);
    const double wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const double pause_ms = info_json(dump).at("capture").at("pause_ms").get<double>();
    EXPECT_GT(pause_ms, 0);
    EXPECT_LT(pause_ms * 3, wall_ms) << r.out << r.err;
    std::smatch m;
    const std::string said = r.out + r.err;
    ASSERT_TRUE(std::regex_search(said, m, std::regex(R"(([0-9]+) of them through a spill file)")))
        << said;
    EXPECT_GT(std::stoull(m[1]), 0u) << said;
    EXPECT_TRUE(dir.files().size() == 1) << "the spill file is not left behind";

    const uint64_t memory = fixture.address("memory");
    const uint64_t words = fixture.info().at("size").get<uint64_t>() / 8;
    for (uint64_t n : {uint64_t{0}, words / 2 + 3, words - 1}) {
        EXPECT_EQ(dumped_word(dump, memory + n * 8), hog_word(n)) << "word " << n;
    }
}

}  // namespace
