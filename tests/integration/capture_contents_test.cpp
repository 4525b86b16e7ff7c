// Every preset and flag, read back with an independent decoder: what each must and must not
// include, in both formats.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "support.h"

using namespace test_support;

namespace {

constexpr uint64_t kDataMarker = 0xD47A5E6D47A5E6D4ull;
constexpr uint64_t kHeapMarker = 0x4EA94EA94EA94EA9ull;
constexpr uint64_t kTlsMarkerBase = 0x7150000000000000ull;

struct Dump {
    std::string path;
    std::vector<uint8_t> bytes;
    nlohmann::json info;
};

class CaptureContents : public ::testing::Test {
protected:
    static void SetUpTestSuite() { fixture_ = new Fixture("fixture_waiters"); }
    static void TearDownTestSuite() {
        delete fixture_;
        fixture_ = nullptr;
    }

    Dump dump(const std::vector<std::string>& options, const std::string& format = "minidump") {
        const std::string path =
            dir_.path() + "/d" + std::to_string(counter_++) + (format == "core" ? ".core" : ".dmp");
        std::vector<std::string> argv = {dumpscope_binary(), "collect", "--quiet", "--format",
                                         format};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.push_back(std::to_string(fixture_->pid()));
        argv.push_back(path);
        CommandResult r = run(argv);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_TRUE(eventually_running(fixture_->pid())) << "target left stopped";
        Dump d{path, read_file(path), nlohmann::json()};
        if (r.exit_code == 0) d.info = info_json(path);
        return d;
    }

    uint64_t addr(const std::string& key) const { return fixture_->address(key); }
    uint64_t tls(int index) const {
        return fixture_->info().at("tls_marker_addresses").at(index).get<uint64_t>();
    }
    static bool has_stream(const Dump& d, uint32_t type) {
        auto s = minidump_streams(d.bytes);
        return std::any_of(s.begin(), s.end(),
                           [&](const DecodedStream& x) { return x.type == type; });
    }
    static bool has_module(const Dump& d, const std::string& fragment) {
        for (const auto& m : d.info.at("modules"))
            if (m.get<std::string>().find(fragment) != std::string::npos) return true;
        return false;
    }

    static Fixture* fixture_;
    TempDir dir_;
    int counter_ = 0;
};

Fixture* CaptureContents::fixture_ = nullptr;

TEST_F(CaptureContents, TinyHasNoThreadsModulesOrMemoryMarkers) {
    for (const char* format : {"minidump", "core"}) {
        Dump d = dump({"--type", "tiny"}, format);
        EXPECT_EQ(d.info.at("thread_count"), 0) << format;
        if (std::string(format) == "minidump") {
            EXPECT_EQ(d.info.at("module_count"), 0);
        }
        EXPECT_FALSE(dump_read_u64(d.bytes, addr("heap_marker_address")).has_value()) << format;
        EXPECT_NE(dump_read_u64(d.bytes, addr("data_marker_address")), kDataMarker) << format;
    }
}

TEST_F(CaptureContents, MiniHasStacksAndIndirectHeapButNoGlobals) {
    for (const char* format : {"minidump", "core"}) {
        Dump d = dump({"--type", "mini"}, format);
        EXPECT_EQ(d.info.at("thread_count"), 4) << format;
        EXPECT_EQ(dump_read_u64(d.bytes, addr("heap_marker_address")), kHeapMarker) << format;
        EXPECT_NE(dump_read_u64(d.bytes, addr("data_marker_address")), kDataMarker) << format;
        // The heap pointer sits on main's stack: the used stack is in.
        EXPECT_EQ(dump_read_u64(d.bytes, addr("heap_pointer_slot")), addr("heap_marker_address"));
    }
}

TEST_F(CaptureContents, MiniScanMemoryDropsUnreferencedModules) {
    ASSERT_TRUE(fixture_->info().at("libm_loaded").get<bool>());
    Dump mini = dump({"--type", "mini"});
    Dump all = dump({"--flags", "WithIndirectlyReferencedMemory"});
    EXPECT_FALSE(has_module(mini, "libm.so")) << mini.info.at("modules").dump();
    EXPECT_TRUE(has_module(all, "libm.so"));
    EXPECT_TRUE(has_module(mini, "libc.so"));
    EXPECT_TRUE(has_module(mini, "fixture_waiters"));
    EXPECT_LT(mini.info.at("module_count").get<int>(), all.info.at("module_count").get<int>());
}

TEST_F(CaptureContents, MidiHasGlobalsHeapTlsHandlesAndInfoStreams) {
    Dump d = dump({"--type", "midi"});
    EXPECT_EQ(minidump_read_u64(d.bytes, addr("data_marker_address")), kDataMarker);
    EXPECT_EQ(minidump_read_u64(d.bytes, addr("heap_marker_address")), kHeapMarker);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(minidump_read_u64(d.bytes, tls(i)), kTlsMarkerBase | static_cast<uint64_t>(i))
            << i;
    EXPECT_TRUE(has_stream(d, 12));  // HandleData
    EXPECT_TRUE(has_stream(d, 16));  // MemoryInfoList
    EXPECT_TRUE(has_stream(d, 17));  // ThreadInfoList
    EXPECT_FALSE(has_stream(d, 9));  // not a full-memory dump
    // Code is not in a midi dump.
    EXPECT_FALSE(minidump_read_u64(d.bytes, addr("code_address")).has_value());
}

TEST_F(CaptureContents, MaxiHasEverythingInMemory64List) {
    for (const char* format : {"minidump", "core"}) {
        Dump d = dump({"--type", "full"}, format);
        EXPECT_EQ(dump_read_u64(d.bytes, addr("data_marker_address")), kDataMarker) << format;
        EXPECT_EQ(dump_read_u64(d.bytes, addr("heap_marker_address")), kHeapMarker) << format;
        EXPECT_TRUE(dump_read_u64(d.bytes, addr("code_address")).has_value()) << format;
        for (int i = 0; i < 4; ++i)
            EXPECT_EQ(dump_read_u64(d.bytes, tls(i)), kTlsMarkerBase | static_cast<uint64_t>(i));
        if (std::string(format) == "minidump") {
            EXPECT_TRUE(has_stream(d, 9));
            EXPECT_FALSE(has_stream(d, 5));
        }
    }
}

TEST_F(CaptureContents, ProcDumpAliasesMatchTheirPresets) {
    Dump ma = dump({"-ma"});
    EXPECT_EQ(ma.info.at("capture").at("dump_type"), "maxi");
    Dump mp = dump({"-mp"});
    EXPECT_EQ(mp.info.at("capture").at("dump_type"), "midi");
    Dump mm = dump({"-mm"});
    EXPECT_EQ(mm.info.at("capture").at("dump_type"), "mini");
}

TEST_F(CaptureContents, WithDataSegsAloneHasGlobalsButNoHeap) {
    Dump d = dump({"--flags", "WithDataSegs"});
    EXPECT_EQ(minidump_read_u64(d.bytes, addr("data_marker_address")), kDataMarker);
    EXPECT_FALSE(minidump_read_u64(d.bytes, addr("heap_marker_address")).has_value());
    EXPECT_EQ(d.info.at("capture").at("dump_flags"), 1);
}

TEST_F(CaptureContents, DataSegsForLimitsWhichModules) {
    Dump main_only = dump({"--flags", "WithDataSegs", "--data-segs-for", "<main>"});
    EXPECT_EQ(minidump_read_u64(main_only.bytes, addr("data_marker_address")), kDataMarker);
    Dump libc_only = dump({"--flags", "WithDataSegs", "--data-segs-for", "libc.so*"});
    EXPECT_FALSE(minidump_read_u64(libc_only.bytes, addr("data_marker_address")).has_value());
    EXPECT_LT(main_only.info.at("memory_bytes").get<uint64_t>(),
              dump({"--flags", "WithDataSegs"}).info.at("memory_bytes").get<uint64_t>());
}

TEST_F(CaptureContents, PrivateReadWriteMemoryHasHeapAndTlsButNoGlobals) {
    Dump d = dump({"--flags", "WithPrivateReadWriteMemory"});
    EXPECT_EQ(minidump_read_u64(d.bytes, addr("heap_marker_address")), kHeapMarker);
    EXPECT_EQ(minidump_read_u64(d.bytes, tls(0)), kTlsMarkerBase);
    EXPECT_FALSE(minidump_read_u64(d.bytes, addr("data_marker_address")).has_value());
}

TEST_F(CaptureContents, IndirectlyReferencedMemoryFollowsStackPointersToTheHeap) {
    Dump with = dump({"--flags", "WithIndirectlyReferencedMemory"});
    Dump without = dump({"--flags", "Normal"});
    EXPECT_EQ(minidump_read_u64(with.bytes, addr("heap_marker_address")), kHeapMarker);
    EXPECT_FALSE(minidump_read_u64(without.bytes, addr("heap_marker_address")).has_value());
}

TEST_F(CaptureContents, WithoutOptionalDataCancelsMemoryFlags) {
    Dump d = dump({"--flags", "WithFullMemory,WithPrivateReadWriteMemory,WithoutOptionalData"});
    EXPECT_FALSE(minidump_read_u64(d.bytes, addr("heap_marker_address")).has_value());
    EXPECT_FALSE(minidump_read_u64(d.bytes, addr("data_marker_address")).has_value());
}

TEST_F(CaptureContents, FilterMemoryZeroesNonPointerStackWords) {
    Dump filtered = dump({"--flags", "FilterMemory"});
    Dump plain = dump({"--flags", "Normal"});
    // The heap pointer on main's stack is neither code nor stack: zeroed.
    EXPECT_EQ(minidump_read_u64(plain.bytes, addr("heap_pointer_slot")),
              addr("heap_marker_address"));
    EXPECT_EQ(minidump_read_u64(filtered.bytes, addr("heap_pointer_slot")), 0u);
    EXPECT_EQ(filtered.info.at("memory_bytes"), plain.info.at("memory_bytes"));
}

TEST_F(CaptureContents, FilterModulePathsKeepsOnlyFileNames) {
    Dump d = dump({"--flags", "FilterModulePaths"});
    auto names = minidump_module_names(d.bytes);
    ASSERT_FALSE(names.empty());
    for (const auto& n : names) EXPECT_EQ(n.find('/'), std::string::npos) << n;
    Dump full = dump({"--flags", "Normal"});
    bool any_path = false;
    for (const auto& n : minidump_module_names(full.bytes))
        any_path |= n.find('/') != std::string::npos;
    EXPECT_TRUE(any_path);
}

TEST_F(CaptureContents, CodeSegsHoldTheCode) {
    Dump with = dump({"--flags", "WithCodeSegs", "--code-segs-for", "<main>"});
    Dump without = dump({"--flags", "Normal"});
    EXPECT_TRUE(minidump_read_u64(with.bytes, addr("code_address")).has_value());
    EXPECT_FALSE(minidump_read_u64(without.bytes, addr("code_address")).has_value());
}

TEST_F(CaptureContents, ProcessThreadDataHoldsEachThreadsTls) {
    Dump d = dump({"--flags", "WithProcessThreadData"});
    EXPECT_EQ(minidump_read_u64(d.bytes, tls(0)), kTlsMarkerBase);
    Dump plain = dump({"--flags", "Normal"});
    EXPECT_FALSE(minidump_read_u64(plain.bytes, tls(0)).has_value());
}

TEST_F(CaptureContents, InfoStreamsFollowTheirFlags) {
    Dump d = dump({"--flags", "WithHandleData,WithThreadInfo,WithFullMemoryInfo"});
    EXPECT_TRUE(has_stream(d, 12));
    EXPECT_TRUE(has_stream(d, 17));
    EXPECT_TRUE(has_stream(d, 16));
    Dump plain = dump({"--flags", "Normal"});
    EXPECT_FALSE(has_stream(plain, 12));
    EXPECT_FALSE(has_stream(plain, 17));
    EXPECT_FALSE(has_stream(plain, 16));
    // The handle stream names the fixture's open descriptor target as UTF-16.
    const std::string target = fixture_->path();
    std::string utf16;
    for (char c : target) utf16 += std::string{c, '\0'};
    const std::string bytes(d.bytes.begin(), d.bytes.end());
    EXPECT_NE(bytes.find(utf16), std::string::npos);
}

TEST_F(CaptureContents, OnlyThreadsKeepsTheChosenThread) {
    const int tid = fixture_->info().at("tids").at(2).get<int>();
    Dump d = dump({"--only-threads", std::to_string(tid)});
    EXPECT_EQ(d.info.at("thread_count"), 1);
    EXPECT_NE(d.info.at("threads").at(0).get<std::string>().find(std::to_string(tid)),
              std::string::npos);
}

TEST_F(CaptureContents, ExcludeModuleLeavesItOut) {
    Dump d = dump({"--flags", "Normal", "--exclude-module", "libm*"});
    EXPECT_FALSE(has_module(d, "libm.so"));
    EXPECT_TRUE(has_module(d, "libc.so"));
}

TEST_F(CaptureContents, AddMemoryAndUserStreamsAreWritten) {
    const std::string payload_path = dir_.path() + "/payload.bin";
    std::ofstream(payload_path) << "dumpscope user stream payload";
    const std::string range = std::to_string(addr("heap_marker_address")) + ":64";
    Dump d = dump(
        {"--flags", "Normal", "--add-memory", range, "--user-stream", "0x10001:" + payload_path});
    EXPECT_EQ(minidump_read_u64(d.bytes, addr("heap_marker_address")), kHeapMarker);
    bool found = false;
    for (const auto& s : minidump_streams(d.bytes)) {
        if (s.type != 0x10001) continue;
        found = true;
        EXPECT_EQ(std::string(d.bytes.begin() + s.rva, d.bytes.begin() + s.rva + s.size),
                  "dumpscope user stream payload");
    }
    EXPECT_TRUE(found);
}

TEST_F(CaptureContents, DumpsAreOwnerOnlyAndSizesGrowTinyMiniMidiMaxi) {
    std::vector<std::pair<std::string, uint64_t>> sizes;
    for (const char* type : {"tiny", "mini", "midi", "maxi"}) {
        Dump d = dump({"--type", type});
        struct stat st {};
        ASSERT_EQ(::stat(d.path.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u) << type;
        sizes.emplace_back(type, static_cast<uint64_t>(st.st_size));
    }
    std::printf("\n  %-6s %12s   (fixture_waiters, like the article's Figure 19)\n", "type",
                "bytes");
    for (const auto& [type, size] : sizes)
        std::printf("  %-6s %12llu\n", type.c_str(), static_cast<unsigned long long>(size));
    for (size_t i = 1; i < sizes.size(); ++i)
        EXPECT_LT(sizes[i - 1].second, sizes[i].second)
            << sizes[i - 1].first << " < " << sizes[i].first;
}

}  // namespace
