// The pieces of the analysis that need no process: finding module files by build-id (matched,
// mismatched, missing, from --symbols), classifying regions, memory with ?? for missing bytes,
// WinDbg number syntax, Breakpad debug ids, the debugger shell's words, the plan of a conversion.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analysis/command.h"
#include "analysis/debug_file_cache.h"
#include "analysis/memory_text.h"
#include "analysis/region_classifier.h"
#include "analysis/stack_json.h"
#include "analysis/symbol_locator.h"
#include "elf/elf_build_id.h"
#include "snapshot/range_memory_source.h"
#include "synthetic_dump.h"

namespace dumpscope::analysis {
namespace {

const std::string kSomeElf = DUMPSCOPE_FIXTURE_DIR "/fixture_waiters";

Module module_at_path(const std::string& path, std::vector<uint8_t> build_id) {
    Module m;
    m.path = path;
    m.base = 0x400000;
    m.end = 0x401000;
    m.build_id = std::move(build_id);
    return m;
}

TEST(SymbolLocator, AFileWithTheDumpsBuildIdIsMatched) {
    auto id = build_id_from_file(kSomeElf);
    ASSERT_TRUE(id.ok());
    const ModuleFiles files = SymbolLocator({}).locate(module_at_path(kSomeElf, *id));
    EXPECT_EQ(files.status, SymbolStatus::kMatched);
    EXPECT_EQ(files.elf_path, kSomeElf);
    EXPECT_EQ(files.found_by, "path in dump");
}

TEST(SymbolLocator, AFileWithAnotherBuildIdIsMismatchedAndNotUsed) {
    const ModuleFiles files =
        SymbolLocator({}).locate(module_at_path(kSomeElf, {0xde, 0xad, 0xbe, 0xef}));
    EXPECT_EQ(files.status, SymbolStatus::kMismatched);
    EXPECT_TRUE(files.elf_path.empty());
    EXPECT_NE(files.detail.find("deadbeef"), std::string::npos) << files.detail;
}

TEST(SymbolLocator, SymbolDirectoriesAreSearchedByNameAndBuildId) {
    test::ScratchDir dir;
    auto id = build_id_from_file(kSomeElf);
    ASSERT_TRUE(id.ok());
    std::filesystem::copy_file(kSomeElf, dir.path() + "/fixture_waiters");
    SymbolOptions options;
    options.symbol_dirs = {dir.path()};
    const ModuleFiles by_name =
        SymbolLocator(options).locate(module_at_path("/gone/fixture_waiters", *id));
    EXPECT_EQ(by_name.status, SymbolStatus::kMatched);
    EXPECT_EQ(by_name.elf_path, dir.path() + "/fixture_waiters");

    const std::string hex = hex_build_id(*id);
    std::filesystem::create_directories(dir.path() + "/.build-id/" + hex.substr(0, 2));
    std::filesystem::copy_file(
        kSomeElf, dir.path() + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug");
    EXPECT_EQ(SymbolLocator(options).find_debug_file(module_at_path("/gone/other", *id)),
              dir.path() + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug");
}

// /proc/PID/maps names a deleted executable "PATH (deleted)": DIR/<name> still finds it.
TEST(SymbolLocator, DeletedExecutableIsFoundInSymbolDirectoryByItsName) {
    test::ScratchDir dir;
    auto id = build_id_from_file(kSomeElf);
    ASSERT_TRUE(id.ok());
    std::filesystem::copy_file(kSomeElf, dir.path() + "/fixture_waiters");
    SymbolOptions options;
    options.symbol_dirs = {dir.path()};
    const Module deleted = module_at_path("/gone/fixture_waiters (deleted)", *id);
    const ModuleFiles files = SymbolLocator(options).locate(deleted);
    EXPECT_EQ(files.status, SymbolStatus::kMatched) << files.detail;
    EXPECT_EQ(files.elf_path, dir.path() + "/fixture_waiters");
    EXPECT_EQ(SymbolLocator({}).locate(deleted).status, SymbolStatus::kMissing);
}

TEST(SymbolLocator, MissingUnverifiedAndInMemoryModules) {
    EXPECT_EQ(SymbolLocator({}).locate(module_at_path("/gone/x", {1, 2})).status,
              SymbolStatus::kMissing);
    EXPECT_EQ(SymbolLocator({}).locate(module_at_path(kSomeElf, {})).status,
              SymbolStatus::kUnverified);
    EXPECT_EQ(SymbolLocator({}).locate(module_at_path("linux-vdso.so.1", {1})).status,
              SymbolStatus::kInMemory);
}

TEST(WindbgNumbers, HexadecimalWithOrWithoutPrefixAndBackticks) {
    EXPECT_EQ(*parse_windbg_number("7ffc`c9a6e800"), 0x7ffcc9a6e800u);
    EXPECT_EQ(*parse_windbg_number("0x10"), 0x10u);
    EXPECT_EQ(*parse_windbg_number("10"), 0x10u);
    EXPECT_FALSE(parse_windbg_number("zz").ok());
    EXPECT_FALSE(parse_windbg_number("11112222333344445").ok());
    EXPECT_EQ(windbg_pointer(0x7ffcc9a6e800), "00007ffc`c9a6e800");
    EXPECT_EQ(hex_string(0x1234), "0x0000000000001234");
}

TEST(BreakpadDebugId, FirstSixteenBytesAsAGuidPlusAge) {
    const std::vector<uint8_t> id = {0x93, 0xac, 0x61, 0xec, 0x5a, 0x8e, 0xb1, 0x39, 0x6f, 0x9f,
                                     0xbd, 0x35, 0x0e, 0x31, 0x69, 0xa5, 0x58, 0x52, 0x8a, 0x40};
    EXPECT_EQ(breakpad_debug_id(id), "EC61AC938E5A39B16F9FBD350E3169A50");
}

Snapshot snapshot_with_memory(std::vector<uint8_t>& a, std::vector<uint8_t>& b) {
    Snapshot s;
    auto memory = RangeMemorySource::create({{0x1010, a}, {0x1030, b}}, nullptr);
    EXPECT_TRUE(memory.ok());
    s.memory = *memory;
    return s;
}

TEST(MemoryBytes, BytesOutsideTheDumpAreMarkedAndShownAsQuestionMarks) {
    std::vector<uint8_t> a(8, 0x41), b(4, 0x42);
    Snapshot s = snapshot_with_memory(a, b);
    const MemoryBytes bytes = read_memory_bytes(s, 0x1008, 0x40);
    EXPECT_EQ(bytes.present_count(), 12u);
    EXPECT_FALSE(bytes.present(0));
    EXPECT_TRUE(bytes.present(8));
    EXPECT_FALSE(bytes.present(16));
    EXPECT_TRUE(bytes.present(0x28));

    DumpAnalysis dump(std::move(s), "synthetic", "minidump", {});
    auto db = run_debugger_command(dump, "db 1008 L10");
    ASSERT_TRUE(db.ok()) << db.error().message;
    EXPECT_EQ(db->text,
              "00000000`00001008  ?? ?? ?? ?? ?? ?? ?? ??"
              "-41 41 41 41 41 41 41 41  ????????AAAAAAAA\n");
    auto dq = run_debugger_command(dump, "dq 1010 L2");
    ASSERT_TRUE(dq.ok());
    EXPECT_EQ(dq->text, "00000000`00001010  41414141`41414141 ????????`????????\n");
    auto da = run_debugger_command(dump, "da 1030");
    ASSERT_TRUE(da.ok());
    EXPECT_NE(da->text.find("\"BBBB\"  (the rest is not in the dump)"), std::string::npos);
}

TEST(DebuggerShell, ThreadSelectionAndErrors) {
    Snapshot s = test::synthetic_snapshot();
    DumpAnalysis dump(std::move(s), "synthetic", "minidump", {});
    EXPECT_EQ(dump.current_thread(), 0u);
    ASSERT_TRUE(run_debugger_command(dump, "~1s").ok());
    EXPECT_EQ(dump.current_thread(), 1u);
    auto r = run_debugger_command(dump, "r rip");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->text, fmt::format("rip={:016x}\n", test::kExe + 0x200));
    EXPECT_FALSE(run_debugger_command(dump, "~7s").ok());
    EXPECT_FALSE(run_debugger_command(dump, "frobnicate").ok());
    EXPECT_FALSE(run_debugger_command(dump, "db").ok());
    EXPECT_FALSE(run_debugger_command(dump, "db zz").ok());
    auto help = run_debugger_command(dump, "help");
    ASSERT_TRUE(help.ok());
    EXPECT_NE(help->text.find("!address"), std::string::npos);
    auto ecxr = run_debugger_command(dump, ".ecxr");
    ASSERT_TRUE(ecxr.ok());
    EXPECT_NE(ecxr->text.find("no exception record"), std::string::npos);
}

Mapping mapping(uint64_t start, uint64_t end, const char* perms, const std::string& path = "") {
    Mapping m = test::make_mapping(start, end, perms, path);
    m.shared = perms[3] == 's';
    return m;
}

TEST(RegionClassifier, UsageOfEachKindOfMapping) {
    Snapshot s;
    s.mappings = {
        mapping(0x400000, 0x401000, "r-xp", "/bin/app"),
        mapping(0x401000, 0x402000, "rw-p"),  // the module's .bss
        mapping(0x500000, 0x510000, "rw-p", "[heap]"),
        mapping(0x7f0000000000, 0x7f0000100000, "rw-p"),  // an arena: 64 MiB aligned
        mapping(0x7f0000100000, 0x7f0004000000, "---p"),  // its reserved tail
        mapping(0x7f1000000000, 0x7f1000001000, "r--s", "/data/file"),
        mapping(0x7f2000000000, 0x7f2000001000, "---p"),  // guard below a thread's stack
        mapping(0x7f2000001000, 0x7f2000801000, "rw-p"),
        mapping(0x7f3000000000, 0x7f3000004000, "r--p", "[vvar]"),
        mapping(0x7f4000001000, 0x7f4000002000, "rw-p"),  // not on a 64 MiB boundary
    };
    Module app;
    app.path = "/bin/app";
    app.base = 0x400000;
    app.end = 0x402000;
    app.is_main_executable = true;
    s.modules = {app};
    Thread t;
    t.tid = 7;
    t.regs.edit_x86_64().gp.rsp = 0x7f2000800000;
    s.threads = {t};
    const std::vector<Region> regions = classify_regions(s, false);
    ASSERT_EQ(regions.size(), s.mappings.size());
    const std::vector<std::pair<RegionUsage, std::string>> expected = {
        {RegionUsage::kImage, "app"},
        {RegionUsage::kImage, "app"},
        {RegionUsage::kHeap, "brk"},
        {RegionUsage::kHeap, "arena"},
        {RegionUsage::kHeap, "arena"},
        {RegionUsage::kMappedFile, "/data/file"},
        {RegionUsage::kGuard, "below the stack of thread 7"},
        {RegionUsage::kStack, "thread 7"},
        {RegionUsage::kOther, "[vvar]"},
        {RegionUsage::kAnonymous, ""},
    };
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(regions[i].usage, expected[i].first) << i;
        EXPECT_EQ(regions[i].detail, expected[i].second) << i;
    }
    EXPECT_EQ(regions[0].type, minidump::MemoryType::Image);
    EXPECT_EQ(regions[4].state, minidump::MemoryState::Reserve);
    EXPECT_EQ(regions[5].type, minidump::MemoryType::Mapped);
    EXPECT_EQ(regions[0].protect, minidump::kPageExecuteRead);
    EXPECT_EQ(regions[1].protect, minidump::kPageReadWrite) << "anonymous: nothing to copy from";
    EXPECT_EQ(regions[4].protect, minidump::kPageNoAccess);
    EXPECT_EQ(regions[5].protect, minidump::kPageReadOnly);
    uint64_t total = 0;
    for (const Region& r : classify_regions(s, true)) {
        if (r.end <= kUserSpaceEnd) total += r.size();
    }
    EXPECT_EQ(total, kUserSpaceEnd) << "busy and free regions tile the user address space";
}

TEST(DebugFileCache, CompressedDebugFilesAreCachedUncompressedOnceByBuildId) {
    test::ScratchDir dir;
    const std::string compressed = dir.path() + "/compressed";
    ASSERT_EQ(std::system(("eu-elfcompress -q -t zlib -o " + compressed + " " + kSomeElf).c_str()),
              0);
    ASSERT_TRUE(has_compressed_sections(compressed));
    ASSERT_FALSE(has_compressed_sections(kSomeElf));
    auto id = build_id_from_file(kSomeElf);
    ASSERT_TRUE(id.ok());
    const DebugFileCache cache(dir.path() + "/cache");
    const std::string cached = cache.usable(compressed, *id);
    EXPECT_EQ(cached, dir.path() + "/cache/debug/" + hex_build_id(*id) + ".debug");
    EXPECT_FALSE(has_compressed_sections(cached));
    EXPECT_EQ(*build_id_from_file(cached), *id);
    const auto made = std::filesystem::last_write_time(cached);
    EXPECT_EQ(cache.usable(compressed, *id), cached);
    EXPECT_EQ(std::filesystem::last_write_time(cached), made) << "made once";
    EXPECT_EQ(cache.usable(kSomeElf, {9, 9, 9}), kSomeElf) << "uncompressed files are used as is";
    EXPECT_EQ(DebugFileCache("").usable(compressed, *id), compressed) << "disabled";
}

}  // namespace
}  // namespace dumpscope::analysis
