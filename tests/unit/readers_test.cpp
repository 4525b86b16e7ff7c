// read_minidump and read_elf_core on dumps of a synthetic snapshot written by our writers: the
// snapshot read back is the one written (threads, registers, names, modules with build-ids,
// mappings, descriptors), and memory reads return the dumped bytes and stop short, never make up
// zeros, where the dump has none. Also the RangeMemorySource they both build on: its bytes in
// place, and letting go of a mapped dump's pages without changing what reads return.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/mapped_file.h"
#include "elfcore/core_reader.h"
#include "minidump/minidump_reader.h"
#include "snapshot/range_memory_source.h"
#include "synthetic_dump.h"

namespace dumpscope {
namespace {

using namespace dumpscope::test;

class DumpReaders : public ::testing::TestWithParam<bool> {
protected:
    bool core() const { return GetParam(); }
    Result<Snapshot> write_and_read() {
        const std::string path =
            write_synthetic(dir_.path() + (core() ? "/s.core" : "/s.dmp"), core());
        EXPECT_FALSE(path.empty());
        return core() ? read_elf_core(path) : read_minidump(path);
    }
    ScratchDir dir_;
};

TEST_P(DumpReaders, ThreadsComeBackWithRegistersNamesAndSystemCalls) {
    auto s = write_and_read();
    ASSERT_TRUE(s.ok()) << s.error().message;
    const Snapshot expected = synthetic_snapshot();
    ASSERT_EQ(s->threads.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const Thread& got = s->threads[i];
        const Thread& want = expected.threads[i];
        EXPECT_EQ(got.tid, want.tid);
        EXPECT_EQ(got.name, want.name);
        EXPECT_EQ(got.state, 'S');
        ASSERT_NE(got.regs.x86_64(), nullptr);
        EXPECT_EQ(got.regs.pc(), want.regs.pc());
        EXPECT_EQ(got.regs.sp(), want.regs.sp());
        EXPECT_EQ(got.regs.frame(), want.regs.frame());
        EXPECT_EQ(got.regs.x86_64()->gp.rax, want.regs.x86_64()->gp.rax);
        EXPECT_EQ(got.regs.tls(), want.regs.tls());
        EXPECT_TRUE(got.regs.x86_64()->has_fpregs);
        EXPECT_EQ(got.regs.x86_64()->fxsave, want.regs.x86_64()->fxsave);
        EXPECT_TRUE(got.syscall.in_syscall);
        EXPECT_EQ(got.syscall.number, 202);
        EXPECT_EQ(got.stack_start, kStack);
        EXPECT_EQ(got.stack_end, kStack + 4 * kPage);
    }
}

// The whole XSAVE area (here: x87/SSE, the header and AVX's upper ymm halves, as a CPU with AVX
// and no AVX-512 has it) comes back byte for byte: in a minidump as the CONTEXT's FltSave plus
// its CONTEXT_EX xstate chunk, in a core as NT_X86_XSTATE.
TEST_P(DumpReaders, TheXsaveAreaComesBackUnchanged) {
    Snapshot snapshot = synthetic_snapshot();
    for (Thread& t : snapshot.threads) {
        X86_64Registers& regs = t.regs.edit_x86_64();
        std::vector<uint8_t> xsave(832, 0);
        std::copy(regs.fxsave.begin(), regs.fxsave.end(), xsave.begin());
        const uint64_t xcr0 = 0x7;  // Linux keeps XCR0 at 464, where NT_PRFPREG has zeros
        std::memcpy(xsave.data() + 464, &xcr0, sizeof(xcr0));
        const uint64_t xstate_bv = 0x7;  // x87, SSE, AVX
        std::memcpy(xsave.data() + 512, &xstate_bv, sizeof(xstate_bv));
        for (size_t i = 576; i < xsave.size(); ++i) {
            xsave[i] = static_cast<uint8_t>(i * 7 + static_cast<size_t>(t.tid));
        }
        regs.xsave = std::move(xsave);
    }
    const std::string path =
        write_snapshot(dir_.path() + (core() ? "/x.core" : "/x.dmp"), core(), snapshot);
    ASSERT_FALSE(path.empty());
    auto s = core() ? read_elf_core(path) : read_minidump(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(s->threads.size(), snapshot.threads.size());
    for (size_t i = 0; i < snapshot.threads.size(); ++i) {
        ASSERT_NE(s->threads[i].regs.x86_64(), nullptr);
        EXPECT_EQ(s->threads[i].regs.x86_64()->xsave, snapshot.threads[i].regs.x86_64()->xsave)
            << "thread " << snapshot.threads[i].tid;
    }
}

TEST_P(DumpReaders, ProcessSystemModulesMappingsAndDescriptorsComeBack) {
    auto s = write_and_read();
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->process.pid, kPid);
    EXPECT_EQ(s->process.ppid, 1);
    EXPECT_EQ(s->process.name, "synthetic");
    EXPECT_EQ(s->process.argv, (std::vector<std::string>{"/bin/synthetic", "--flag"}));
    EXPECT_EQ(s->system.release, "6.1.0-test");
    EXPECT_EQ(s->system.version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.1-1");
    EXPECT_EQ(s->system.machine, "x86_64");
    ASSERT_EQ(s->modules.size(), 1u);
    EXPECT_EQ(s->modules[0].path, "/bin/synthetic");
    EXPECT_EQ(s->modules[0].base, kExe);
    EXPECT_EQ(s->modules[0].end, kData + kPage);
    EXPECT_EQ(s->modules[0].build_id, synthetic_snapshot().modules[0].build_id);
    EXPECT_TRUE(s->modules[0].is_main_executable);
    ASSERT_EQ(s->mappings.size(), 4u);
    EXPECT_EQ(s->mappings[1].start, kData);
    EXPECT_EQ(s->mappings[1].offset, 0x2000u);
    EXPECT_TRUE(s->mappings[1].write);
    EXPECT_EQ(s->mappings[3].path, "[stack]");
    ASSERT_EQ(s->fds.size(), 1u);
    EXPECT_EQ(s->fds[0].fd, 3);
    EXPECT_EQ(s->fds[0].target, "/etc/passwd");
}

TEST_P(DumpReaders, MemoryReadsTheDumpedBytesAndStopsWhereTheDumpHasNone) {
    auto s = write_and_read();
    ASSERT_TRUE(s.ok()) << s.error().message;
    std::vector<uint8_t> buffer(3 * kPage, 0xcc);
    // Heap pages 0-1 are dumped, 2-3 are not: the read stops after two pages.
    auto got = s->memory->read(kHeap, buffer);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 2 * kPage);
    for (uint64_t i = 0; i < 2 * kPage; ++i) ASSERT_EQ(buffer[i], pattern(kHeap + i)) << i;
    EXPECT_EQ(buffer[2 * kPage], 0xcc) << "bytes after a short read must stay untouched";
    // Not dumped at all: nothing is read.
    got = s->memory->read(kStack, std::span<uint8_t>(buffer.data(), 16));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 0u);
    EXPECT_EQ(s->memory->bytes_present(kHeap, 4 * kPage), 2 * kPage);
    EXPECT_EQ(s->memory->bytes_present(kStack, 4 * kPage), 2 * kPage);
}

TEST_P(DumpReaders, TheCaptureRecordIsWhatTheDumpSaysAndNothingMore) {
    auto s = write_and_read();
    ASSERT_TRUE(s.ok()) << s.error().message;
    // The synthetic snapshot was written with a record that names a dump type and no method or
    // trigger: the reader adds none.
    EXPECT_EQ(s->capture.dump_type, "custom");
    EXPECT_EQ(s->capture.method, "");
    EXPECT_EQ(s->capture.trigger, "");
}

INSTANTIATE_TEST_SUITE_P(BothFormats, DumpReaders, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "ElfCore" : "Minidump"; });

TEST(DumpReadersOfOtherWriters, ADumpWithoutOurRecordHasANeutralOne) {
    // Breakpad writes no DumpscopeCapture stream (tests/data/breakpad/README.md).
    auto s = read_minidump(std::string(DUMPSCOPE_SOURCE_DIR) + "/tests/data/breakpad/crasher.dmp");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->capture.method, "");
    EXPECT_EQ(s->capture.trigger, "");
    EXPECT_EQ(s->capture.tool_version, "");
    EXPECT_EQ(s->capture.dump_type, "");
    EXPECT_NE(s->capture.capture_time_unix, 0u) << "the header's time stamp";
}

TEST(RangeMemorySource, ReadsAcrossAdjacentRangesAndStopsAtGaps) {
    std::vector<uint8_t> a(16, 1), b(16, 2), c(16, 3);
    auto source = RangeMemorySource::create({{0x1010, b}, {0x1000, a}, {0x1040, c}}, nullptr);
    ASSERT_TRUE(source.ok());
    std::vector<uint8_t> out(64, 0);
    auto got = (*source)->read(0x1008, out);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, 24u);  // 8 of a, 16 of b, then the gap at 0x1020
    EXPECT_EQ(out[7], 1);
    EXPECT_EQ(out[8], 2);
    EXPECT_EQ(out[24], 0);
    EXPECT_EQ((*source)->bytes_present(0x1000, 0x100), 48u);
    EXPECT_EQ((*source)->bytes_present(0x1018, 0x30), 8u + 8u);
}

TEST(RangeMemorySource, ViewGivesTheBytesInPlaceUpToTheEndOfTheirRange) {
    std::vector<uint8_t> a(16, 1), b(16, 2);
    auto source = RangeMemorySource::create({{0x1000, a}, {0x1010, b}}, nullptr);
    ASSERT_TRUE(source.ok());
    const std::span<const uint8_t> v = (*source)->view(0x1008, 64);
    EXPECT_EQ(v.data(), a.data() + 8);  // no copy
    EXPECT_EQ(v.size(), 8u);            // a ends there (read() goes on into b)
    EXPECT_EQ((*source)->view(0x1010, 4).size(), 4u);
    EXPECT_TRUE((*source)->view(0x1020, 8).empty());  // not in the dump
    EXPECT_TRUE((*source)->view(0xff8, 8).empty());
}

// Resident file-backed and shared pages of this process (/proc/self/statm, third field).
long resident_shared_pages() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0, shared = 0;
    statm >> size >> resident >> shared;
    return shared;
}

TEST(RangeMemorySource, WillReadAndReleaseMapAndDropAMappedDumpsPagesAndReadsStayTheSame) {
    ScratchDir dir;
    const std::string path = dir.path() + "/dump";
    constexpr size_t kSize = 8u << 20;  // ranges of a bigger dump, in part of a file
    constexpr uint64_t kRest = RangeMemorySource::kKeepResident;
    std::vector<uint8_t> pattern(kSize);
    for (size_t i = 0; i < kSize; ++i) pattern[i] = static_cast<uint8_t>(i * 7 + i / 4096);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(pattern.data()), static_cast<std::streamsize>(kSize));
    // A dump with less memory than kKeepResident keeps its pages: this one has a third range,
    // never read, of that size (a sparse part of the file).
    std::filesystem::resize_file(path, kSize + kRest);
    auto file = MappedFile::open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    auto mapping = std::make_shared<MappedFile>(std::move(*file));
    const std::span<const uint8_t> bytes = mapping->bytes();
    auto source =
        RangeMemorySource::create({{0x10000000, bytes.first(kSize / 2)},
                                   {0x20000000, bytes.subspan(kSize / 2, kSize / 2)},
                                   {0x30000000, bytes.subspan(kSize, kRest)}},
                                  mapping, RangeMemorySource::Backing::kReadOnlyFileMapping);
    ASSERT_TRUE(source.ok());
    std::vector<uint8_t> out(kSize / 2);
    const long before = resident_shared_pages();
    (*source)->will_read(0x10000000, kSize / 2);  // maps the first range's pages in one call
    ASSERT_EQ(*(*source)->read(0x10000000, out), kSize / 2);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), pattern.begin()));
    ASSERT_EQ(*(*source)->read(0x20000000, out), kSize / 2);
    const long touched = resident_shared_pages();
    EXPECT_GE(touched - before, static_cast<long>(kSize / 4096) * 9 / 10);
    (*source)->release(0x10000000, 0x20000000);  // both ranges, and the gap between them
    EXPECT_LE(resident_shared_pages(), touched - static_cast<long>(kSize / 4096) * 9 / 10);
    ASSERT_EQ(*(*source)->read(0x10000000 + 100, std::span(out).first(1000)), 1000u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 1000, pattern.begin() + 100));
    ASSERT_EQ(*(*source)->read(0x20000000, out), kSize / 2);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), pattern.begin() + kSize / 2));
    // The same pages as a dump of its own, smaller than kKeepResident: they stay.
    auto small = RangeMemorySource::create({{0x10000000, bytes.first(kSize)}}, mapping,
                                           RangeMemorySource::Backing::kReadOnlyFileMapping);
    ASSERT_TRUE(small.ok());
    std::vector<uint8_t> all(kSize);
    ASSERT_EQ(*(*small)->read(0x10000000, all), kSize);
    const long kept = resident_shared_pages();
    (*small)->release(0x10000000, kSize);
    EXPECT_GE(resident_shared_pages(), kept - 16);
}

TEST(RangeMemorySource, ReleaseLeavesOwnedMemoryAlone) {
    std::vector<uint8_t> a(1u << 20, 9);
    auto source = RangeMemorySource::create({{0x1000000, a}}, nullptr);
    ASSERT_TRUE(source.ok());
    (*source)->release(0x1000000, a.size());
    std::vector<uint8_t> out(a.size());
    ASSERT_EQ(*(*source)->read(0x1000000, out), a.size());
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t v) { return v == 9; }));
}

TEST(RangeMemorySource, OverlappingRangesAreAnError) {
    std::vector<uint8_t> a(16, 1), b(16, 2);
    auto source = RangeMemorySource::create({{0x1000, a}, {0x100f, b}}, nullptr);
    ASSERT_FALSE(source.ok());
    EXPECT_NE(source.error().message.find("overlap"), std::string::npos);
}

TEST(RangeMemorySource, RangesThatWrapAroundAreAnError) {
    std::vector<uint8_t> a(16, 1);
    auto source = RangeMemorySource::create({{UINT64_MAX - 4, a}}, nullptr);
    ASSERT_FALSE(source.ok());
    EXPECT_NE(source.error().message.find("wraps"), std::string::npos);
}

}  // namespace
}  // namespace dumpscope
