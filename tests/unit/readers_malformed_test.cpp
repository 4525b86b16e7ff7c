// Every class of malformed input, for both readers: truncated files, wrong magic, directories and
// RVAs / offsets past the end, overlapping or absurd sizes, counts that would overflow. Each is a
// one-line Error that names the file, never a crash, a hang or a read outside the file.
#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "elfcore/core_reader.h"
#include "minidump/minidump_format.h"
#include "minidump/minidump_reader.h"
#include "snapshot/json_numbers.h"
#include "snapshot/range_memory_source.h"
#include "synthetic_dump.h"

namespace dumpscope {
namespace {

using namespace dumpscope::test;
namespace md = dumpscope::minidump;

class Malformed : public ::testing::Test {
protected:
    void SetUp() override {
        minidump_ = file_bytes(write_synthetic(dir_.path() + "/good.dmp", false));
        core_ = file_bytes(write_synthetic(dir_.path() + "/good.core", true));
        ASSERT_GT(minidump_.size(), 1000u);
        ASSERT_GT(core_.size(), 1000u);
    }

    // Writes `bytes`, reads them with the reader of their kind, expects a one-line error that
    // names the file and contains `expected`.
    void expect_error(const std::vector<uint8_t>& bytes, bool core, const std::string& expected) {
        const std::string path = dir_.path() + (core ? "/bad.core" : "/bad.dmp");
        write_bytes(path, bytes);
        auto s = core ? read_elf_core(path) : read_minidump(path);
        ASSERT_FALSE(s.ok()) << "accepted a file that should be rejected (" << expected << ")";
        const std::string& message = s.error().message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
    }

    // Overwrites the first `from` in `bytes` with `to`, of the same length (the layout stays).
    static ::testing::AssertionResult overwrite_text(std::vector<uint8_t>& bytes,
                                                     const std::string& from,
                                                     const std::string& to) {
        if (to.size() != from.size()) return ::testing::AssertionFailure() << "lengths differ";
        auto at = std::search(bytes.begin(), bytes.end(), from.begin(), from.end());
        if (at == bytes.end()) return ::testing::AssertionFailure() << "no " << from;
        std::copy(to.begin(), to.end(), at);
        return ::testing::AssertionSuccess();
    }

    // Directory entry of a minidump stream: offset of the entry (type, size, rva).
    uint64_t directory_entry(md::StreamType type) const {
        const uint32_t count = get<uint32_t>(minidump_, 8);
        const uint32_t rva = get<uint32_t>(minidump_, 12);
        for (uint32_t i = 0; i < count; ++i) {
            if (get<uint32_t>(minidump_, rva + 12ull * i) == static_cast<uint32_t>(type)) {
                return rva + 12ull * i;
            }
        }
        ADD_FAILURE() << "no stream " << static_cast<uint32_t>(type);
        return 0;
    }
    uint32_t stream_rva(md::StreamType type) const {
        return get<uint32_t>(minidump_, directory_entry(type) + 8);
    }

    // Offset of program header i of the core.
    uint64_t phdr(size_t i) const { return get<uint64_t>(core_, 32) + i * sizeof(Elf64_Phdr); }
    size_t phdr_count() const { return get<uint16_t>(core_, 56); }
    size_t first_of_type(uint32_t type) const {
        for (size_t i = 0; i < phdr_count(); ++i) {
            if (get<uint32_t>(core_, phdr(i)) == type) return i;
        }
        ADD_FAILURE() << "no program header of type " << type;
        return 0;
    }
    // Offset of the descriptor of the first note of `type` in the first PT_NOTE, and its header.
    uint64_t note_header(uint32_t type) const {
        const size_t note = first_of_type(PT_NOTE);
        uint64_t pos = get<uint64_t>(core_, phdr(note) + 8);
        const uint64_t end = pos + get<uint64_t>(core_, phdr(note) + 32);
        while (pos + 12 <= end) {
            const uint32_t namesz = get<uint32_t>(core_, pos);
            const uint32_t descsz = get<uint32_t>(core_, pos + 4);
            if (get<uint32_t>(core_, pos + 8) == type) return pos;
            pos += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
        }
        ADD_FAILURE() << "no note of type " << type;
        return 0;
    }

    ScratchDir dir_;
    std::vector<uint8_t> minidump_, core_;
};

TEST_F(Malformed, TruncatedMinidumpsAreErrors) {
    expect_error({}, false, "is empty");
    for (size_t size : {size_t{16}, size_t{31}}) {
        expect_error(std::vector<uint8_t>(minidump_.begin(), minidump_.begin() + size), false,
                     "too small");
    }
    // The stream directory itself cut: nothing can be read.
    expect_error(std::vector<uint8_t>(minidump_.begin(), minidump_.begin() + 40), false,
                 "past the end");
}

TEST_F(Malformed, TruncatedCoresAreErrors) {
    expect_error(std::vector<uint8_t>(core_.begin(), core_.begin() + 10), true, "");
    expect_error(std::vector<uint8_t>(core_.begin(), core_.begin() + 63), true, "too small");
    // The program headers cut: nothing can be read.
    expect_error(std::vector<uint8_t>(core_.begin(), core_.begin() + 64 + 56), true,
                 "past the end");
}

// A file cut short is read: one warning naming the file and the bytes missing, the threads, and
// the memory before the end; the memory past the end reads as absent (a short read, not zeros).
TEST_F(Malformed, TruncatedFilesAreReadWithOneWarningAndTheCutMemoryAbsent) {
    for (bool core : {false, true}) {
        const std::vector<uint8_t>& whole = core ? core_ : minidump_;
        const std::string whole_path = dir_.path() + (core ? "/whole.core" : "/whole.dmp");
        write_bytes(whole_path, whole);
        auto original = core ? read_elf_core(whole_path) : read_minidump(whole_path);
        ASSERT_TRUE(original.ok()) << original.error().message;
        ASSERT_TRUE(original->warnings.empty()) << original->warnings.front();
        const auto* ranges = dynamic_cast<const RangeMemorySource*>(original->memory.get());
        ASSERT_NE(ranges, nullptr);
        // Cut in the middle of the memory range whose bytes come last in the file (the highest
        // address in the mapping the spans point into).
        const DumpMemoryRange* cut_range = &ranges->ranges().front();
        for (const DumpMemoryRange& r : ranges->ranges()) {
            if (r.bytes.data() > cut_range->bytes.data()) cut_range = &r;
        }
        ASSERT_GE(cut_range->bytes.size(), 16u);
        auto at = std::search(whole.begin(), whole.end(), cut_range->bytes.begin(),
                              cut_range->bytes.end());
        ASSERT_NE(at, whole.end());
        ASSERT_EQ(
            std::search(at + 1, whole.end(), cut_range->bytes.begin(), cut_range->bytes.end()),
            whole.end())
            << "the last range's bytes are not unique in the file";
        const std::string path = dir_.path() + (core ? "/cut.core" : "/cut.dmp");
        const size_t keep = static_cast<size_t>(at - whole.begin()) + cut_range->bytes.size() / 2;
        write_bytes(path, {whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep)});
        auto s = core ? read_elf_core(path) : read_minidump(path);
        ASSERT_TRUE(s.ok()) << s.error().message;
        ASSERT_EQ(s->warnings.size(), 1u);
        const std::string& warning = s->warnings.front();
        EXPECT_EQ(warning.find('\n'), std::string::npos) << warning;
        EXPECT_NE(warning.find(path + " is truncated: "), std::string::npos) << warning;
        EXPECT_NE(warning.find("bytes missing"), std::string::npos) << warning;
        EXPECT_NE(warning.find("read as absent"), std::string::npos) << warning;
        EXPECT_EQ(s->threads.size(), original->threads.size());
        const uint64_t half = cut_range->bytes.size() / 2;
        EXPECT_EQ(s->memory->bytes_present(cut_range->address, cut_range->bytes.size()), half);
        std::vector<uint8_t> out(cut_range->bytes.size());
        auto got = s->memory->read(cut_range->address, out);
        ASSERT_TRUE(got.ok());
        EXPECT_EQ(*got, half) << "the bytes past the end must read as absent";
        EXPECT_TRUE(std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(half),
                               cut_range->bytes.begin()));
    }
}

TEST_F(Malformed, ACutSegmentOrStreamBeforeWholeOnesIsDamageNotTruncation) {
    auto dump = minidump_;  // a stream that runs past the end but starts inside whole streams
    put<uint32_t>(dump, directory_entry(md::StreamType::SystemInfo) + 4, 0x7fffffffu);
    expect_error(dump, false, "damaged, not truncated");
    auto core = core_;  // the first PT_LOAD's bytes past the end, later ones whole
    put<uint64_t>(core, phdr(first_of_type(PT_LOAD)) + 8, core.size() + 4096);
    expect_error(core, true, "not a truncated core");
}

TEST_F(Malformed, WrongMagicIsAnErrorForBoth) {
    auto dump = minidump_;
    std::memcpy(dump.data(), "MDMX", 4);
    expect_error(dump, false, "not a minidump");
    auto core = core_;
    core[1] = 'X';
    expect_error(core, true, "not an ELF file");
    core = core_;
    core[EI_CLASS] = ELFCLASS32;
    expect_error(core, true, "64-bit");
    core = core_;
    put<uint16_t>(core, 16, ET_EXEC);
    expect_error(core, true, "not a core");
    core = core_;
    put<uint16_t>(core, 18, EM_AARCH64);
    expect_error(core, true, "not supported");
}

TEST_F(Malformed, MinidumpDirectoryAndRvasPastTheEndAreErrors) {
    auto dump = minidump_;
    put<uint32_t>(dump, 12, static_cast<uint32_t>(dump.size()));
    expect_error(dump, false, "stream directory");
    dump = minidump_;
    put<uint32_t>(dump, directory_entry(md::StreamType::ThreadList) + 8,
                  static_cast<uint32_t>(dump.size() - 4));
    expect_error(dump, false, "past the end");
    dump = minidump_;  // the first memory range's bytes
    put<uint32_t>(dump, stream_rva(md::StreamType::MemoryList) + 4 + 12,
                  static_cast<uint32_t>(dump.size() - 8));
    expect_error(dump, false, "memory range");
    dump = minidump_;  // the first thread's context
    put<uint32_t>(dump, stream_rva(md::StreamType::ThreadList) + 4 + 44, 0xfffffff0u);
    expect_error(dump, false, "context of thread");
    dump = minidump_;  // the module's name
    put<uint32_t>(dump, stream_rva(md::StreamType::ModuleList) + 4 + 20, 0xfffffff0u);
    expect_error(dump, false, "name of module");
}

TEST_F(Malformed, CoreOffsetsPastTheEndAreErrors) {
    auto core = core_;
    put<uint64_t>(core, 32, core.size());  // e_phoff
    expect_error(core, true, "program headers");
    core = core_;
    put<uint64_t>(core, phdr(first_of_type(PT_NOTE)) + 8, core.size() - 4);
    expect_error(core, true, "PT_NOTE");
    core = core_;
    put<uint64_t>(core, phdr(first_of_type(PT_LOAD)) + 8, core.size());
    expect_error(core, true, "PT_LOAD");
}

TEST_F(Malformed, OverlappingMemoryIsAnErrorForBoth) {
    auto dump = minidump_;  // the second memory range starts inside the first
    const uint32_t list = stream_rva(md::StreamType::MemoryList);
    put<uint64_t>(dump, list + 4 + 16, get<uint64_t>(dump, list + 4) + 8);
    expect_error(dump, false, "overlap");
    auto core = core_;
    size_t first = first_of_type(PT_LOAD);
    put<uint64_t>(core, phdr(first + 1) + 16, get<uint64_t>(core, phdr(first) + 16) + 8);
    expect_error(core, true, "overlap");
}

TEST_F(Malformed, AbsurdSizesAreErrors) {
    auto dump = minidump_;  // a context too small to hold the registers
    put<uint32_t>(dump, stream_rva(md::StreamType::ThreadList) + 4 + 40, 16u);
    expect_error(dump, false, "too few");
    dump = minidump_;  // a string that claims 4 GiB
    const uint32_t name = get<uint32_t>(dump, stream_rva(md::StreamType::ModuleList) + 4 + 20);
    put<uint32_t>(dump, name, 0xfffffff0u);
    expect_error(dump, false, "claims a length");
    dump = minidump_;  // a memory range bigger than the file
    put<uint32_t>(dump, stream_rva(md::StreamType::MemoryList) + 4 + 8, 0xfffffff0u);
    expect_error(dump, false, "past the end");
    auto core = core_;  // more file bytes than memory
    size_t load = first_of_type(PT_LOAD);
    put<uint64_t>(core, phdr(load) + 32, get<uint64_t>(core, phdr(load) + 40) + 4096);
    expect_error(core, true, "more file bytes");
    core = core_;  // a segment that wraps around the address space
    put<uint64_t>(core, phdr(load) + 40, UINT64_MAX - 100);
    expect_error(core, true, "wraps");
    core = core_;  // a note whose name runs past its segment
    put<uint32_t>(core, note_header(NT_PRSTATUS), 0xfffffff0u);
    expect_error(core, true, "extends past the end of PT_NOTE");
    core = core_;  // an NT_PRSTATUS too short for the registers (the 48-byte NT_AUXV retyped)
    put<uint32_t>(core, note_header(NT_AUXV) + 8, NT_PRSTATUS);
    expect_error(core, true, "expected at least");
}

TEST_F(Malformed, CountsThatWouldOverflowAreErrors) {
    for (md::StreamType type :
         {md::StreamType::ThreadList, md::StreamType::ModuleList, md::StreamType::MemoryList}) {
        auto dump = minidump_;
        put<uint32_t>(dump, stream_rva(type), 0xffffffffu);
        expect_error(dump, false, "claims");
    }
    auto dump = minidump_;
    put<uint64_t>(dump, stream_rva(md::StreamType::MemoryInfoList) + 8, uint64_t{1} << 62);
    expect_error(dump, false, "claims");
    dump = minidump_;
    put<uint32_t>(dump, stream_rva(md::StreamType::HandleData) + 8, 0xffffffffu);
    expect_error(dump, false, "claims");
    dump = minidump_;
    put<uint32_t>(dump, 8, 0xffffffffu);  // NumberOfStreams
    expect_error(dump, false, "stream directory");

    auto core = core_;
    put<uint16_t>(core, 56, 0xfffe);  // e_phnum
    expect_error(core, true, "program headers");
    core = core_;
    put<uint16_t>(core, 56, PN_XNUM);  // extended numbering without section header 0
    put<uint64_t>(core, 40, 0);
    expect_error(core, true, "PN_XNUM");
    core = core_;  // NT_FILE count * 24 wraps around 64 bits
    put<uint64_t>(core, note_header(NT_FILE) + 12 + 8, (uint64_t{1} << 61) + 1);
    expect_error(core, true, "claims");
}

TEST_F(Malformed, FractionalNumbersInOurJsonRecordsAreErrors) {
    // Found by the core reader's fuzzer: nlohmann turns 4e43 into an int with undefined behaviour.
    auto core = core_;
    ASSERT_TRUE(overwrite_text(core, "\"pid\":4242", "\"pid\":4e43"));
    expect_error(core, true, "fractional");
    auto dump = minidump_;
    ASSERT_TRUE(overwrite_text(dump, "\"dump_type\":\"custom\"", "\"dump_flags\":4e43   "));
    expect_error(dump, false, "fractional");
}

TEST(JsonRecords, NestingDeeperThanAnyRecordIsRejectedWithoutExhaustingTheStack) {
    const int depth = 200000;
    const auto hostile =
        nlohmann::json::parse(std::string(depth, '[') + std::string(depth, ']'), nullptr, false);
    ASSERT_FALSE(hostile.is_discarded());
    EXPECT_TRUE(has_unexpected_float(hostile));
    const auto record = nlohmann::json::parse(R"({"a":{"b":[{"c":[1,2,{"d":3}]}]}})");
    EXPECT_FALSE(has_unexpected_float(record));
    EXPECT_TRUE(has_unexpected_float(nlohmann::json::parse(R"({"a":[{"b":0.5}]})")));
    EXPECT_FALSE(has_unexpected_float(nlohmann::json::parse(R"({"ms":0.5})"), {"ms"}));
}

}  // namespace
}  // namespace dumpscope
