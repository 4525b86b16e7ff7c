// Module discovery: grouping of mappings into modules (synthetic), and on a real child: libc's
// build-id equals what readelf reads from the file, the main executable, the vdso, the .bss.
#include <elf.h>
#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <cstdio>
#include <map>

#include "elf/elf_build_id.h"
#include "live/live_memory_source.h"
#include "live/live_snapshot.h"
#include "live/module_discovery.h"
#include "live/proc_files.h"
#include "live/process_freezer.h"
#include "live_test_child.h"

namespace dumpscope {
namespace {

using testing::ChildProcess;
using testing::StandardReport;

// Large and zero-initialised: lives in an anonymous mapping right after the executable's file.
char g_big_bss[4 << 20];

// ---- Synthetic address space ----

class FakeMemory : public MemorySource {
public:
    void put(uint64_t addr, std::vector<uint8_t> bytes) { regions_[addr] = std::move(bytes); }
    Result<size_t> read(uint64_t addr, std::span<uint8_t> out) const override {
        auto it = regions_.upper_bound(addr);
        if (it == regions_.begin()) return size_t{0};
        --it;
        uint64_t offset = addr - it->first;
        if (offset >= it->second.size()) return size_t{0};
        size_t n = std::min(out.size(), it->second.size() - offset);
        std::memcpy(out.data(), it->second.data() + offset, n);
        return n;
    }

private:
    std::map<uint64_t, std::vector<uint8_t>> regions_;
};

// A minimal ET_DYN image: ELF header, one PT_LOAD and one PT_NOTE with a build-id note.
std::vector<uint8_t> tiny_elf(uint8_t id_byte, uint64_t memsz = 0x3000) {
    std::vector<uint8_t> image(4096, 0);
    Elf64_Ehdr ehdr{};
    std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_type = ET_DYN;
    ehdr.e_machine = EM_X86_64;
    ehdr.e_phoff = sizeof(Elf64_Ehdr);
    ehdr.e_phentsize = sizeof(Elf64_Phdr);
    ehdr.e_phnum = 2;
    std::memcpy(image.data(), &ehdr, sizeof(ehdr));
    Elf64_Phdr phdrs[2]{};
    phdrs[0].p_type = PT_LOAD;
    phdrs[0].p_filesz = 0x3000;
    phdrs[0].p_memsz = memsz;
    phdrs[0].p_align = 0x1000;
    phdrs[1].p_type = PT_NOTE;
    phdrs[1].p_vaddr = phdrs[1].p_offset = 0x200;
    phdrs[1].p_filesz = 16 + 8;
    phdrs[1].p_align = 4;
    std::memcpy(image.data() + sizeof(ehdr), phdrs, sizeof(phdrs));
    // clang-format off
    const uint8_t note[] = {4, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0,
                            id_byte, 2, 3, 4, 5, 6, 7, 8};
    // clang-format on
    std::memcpy(image.data() + 0x200, note, sizeof(note));
    return image;
}

Mapping file_map(uint64_t start, uint64_t end, uint64_t offset, const char* perms,
                 const std::string& path, uint64_t inode) {
    Mapping m;
    m.start = start;
    m.end = end;
    m.offset = offset;
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.inode = inode;
    m.dev_major = 8;
    m.path = path;
    return m;
}

TEST(LiveModuleDiscovery, GroupsMappingsIntoModules) {
    FakeMemory memory;
    memory.put(0x10000, tiny_elf(0xa1, 0x7800));  // .bss up to 0x17800: page end 0x18000
    memory.put(0x40000, tiny_elf(0xb2));
    memory.put(0x60000, tiny_elf(0xe5));        // PT_LOAD ends with the file: no .bss
    memory.put(0x80000, {'d', 'a', 't', 'a'});  // not an ELF image
    memory.put(0x90000, tiny_elf(0xc3));        // a read-only, non-executable copy of an ELF
    memory.put(0xf0000, tiny_elf(0xd4));        // the vdso
    std::vector<Mapping> maps = {
        file_map(0x10000, 0x11000, 0, "r--", "/bin/app", 10),
        file_map(0x11000, 0x12000, 0x1000, "r-x", "/bin/app", 10),
        file_map(0x12000, 0x13000, 0x2000, "rw-", "/bin/app", 10),
        file_map(0x13000, 0x20000, 0, "rw-", "", 0),  // .bss merged with later anon memory
        file_map(0x40000, 0x41000, 0, "r--", "/lib/libx.so", 11),
        file_map(0x41000, 0x42000, 0x1000, "r-x", "/lib/libx.so", 11),
        file_map(0x42000, 0x43000, 0, "---", "", 0),  // not rw: no .bss extension
        file_map(0x60000, 0x61000, 0, "r--", "/lib/libz.so", 15),
        file_map(0x61000, 0x63000, 0x1000, "r-x", "/lib/libz.so", 15),
        file_map(0x63000, 0x70000, 0, "rw-", "", 0),  // adjacent heap memory, not .bss
        file_map(0x80000, 0x81000, 0, "r-x", "/data/blob", 12),
        file_map(0x90000, 0x91000, 0, "r--", "/lib/liby.so", 13),
        file_map(0xa0000, 0xa1000, 0x5000, "r-x", "/lib/window.so", 14),  // no offset-0 map
        file_map(0xf0000, 0xf1000, 0, "r-x", "[vdso]", 0),
    };
    auto modules = discover_modules(maps, memory, "/bin/app", 0);
    ASSERT_EQ(modules.size(), 4u);

    EXPECT_EQ(modules[0].path, "/bin/app");
    EXPECT_TRUE(modules[0].is_main_executable);
    EXPECT_EQ(modules[0].base, 0x10000u);
    EXPECT_EQ(modules[0].end, 0x18000u) << "extended over .bss, up to the end of PT_LOAD";
    EXPECT_EQ(modules[0].build_id, (std::vector<uint8_t>{0xa1, 2, 3, 4, 5, 6, 7, 8}));

    EXPECT_EQ(modules[1].path, "/lib/libx.so");
    EXPECT_FALSE(modules[1].is_main_executable);
    EXPECT_EQ(modules[1].base, 0x40000u);
    EXPECT_EQ(modules[1].end, 0x42000u);
    EXPECT_EQ(modules[1].build_id[0], 0xb2);

    EXPECT_EQ(modules[2].path, "/lib/libz.so");
    EXPECT_EQ(modules[2].end, 0x63000u) << "no .bss in its program headers";

    EXPECT_EQ(modules[3].path, kVdsoModuleName);
    EXPECT_EQ(modules[3].base, 0xf0000u);
    EXPECT_EQ(modules[3].build_id[0], 0xd4);
}

// ---- A real child ----

std::string readelf_build_id(const std::string& path) {
    std::string command = "readelf -n '" + path + "' 2>/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return {};
    std::string output;
    char buffer[4096];
    while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
    ::pclose(pipe);
    size_t at = output.find("Build ID: ");
    if (at == std::string::npos) return {};
    size_t begin = at + 10;
    size_t end = output.find_first_not_of("0123456789abcdef", begin);
    return output.substr(begin, end - begin);
}

std::string hex(const std::vector<uint8_t>& bytes) {
    std::string text;
    char two[3];
    for (uint8_t b : bytes) {
        std::snprintf(two, sizeof(two), "%02x", b);
        text += two;
    }
    return text;
}

class LiveModulesTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(child_.read_report(&report_, sizeof(report_)));
        auto frozen = ProcessFreezer::freeze(child_.pid());
        ASSERT_TRUE(frozen.ok()) << frozen.error().message;
        frozen_.emplace(std::move(frozen).value());
        auto snapshot = snapshot_live_process(*frozen_);
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        snapshot_ = std::move(snapshot).value();
    }

    ChildProcess child_ = ChildProcess::fork_with(testing::standard_child_body);
    StandardReport report_{};
    std::optional<ProcessFreezer> frozen_;
    Snapshot snapshot_;
};

TEST_F(LiveModulesTest, LibcBuildIdMatchesReadelf) {
    const Module* libc = nullptr;
    for (const auto& module : snapshot_.modules) {
        if (module.path.size() >= 10 && module.path.ends_with("/libc.so.6")) libc = &module;
    }
    ASSERT_NE(libc, nullptr) << "libc not found among " << snapshot_.modules.size();
    ASSERT_EQ(libc->build_id.size(), 20u);
    std::string expected = readelf_build_id(libc->path);
    ASSERT_EQ(expected.size(), 40u) << "readelf gave no build-id for " << libc->path;
    EXPECT_EQ(hex(libc->build_id), expected);
    auto from_file = build_id_from_file(libc->path);
    ASSERT_TRUE(from_file.ok()) << from_file.error().message;
    EXPECT_EQ(*from_file, libc->build_id) << "libelf on the file agrees with target memory";
    EXPECT_TRUE(snapshot_.mapping_at(libc->base) != nullptr);
}

TEST_F(LiveModulesTest, MainExecutableIsMarkedAndCoversItsBss) {
    auto self = read_link("/proc/self/exe");
    ASSERT_TRUE(self.ok());
    int mains = 0;
    for (const auto& module : snapshot_.modules) mains += module.is_main_executable ? 1 : 0;
    EXPECT_EQ(mains, 1);
    const Module* exe = snapshot_.module_at(reinterpret_cast<uint64_t>(&g_big_bss[0]));
    ASSERT_NE(exe, nullptr);
    EXPECT_TRUE(exe->is_main_executable);
    EXPECT_EQ(exe->path, *self);
    EXPECT_EQ(snapshot_.module_at(reinterpret_cast<uint64_t>(&g_big_bss[sizeof(g_big_bss) - 1])),
              exe);
    EXPECT_EQ(hex(exe->build_id), readelf_build_id(*self));
}

TEST_F(LiveModulesTest, VdsoIsAModuleWithTheKernelsBuildId) {
    const Module* vdso = nullptr;
    for (const auto& module : snapshot_.modules) {
        if (module.path == kVdsoModuleName) vdso = &module;
    }
    ASSERT_NE(vdso, nullptr);
    // Our own vdso is the same kernel image.
    auto self = LiveMemorySource::open(::getpid());
    ASSERT_TRUE(self.ok());
    auto own = build_id_from_memory(**self, ::getauxval(AT_SYSINFO_EHDR));
    if (own.ok()) {
        EXPECT_EQ(vdso->build_id, *own);
        EXPECT_FALSE(vdso->build_id.empty());
    } else {
        EXPECT_TRUE(vdso->build_id.empty());
    }
}

TEST_F(LiveModulesTest, ModulesAreSortedAndDisjoint) {
    ASSERT_GE(snapshot_.modules.size(), 3u);
    for (size_t i = 1; i < snapshot_.modules.size(); ++i) {
        EXPECT_LE(snapshot_.modules[i - 1].end, snapshot_.modules[i].base)
            << snapshot_.modules[i - 1].path << " / " << snapshot_.modules[i].path;
    }
}

}  // namespace
}  // namespace dumpscope
