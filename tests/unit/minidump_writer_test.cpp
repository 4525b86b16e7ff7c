// write_minidump on a synthetic snapshot, checked by decoding the file's raw bytes with the
// offsets of the Windows/Breakpad format written out here (not through minidump_format.h), and
// through summarize_minidump.
#include "minidump/minidump_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "minidump/minidump_summary.h"

namespace dumpscope {
namespace {

// The writer takes the snapshot as const: what it learns while writing goes back to the caller.
static_assert(std::is_same_v<decltype(&write_minidump),
                             Result<uint64_t> (*)(const Snapshot&, const DumpContent&, DumpFile&,
                                                  const WriteContext&)>);

constexpr uint32_t kThreadList = 3, kModuleList = 4, kMemoryList = 5, kException = 6,
                   kSystemInfo = 7, kMemory64List = 9, kHandleData = 12, kMiscInfo = 15,
                   kMemoryInfoList = 16, kThreadInfoList = 17, kThreadNameList = 24,
                   kLinuxCmdLine = 0x47670006, kLinuxMaps = 0x47670009, kThreadExtra = 0x44530001,
                   kCapture = 0x44530002;

// The byte the fake target holds at addr.
uint8_t pattern_at(uint64_t addr) { return static_cast<uint8_t>((addr * 7 + 3) ^ (addr >> 12)); }

// Serves pattern bytes inside its regions; anything else is unreadable.
class FakeMemory : public MemorySource {
public:
    explicit FakeMemory(std::vector<MemoryRange> readable) : readable_(std::move(readable)) {}
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        for (const MemoryRange& r : readable_) {
            if (addr >= r.start && addr < r.end()) {
                const size_t n = std::min<uint64_t>(out.size(), r.end() - addr);
                for (size_t i = 0; i < n; ++i) out[i] = pattern_at(addr + i);
                return n;
            }
        }
        return size_t{0};
    }

private:
    std::vector<MemoryRange> readable_;
};

CpuContext registers(uint64_t seed, uint64_t rsp) {
    X86_64Registers regs;
    regs.gp.rax = 0xa000 + seed;
    regs.gp.rbx = 0xb000 + seed;
    regs.gp.rcx = 0xc000 + seed;
    regs.gp.rbp = rsp + 0x40;
    regs.gp.rsp = rsp;
    regs.gp.rip = 0x401000 + seed;
    regs.gp.r15 = 0xf000 + seed;
    regs.gp.eflags = 0x246;
    regs.gp.cs = 0x33;
    regs.gp.ss = 0x2b;
    regs.gp.fs_base = 0x7f0000100000 + seed;
    regs.has_fpregs = true;
    for (size_t i = 0; i < regs.fxsave.size(); ++i) regs.fxsave[i] = uint8_t(i + seed);
    const uint32_t mxcsr = 0x1f80;
    std::memcpy(regs.fxsave.data() + 24, &mxcsr, 4);
    return CpuContext(std::move(regs));
}

Snapshot make_snapshot() {
    Snapshot s;
    s.system = {"Linux",  "host",    "6.1.0-18-amd64",   "#1 SMP Debian",
                "x86_64", 2,         "GenuineIntel",     6,
                85,       7,         "processor\t: 0\n", "PRETTY_NAME=\"Debian\"\n",
                4096,     1700000000};
    s.process.pid = 4242;
    s.process.name = "fixture";
    s.process.cmdline = std::string("fixture\0--flag\0", 15);
    s.process.status = "Name:\tfixture\nPid:\t4242\n";
    s.process.maps = "00400000-00402000 r-xp 00000000 08:01 12 /usr/bin/fixture\n";
    s.process.auxv = {6, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0};
    s.process.start_time_unix_ns = 1700000100ull * 1000000000ull;
    s.process.user_time_ns = 3'000'000'000;

    Thread main_thread;
    main_thread.tid = 4242;
    main_thread.name = "fixture";
    main_thread.state = 'S';
    main_thread.regs = registers(1, 0x7ffc0000 + 0x100);
    main_thread.syscall = {true, 202, {0x1000, 0x80, 2, 0, 0, 0}};
    main_thread.start_time_ns_since_boot = 5'000'000'000;
    main_thread.user_time_ns = 700;
    main_thread.stack_start = 0x7ffb0000;
    main_thread.stack_end = 0x7ffd0000;
    Thread worker;
    worker.tid = 4243;
    worker.name = "worker";
    worker.state = 'R';
    worker.regs = registers(2, 0x7ff00000 + 0x800);
    worker.nice = 5;
    s.threads = {main_thread, worker};

    Module exe{"/usr/bin/fixture", 0x400000, 0x402000, {}, true};
    for (int i = 0; i < 20; ++i) exe.build_id.push_back(uint8_t(0x10 + i));
    Module libc{"/lib/x86_64-linux-gnu/libc.so.6", 0x7f0000000000, 0x7f0000200000, {}, false};
    for (int i = 0; i < 20; ++i) libc.build_id.push_back(uint8_t(0xa0 + i));
    s.modules = {exe, libc};

    Mapping text{0x400000, 0x402000, 0, true, false, true, false, 8, 1, 12, "/usr/bin/fixture"};
    Mapping stack{0x7ffb0000, 0x7ffd0000, 0, true, true, false, false, 0, 0, 0, "[stack]"};
    s.mappings = {text, stack};
    s.fds = {{0, "/dev/pts/0", "device", 0, 2}, {3, "socket:[123]", "socket", 0, 0x802}};

    ExceptionInfo exception;
    exception.tid = 4243;
    exception.signal.signo = 11;
    exception.signal.code = 1;
    exception.signal.fault_address = 0xdead;
    exception.context = registers(9, 0x7ff00000 + 0x700);
    s.exception = exception;

    s.memory = std::make_shared<FakeMemory>(
        std::vector<MemoryRange>{{0x7ffc0000, 0x2000}, {0x7ff00000, 0x1000}, {0x601000, 0x800}});
    s.capture.tool_version = "0.1.0-test";
    s.capture.dump_type = "mini";
    s.capture.dump_flags = 0x1000;
    s.capture.capture_time_unix = 1700000200;
    return s;
}

DumpContent make_content() {
    DumpContent c;
    c.threads = {0, 1};
    c.modules = {0, 1};
    // The third range is half unreadable: its second half must be zeros and noted.
    c.memory = {{0x601000, 0x1000}, {0x7ff00000, 0x1000}, {0x7ffc0000, 0x2000}};
    c.memory_info_list = true;
    c.handle_data = true;
    c.thread_info = true;
    return c;
}

class MinidumpWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/dumpscope-minidump-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // Writes the dump and loads its bytes.
    void write(const Snapshot& snapshot, const DumpContent& content, const WriteContext& ctx = {}) {
        path_ = dir_ + "/out.dmp";
        auto file = DumpFile::create(path_, true);
        ASSERT_TRUE(file.ok()) << file.error().message;
        auto size = write_minidump(snapshot, content, *file, ctx);
        ASSERT_TRUE(size.ok()) << size.error().message;
        ASSERT_TRUE(file->commit(*size).ok());
        std::ifstream in(path_, std::ios::binary);
        bytes_.assign(std::istreambuf_iterator<char>(in), {});
        ASSERT_EQ(bytes_.size(), *size);
    }

    uint16_t u16(uint64_t off) const { return uint16_t(u64n(off, 2)); }
    uint32_t u32(uint64_t off) const { return uint32_t(u64n(off, 4)); }
    uint64_t u64(uint64_t off) const { return u64n(off, 8); }
    uint64_t u64n(uint64_t off, size_t n) const {
        EXPECT_LE(off + n, bytes_.size());
        if (off + n > bytes_.size()) return 0;
        uint64_t v = 0;
        std::memcpy(&v, bytes_.data() + off, n);
        return v;
    }
    std::string utf16_ascii_string(uint64_t rva) const {
        std::string out;
        const uint32_t length = u32(rva);
        for (uint32_t i = 0; i < length; i += 2) out += char(bytes_.at(rva + 4 + i));
        EXPECT_EQ(u16(rva + 4 + length), 0) << "MINIDUMP_STRING must end with a NUL";
        return out;
    }
    // {size, rva} of the stream of this type, or nullopt.
    std::optional<std::pair<uint32_t, uint32_t>> stream(uint32_t type) const {
        const uint32_t count = u32(8), dir = u32(12);
        for (uint32_t i = 0; i < count; ++i) {
            if (u32(dir + 12 * i) == type)
                return std::pair{u32(dir + 12 * i + 4), u32(dir + 12 * i + 8)};
        }
        return std::nullopt;
    }
    uint32_t stream_rva(uint32_t type) const {
        auto s = stream(type);
        EXPECT_TRUE(s.has_value()) << "no stream of type " << std::hex << type;
        return s ? s->second : 0;
    }
    void expect_pattern(uint64_t file_offset, uint64_t addr, uint64_t size,
                        uint64_t readable_until) const {
        for (uint64_t i = 0; i < size; ++i) {
            const uint8_t expected = addr + i < readable_until ? pattern_at(addr + i) : 0;
            ASSERT_EQ(bytes_.at(file_offset + i), expected)
                << "at address " << std::hex << addr + i;
        }
    }

    std::string dir_;
    std::string path_;
    std::vector<uint8_t> bytes_;
};

TEST_F(MinidumpWriterTest, HeaderHasSignatureVersionAndDirectory) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    EXPECT_EQ(u32(0), 0x504d444du);
    EXPECT_EQ(u32(4) & 0xffff, 0xa793u);
    EXPECT_EQ(u32(12), 32u);
    EXPECT_EQ(u32(20), 1700000200u);  // TimeDateStamp
    EXPECT_EQ(u64(24), 0x1000u);      // Flags = the dump type flags
    // Every stream lies inside the file and the capture record comes last.
    const uint32_t count = u32(8);
    ASSERT_GE(count, 10u);
    for (uint32_t i = 0; i < count; ++i) {
        EXPECT_LE(uint64_t(u32(32 + 12 * i + 8)) + u32(32 + 12 * i + 4), bytes_.size());
    }
    EXPECT_EQ(u32(32 + 12 * (count - 1)), kCapture);
}

TEST_F(MinidumpWriterTest, ThreadContextsHoldEachThreadsRegisters) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t list = stream_rva(kThreadList);
    ASSERT_EQ(u32(list), 2u);
    for (uint32_t i = 0; i < 2; ++i) {
        const uint64_t entry = list + 4 + 48 * i;
        const X86_64Registers& regs = *snapshot.threads[i].regs.x86_64();
        EXPECT_EQ(u32(entry), uint32_t(snapshot.threads[i].tid));
        EXPECT_EQ(u64(entry + 16), regs.gp.fs_base);  // Teb
        ASSERT_EQ(u32(entry + 40), 1232u);            // context size
        const uint32_t ctx = u32(entry + 44);
        EXPECT_EQ(u32(ctx + 48), 0x0010000fu);
        EXPECT_EQ(u32(ctx + 52), 0x1f80u);  // MxCsr
        EXPECT_EQ(u16(ctx + 56), 0x33);     // SegCs
        EXPECT_EQ(u32(ctx + 68), 0x246u);   // EFlags
        EXPECT_EQ(u64(ctx + 120), regs.gp.rax);
        EXPECT_EQ(u64(ctx + 128), regs.gp.rcx);
        EXPECT_EQ(u64(ctx + 144), regs.gp.rbx);
        EXPECT_EQ(u64(ctx + 152), regs.gp.rsp);
        EXPECT_EQ(u64(ctx + 160), regs.gp.rbp);
        EXPECT_EQ(u64(ctx + 240), regs.gp.r15);
        EXPECT_EQ(u64(ctx + 248), regs.gp.rip);
        EXPECT_EQ(std::memcmp(bytes_.data() + ctx + 256, regs.fxsave.data(), 512), 0);
    }
}

TEST_F(MinidumpWriterTest, StackDescriptorPointsAtTheRangeHoldingRsp) {
    Snapshot snapshot = make_snapshot();
    snapshot.threads[1].regs.set_sp(0x10);  // in no range: descriptor stays empty
    write(snapshot, make_content());
    const uint32_t list = stream_rva(kThreadList);
    const uint64_t main_entry = list + 4;
    EXPECT_EQ(u64(main_entry + 24), 0x7ffc0000u);
    ASSERT_EQ(u32(main_entry + 32), 0x2000u);
    expect_pattern(u32(main_entry + 36), 0x7ffc0000, 0x2000, ~0ull);
    const uint64_t worker_entry = list + 4 + 48;
    EXPECT_EQ(u64(worker_entry + 24), 0u);
    EXPECT_EQ(u32(worker_entry + 32), 0u);
    EXPECT_EQ(u32(worker_entry + 36), 0u);
}

TEST_F(MinidumpWriterTest, StackDescriptorIsClippedToTheThreadsStackMapping) {
    // The worker's range [0x7ff00000, +0x1000) also holds a neighbouring mapping above its stack.
    Snapshot snapshot = make_snapshot();
    snapshot.threads[1].stack_start = 0x7fe00000;
    snapshot.threads[1].stack_end = 0x7ff00c00;
    write(snapshot, make_content());
    const uint64_t worker_entry = stream_rva(kThreadList) + 4 + 48;
    EXPECT_EQ(u64(worker_entry + 24), 0x7ff00000u);
    ASSERT_EQ(u32(worker_entry + 32), 0xc00u);
    expect_pattern(u32(worker_entry + 36), 0x7ff00000, 0xc00, ~0ull);
}

TEST_F(MinidumpWriterTest, MemoryListHoldsTheSourceBytesAndZerosForUnreadable) {
    Snapshot snapshot = make_snapshot();
    const DumpContent content = make_content();
    write(snapshot, content);
    EXPECT_FALSE(stream(kMemory64List).has_value());
    const uint32_t list = stream_rva(kMemoryList);
    ASSERT_EQ(u32(list), 3u);
    for (uint32_t i = 0; i < 3; ++i) {
        const uint64_t d = list + 4 + 16 * i;
        EXPECT_EQ(u64(d), content.memory[i].start);
        ASSERT_EQ(u32(d + 8), content.memory[i].size);
        const uint64_t readable_until = i == 0 ? 0x601800 : ~0ull;
        expect_pattern(u32(d + 12), content.memory[i].start, content.memory[i].size,
                       readable_until);
    }
    // The unreadable half is reported in the capture record.
    const auto capture = stream(kCapture);
    ASSERT_TRUE(capture.has_value());
    const std::string json(bytes_.begin() + capture->second,
                           bytes_.begin() + capture->second + capture->first);
    EXPECT_NE(json.find("0x601000-0x602000: 2048 bytes could not be read"), std::string::npos)
        << json;
}

TEST_F(MinidumpWriterTest, FullMemoryUsesMemory64ListWithContiguousBytes) {
    Snapshot snapshot = make_snapshot();
    DumpContent content = make_content();
    content.full_memory = true;
    write(snapshot, content);
    EXPECT_FALSE(stream(kMemoryList).has_value());
    const uint32_t list = stream_rva(kMemory64List);
    ASSERT_EQ(u64(list), 3u);
    uint64_t offset = u64(list + 8);
    EXPECT_EQ(offset % 4096, 0u) << "memory bytes start page-aligned so zero pages become holes";
    for (uint32_t i = 0; i < 3; ++i) {
        const uint64_t d = list + 16 + 16 * i;
        EXPECT_EQ(u64(d), content.memory[i].start);
        ASSERT_EQ(u64(d + 8), content.memory[i].size);
        expect_pattern(offset, content.memory[i].start, content.memory[i].size,
                       i == 0 ? 0x601800 : ~0ull);
        offset += content.memory[i].size;
    }
    // The main thread's stack descriptor points into the Memory64List bytes.
    const uint64_t main_entry = stream_rva(kThreadList) + 4;
    EXPECT_EQ(u32(main_entry + 32), 0x2000u);
    expect_pattern(u32(main_entry + 36), 0x7ffc0000, 0x2000, ~0ull);
}

TEST_F(MinidumpWriterTest, ModulesCarryNamesSizesAndBuildIdCodeView) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t list = stream_rva(kModuleList);
    ASSERT_EQ(u32(list), 2u);
    for (uint32_t i = 0; i < 2; ++i) {
        const uint64_t m = list + 4 + 108 * i;
        const Module& module = snapshot.modules[i];
        EXPECT_EQ(u64(m), module.base);
        EXPECT_EQ(u32(m + 8), module.size());
        EXPECT_EQ(utf16_ascii_string(u32(m + 20)), module.path);
        EXPECT_EQ(u32(m + 24), 0xfeef04bdu);
        EXPECT_EQ(u32(m + 28), 0x10000u);
        ASSERT_EQ(u32(m + 76), 4u + 20u);
        const uint32_t cv = u32(m + 80);
        EXPECT_EQ(std::string(bytes_.begin() + cv, bytes_.begin() + cv + 4), "LEpB");
        EXPECT_TRUE(
            std::equal(module.build_id.begin(), module.build_id.end(), bytes_.begin() + cv + 4));
    }
}

TEST_F(MinidumpWriterTest, BasenamesOnlyDropsModuleDirectories) {
    Snapshot snapshot = make_snapshot();
    DumpContent content = make_content();
    content.module_basenames_only = true;
    write(snapshot, content);
    const uint32_t list = stream_rva(kModuleList);
    EXPECT_EQ(utf16_ascii_string(u32(list + 4 + 20)), "fixture");
    EXPECT_EQ(utf16_ascii_string(u32(list + 4 + 108 + 20)), "libc.so.6");
}

TEST_F(MinidumpWriterTest, SystemAndMiscInfoDescribeMachineAndProcess) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t sys = stream_rva(kSystemInfo);
    EXPECT_EQ(u16(sys), 9);      // AMD64
    EXPECT_EQ(u16(sys + 2), 6);  // family
    EXPECT_EQ(u16(sys + 4), (85 << 8) | 7);
    EXPECT_EQ(bytes_.at(sys + 6), 2);   // CPUs
    EXPECT_EQ(u32(sys + 8), 6u);        // major version from the release
    EXPECT_EQ(u32(sys + 20), 0x8201u);  // Linux
    EXPECT_EQ(utf16_ascii_string(u32(sys + 24)), "Linux 6.1.0-18-amd64 #1 SMP Debian x86_64");
    EXPECT_EQ(std::string(bytes_.begin() + sys + 32, bytes_.begin() + sys + 44), "GenuineIntel");

    const uint32_t misc = stream_rva(kMiscInfo);
    EXPECT_EQ(u32(misc), 24u);
    EXPECT_EQ(u32(misc + 4), 3u);
    EXPECT_EQ(u32(misc + 8), 4242u);
    EXPECT_EQ(u32(misc + 12), 1700000100u);
    EXPECT_EQ(u32(misc + 16), 3u);
}

TEST_F(MinidumpWriterTest, ExceptionStreamHasSignalAndItsOwnContext) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t e = stream_rva(kException);
    EXPECT_EQ(u32(e), 4243u);
    EXPECT_EQ(u32(e + 8), 11u);       // ExceptionCode = signal
    EXPECT_EQ(u32(e + 12), 1u);       // ExceptionFlags = si_code
    EXPECT_EQ(u64(e + 24), 0xdeadu);  // ExceptionAddress
    EXPECT_EQ(u32(e + 32), 0u);       // NumberParameters
    ASSERT_EQ(u32(e + 160), 1232u);
    EXPECT_EQ(u64(u32(e + 164) + 248), snapshot.exception->context.pc());

    DumpContent without = make_content();
    without.include_exception = false;
    write(snapshot, without);
    EXPECT_FALSE(stream(kException).has_value());
}

TEST_F(MinidumpWriterTest, ThreadNamesInfoAndExtraStreams) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t names = stream_rva(kThreadNameList);
    ASSERT_EQ(u32(names), 2u);
    EXPECT_EQ(u32(names + 4), 4242u);
    EXPECT_EQ(utf16_ascii_string(u64(names + 8)), "fixture");
    EXPECT_EQ(utf16_ascii_string(u64(names + 4 + 12 + 4)), "worker");

    const uint32_t info = stream_rva(kThreadInfoList);
    EXPECT_EQ(u32(info), 12u);
    EXPECT_EQ(u32(info + 4), 64u);
    ASSERT_EQ(u32(info + 8), 2u);
    // Boot at 1700000000 s plus 5 s, as a FILETIME.
    EXPECT_EQ(u64(info + 12 + 16), 116444736000000000ull + 1700000005ull * 10000000ull);
    EXPECT_EQ(u64(info + 12 + 40), 7u);  // 700 ns of user time in 100 ns units

    const uint32_t extra = stream_rva(kThreadExtra);
    EXPECT_EQ(u32(extra), 12u);
    EXPECT_EQ(u32(extra + 4), 144u);
    ASSERT_EQ(u32(extra + 8), 2u);
    const uint64_t first = extra + 12;
    EXPECT_EQ(u32(first), 4242u);
    EXPECT_EQ(bytes_.at(first + 4), 'S');
    EXPECT_EQ(bytes_.at(first + 5), 1);
    EXPECT_EQ(u64(first + 8), 202u);
    EXPECT_EQ(u64(first + 16), 0x1000u);
    EXPECT_EQ(u64(first + 24), 0x80u);
    EXPECT_EQ(u64(first + 80), 5'000'000'000u);
    EXPECT_EQ(u64(first + 112), 0x7ffb0000u);
    EXPECT_EQ(u64(first + 120), 0x7ffd0000u);
    EXPECT_EQ(u32(first + 144 + 92), 5u);  // the worker's nice
    // Each name as bytes, NUL-padded, at 128.
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes_.data() + first + 128)), "fixture");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes_.data() + first + 144 + 128)),
              "worker");
}

TEST_F(MinidumpWriterTest, MemoryInfoAndHandleData) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const uint32_t info = stream_rva(kMemoryInfoList);
    EXPECT_EQ(u32(info), 16u);
    EXPECT_EQ(u32(info + 4), 48u);
    ASSERT_EQ(u64(info + 8), 2u);
    const uint64_t text = info + 16, stack = info + 16 + 48;
    EXPECT_EQ(u64(text), 0x400000u);
    EXPECT_EQ(u64(text + 24), 0x2000u);
    EXPECT_EQ(u32(text + 32), 0x1000u);     // MEM_COMMIT
    EXPECT_EQ(u32(text + 36), 0x20u);       // PAGE_EXECUTE_READ
    EXPECT_EQ(u32(text + 40), 0x1000000u);  // MEM_IMAGE
    EXPECT_EQ(u32(stack + 36), 0x04u);      // PAGE_READWRITE
    EXPECT_EQ(u32(stack + 40), 0x20000u);   // MEM_PRIVATE

    const uint32_t handles = stream_rva(kHandleData);
    EXPECT_EQ(u32(handles), 16u);
    EXPECT_EQ(u32(handles + 4), 40u);
    ASSERT_EQ(u32(handles + 8), 2u);
    const uint64_t socket = handles + 16 + 40;
    EXPECT_EQ(u64(socket), 3u);
    EXPECT_EQ(utf16_ascii_string(u32(socket + 8)), "socket");
    EXPECT_EQ(utf16_ascii_string(u32(socket + 12)), "socket:[123]");
}

TEST_F(MinidumpWriterTest, LinuxStreamsAreRawCopiesAndOptional) {
    Snapshot snapshot = make_snapshot();
    write(snapshot, make_content());
    const auto cmdline = stream(kLinuxCmdLine);
    ASSERT_TRUE(cmdline.has_value());
    EXPECT_EQ(std::string(bytes_.begin() + cmdline->second,
                          bytes_.begin() + cmdline->second + cmdline->first),
              snapshot.process.cmdline);
    ASSERT_TRUE(stream(kLinuxMaps).has_value());

    DumpContent tiny = make_content();
    tiny.optional_linux_streams = false;
    write(snapshot, tiny);
    EXPECT_FALSE(stream(kLinuxCmdLine).has_value());
    EXPECT_FALSE(stream(kLinuxMaps).has_value());
}

TEST_F(MinidumpWriterTest, UserStreamsAreWrittenAndReservedTypesRefused) {
    Snapshot snapshot = make_snapshot();
    DumpContent content = make_content();
    content.user_streams.push_back(UserStream::of(0x12340000, {1, 2, 3, 4, 5}));
    write(snapshot, content);
    const auto user = stream(0x12340000);
    ASSERT_TRUE(user.has_value());
    EXPECT_EQ(user->first, 5u);
    EXPECT_EQ(bytes_.at(user->second + 4), 5);

    content.user_streams.push_back(UserStream::of(7, {1}));
    auto file = DumpFile::create(dir_ + "/bad.dmp", true);
    ASSERT_TRUE(file.ok());
    auto result = write_minidump(snapshot, content, *file, {});
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().message.find("reserved"), std::string::npos);
}

// User streams can be megabytes and are not the target's: their place is reserved with the small
// streams, their bytes are written once the target's memory is copied (it is resumed then).
TEST_F(MinidumpWriterTest, UserStreamBytesAreWrittenAfterTheTargetIsReleased) {
    Snapshot snapshot = make_snapshot();
    DumpContent content = make_content();
    content.user_streams.push_back(UserStream::of(0x12340000, std::vector<uint8_t>(10000, 0xab)));
    std::vector<uint8_t> at_release;
    WriteContext ctx;
    ctx.target_memory_done = [&] {
        for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
            if (entry.path().filename().string().rfind(".dumpscope-tmp.", 0) != 0) continue;
            std::ifstream in(entry.path(), std::ios::binary);
            at_release.assign(std::istreambuf_iterator<char>(in), {});
        }
    };
    write(snapshot, content, ctx);
    const auto user = stream(0x12340000);
    ASSERT_TRUE(user.has_value());
    ASSERT_EQ(user->first, 10000u);
    EXPECT_EQ(user->second % 8, 0u);
    EXPECT_TRUE(std::all_of(bytes_.begin() + user->second, bytes_.begin() + user->second + 10000,
                            [](uint8_t b) { return b == 0xab; }));
    ASSERT_FALSE(at_release.empty());
    const size_t end = std::min<size_t>(at_release.size(), user->second + 10000);
    EXPECT_TRUE(user->second >= end ||
                std::none_of(at_release.begin() + user->second, at_release.begin() + end,
                             [](uint8_t b) { return b == 0xab; }));
    // The memory list after the user stream still points at the bytes of the memory.
    auto summary = summarize_minidump(path_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
}

TEST_F(MinidumpWriterTest, TargetMemoryDoneRunsOnceAfterMemoryAndBeforeCaptureRecord) {
    Snapshot snapshot = make_snapshot();
    int done_calls = 0;
    bool progress_after_done = false;
    uint64_t last_progress = 0;
    WriteContext ctx;
    ctx.progress = [&](uint64_t written, uint64_t) {
        if (done_calls > 0) progress_after_done = true;
        last_progress = written;
    };
    ctx.target_memory_done = [&] { ++done_calls; };
    int record_calls = 0;
    ctx.capture_record = [&](const WriteRecord& written) {
        EXPECT_EQ(done_calls, 1) << "the record is asked for after the memory is done";
        ++record_calls;
        CaptureRecord record = snapshot.capture;
        record.pause_ms = 12.5;  // the caller's record is the one written
        merge_write_record(record, written);
        return record;
    };
    write(snapshot, make_content(), ctx);
    EXPECT_EQ(done_calls, 1);
    EXPECT_EQ(record_calls, 1);
    EXPECT_FALSE(progress_after_done);
    EXPECT_EQ(last_progress, make_content().memory_bytes());
    auto summary = summarize_minidump(path_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_TRUE(summary->capture.has_value());
    EXPECT_DOUBLE_EQ(summary->capture->pause_ms, 12.5);
}

TEST_F(MinidumpWriterTest, NotesOfTheWriteGoToTheCallerNotIntoTheSnapshot) {
    Snapshot snapshot = make_snapshot();
    snapshot.capture.notes = {"from the source"};
    const Snapshot before = snapshot;
    std::vector<std::string> write_notes;
    WriteContext ctx;
    ctx.capture_record = [&](const WriteRecord& written) {
        write_notes = written.notes;
        CaptureRecord record = snapshot.capture;
        record.notes.push_back("from the caller");
        merge_write_record(record, written);
        return record;
    };
    write(snapshot, make_content(), ctx);
    ASSERT_EQ(write_notes.size(), 1u);  // the third range is half unreadable
    EXPECT_NE(write_notes[0].find("0x601000-0x602000: 2048 bytes could not be read"),
              std::string::npos)
        << write_notes[0];
    EXPECT_EQ(snapshot.capture.notes, before.capture.notes);
    auto summary = summarize_minidump(path_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_TRUE(summary->capture.has_value());
    EXPECT_EQ(summary->capture->notes,
              (std::vector<std::string>{"from the source", "from the caller", write_notes[0]}));
    // Without a capture_record callback: the snapshot's record, the write's notes after its own.
    write(snapshot, make_content());
    summary = summarize_minidump(path_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    ASSERT_TRUE(summary->capture.has_value());
    EXPECT_EQ(summary->capture->notes,
              (std::vector<std::string>{"from the source", write_notes[0]}));
}

TEST_F(MinidumpWriterTest, InvalidContentIsAnError) {
    Snapshot snapshot = make_snapshot();
    DumpContent content = make_content();
    content.threads.push_back(9);
    auto file = DumpFile::create(dir_ + "/bad.dmp", true);
    ASSERT_TRUE(file.ok());
    EXPECT_FALSE(write_minidump(snapshot, content, *file, {}).ok());
    content = make_content();
    std::swap(content.memory[0], content.memory[1]);
    EXPECT_FALSE(write_minidump(snapshot, content, *file, {}).ok());
}

TEST_F(MinidumpWriterTest, SummaryDescribesTheDump) {
    Snapshot snapshot = make_snapshot();
    const DumpContent content = make_content();
    write(snapshot, content);
    auto summary = summarize_minidump(path_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    EXPECT_EQ(summary->format, "minidump");
    EXPECT_EQ(summary->file_size, bytes_.size());
    EXPECT_GT(summary->disk_usage, 0u);
    EXPECT_EQ(summary->os, "Linux 6.1.0-18-amd64 #1 SMP Debian x86_64");
    EXPECT_EQ(summary->cpu, "amd64, 2 CPUs, GenuineIntel");
    EXPECT_EQ(summary->pid, 4242);
    EXPECT_EQ(summary->process_name, "fixture");
    EXPECT_EQ(summary->command_line, "fixture --flag");
    EXPECT_EQ(summary->thread_count, 2u);
    EXPECT_EQ(summary->thread_names, (std::vector<std::string>{"4242 fixture", "4243 worker"}));
    EXPECT_EQ(summary->module_count, 2u);
    EXPECT_EQ(summary->module_paths[1], "/lib/x86_64-linux-gnu/libc.so.6");
    EXPECT_EQ(summary->memory, content.memory);
    EXPECT_EQ(summary->memory_bytes, content.memory_bytes());
    ASSERT_TRUE(summary->exception.has_value());
    EXPECT_EQ(summary->exception->signo, 11);
    EXPECT_EQ(summary->exception->code, 1);
    EXPECT_EQ(summary->exception->fault_address, 0xdeadu);
    EXPECT_EQ(summary->exception_tid, 4243);
    ASSERT_TRUE(summary->capture.has_value());
    EXPECT_EQ(summary->capture->tool_version, "0.1.0-test");
    EXPECT_EQ(summary->capture->dump_type, "mini");
    std::map<std::string, int> names;
    for (const auto& entry : summary->entries) ++names[entry.name];
    EXPECT_EQ(names["ThreadListStream"], 1);
    EXPECT_EQ(names["LinuxMaps"], 1);
    EXPECT_EQ(names["DumpscopeThreadExtra"], 1);
    EXPECT_EQ(names["DumpscopeCapture"], 1);
    EXPECT_TRUE(looks_like_minidump(path_));
}

}  // namespace
}  // namespace dumpscope
