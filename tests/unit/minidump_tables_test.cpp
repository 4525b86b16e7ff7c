// The minidump vocabularies kept as .def tables (architectures, platforms, PAGE_* protections,
// memory states and types): every entry is printed by its printer and its constant has its
// value; a mapping's protection goes into MemoryInfoList and comes back, WRITECOPY included.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "minidump/minidump_format.h"
#include "minidump/minidump_reader.h"
#include "minidump/minidump_writer.h"
#include "minidump/page_protection.h"
#include "output/dump_file.h"
#include "output/write_context.h"
#include "synthetic_snapshot.h"

namespace dumpscope::minidump {
namespace {

TEST(MinidumpTables, EveryArchitectureAndPlatformIsPrintedByName) {
    std::set<uint32_t> values;
#define DS_MINIDUMP_ARCH(identifier, number, name)                        \
    EXPECT_EQ(architecture_name(kArch##identifier), name) << #identifier; \
    EXPECT_TRUE(values.insert(number).second) << #identifier;
#include "minidump/processor_architectures.def"
#undef DS_MINIDUMP_ARCH
    EXPECT_EQ(kArchAmd64, 9);
    EXPECT_EQ(kArchBreakpadArm64, 0x8003);
    EXPECT_EQ(architecture_name(0x1234), "architecture 0x1234");

    values.clear();
#define DS_MINIDUMP_PLATFORM(identifier, number, name)                    \
    EXPECT_EQ(platform_name(kPlatform##identifier), name) << #identifier; \
    EXPECT_TRUE(values.insert(number).second) << #identifier;
#include "minidump/platform_ids.def"
#undef DS_MINIDUMP_PLATFORM
    EXPECT_EQ(kPlatformLinux, 0x8201u);
    EXPECT_EQ(platform_name(kPlatformLinux), "Linux");
    EXPECT_EQ(platform_name(0x9999), "platform 0x9999");
}

TEST(MinidumpTables, EveryProtectionStateAndTypeIsPrintedByName) {
    uint32_t seen = 0;
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow)            \
    EXPECT_EQ(page_protection_name(kPage##identifier), name) << #identifier; \
    EXPECT_EQ(seen&(value), 0u) << #identifier << ": one bit each";          \
    seen |= (value);
#define DS_PAGE_MODIFIER(identifier, value, name) \
    DS_PAGE_PROTECTION(identifier, value, name, 0, 0, 0, 0)
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER
    EXPECT_EQ(kPageExecuteWriteCopy, 0x80u);
    EXPECT_EQ(kPageWriteCopy, 0x08u);
    EXPECT_EQ(page_protection_name(kPageReadWrite | kPageGuard), "PAGE_READWRITE | PAGE_GUARD");
    EXPECT_EQ(page_protection_name(kPageReadOnly | 0x8000), "PAGE_READONLY | 0x8000");
    EXPECT_EQ(page_protection_name(0), "0");

#define DS_MEMORY_STATE(identifier, value, name)                         \
    EXPECT_EQ(memory_state_name(kMem##identifier), name) << #identifier; \
    EXPECT_EQ(memory_state_name(MemoryState::identifier), name) << #identifier;
#include "minidump/memory_states.def"
#undef DS_MEMORY_STATE
#define DS_MEMORY_TYPE(identifier, value, name)                         \
    EXPECT_EQ(memory_type_name(kMem##identifier), name) << #identifier; \
    EXPECT_EQ(memory_type_name(MemoryType::identifier), name) << #identifier;
#include "minidump/memory_types.def"
#undef DS_MEMORY_TYPE
    EXPECT_EQ(kMemCommit, 0x1000u);
    EXPECT_EQ(kMemFree, 0x10000u);
    EXPECT_EQ(kMemImage, 0x1000000u);
    EXPECT_EQ(memory_state_name(0x3000), "0x3000");
    EXPECT_EQ(memory_type_name(0), "") << "free memory has no type";
}

Mapping mapping(const char* perms, const char* path) {
    Mapping m = test::make_mapping(0x10000, 0x20000, perms, path);
    m.shared = perms[3] == 's';
    return m;
}

TEST(MinidumpPageProtection, EachMappingGetsTheProtectionWindowsWouldGiveIt) {
    EXPECT_EQ(page_protection(mapping("---p", "")), kPageNoAccess);
    EXPECT_EQ(page_protection(mapping("r--p", "/lib/libc.so.6")), kPageReadOnly);
    EXPECT_EQ(page_protection(mapping("r-xp", "/lib/libc.so.6")), kPageExecuteRead);
    EXPECT_EQ(page_protection(mapping("--xp", "")), kPageExecute);
    EXPECT_EQ(page_protection(mapping("rw-p", "")), kPageReadWrite) << "anonymous";
    EXPECT_EQ(page_protection(mapping("rw-p", "[heap]")), kPageReadWrite);
    EXPECT_EQ(page_protection(mapping("rwxp", "")), kPageExecuteReadWrite) << "anonymous JIT";
    EXPECT_EQ(page_protection(mapping("rw-s", "/dev/shm/ring")), kPageReadWrite)
        << "shared: writes reach the file";
    EXPECT_EQ(page_protection(mapping("rwxs", "/dev/shm/code")), kPageExecuteReadWrite);
    EXPECT_EQ(page_protection(mapping("rw-p", "/lib/libc.so.6")), kPageWriteCopy)
        << "a module's .data: private, a write copies the page";
    EXPECT_EQ(page_protection(mapping("rwxp", "/tmp/code.bin")), kPageExecuteWriteCopy);
    EXPECT_EQ(page_protection(mapping("-w-p", "")), kPageReadWrite) << "no write-only protection";
}

TEST(MinidumpPageProtection, EachProtectionGrantsWhatItsNameSays) {
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow)                         \
    {                                                                                     \
        const PageAccess access = page_access(value | kPageGuard);                        \
        EXPECT_EQ(access.read, r) << name;                                                \
        EXPECT_EQ(access.write, w) << name;                                               \
        EXPECT_EQ(access.execute, x) << name;                                             \
        EXPECT_EQ(access.copy_on_write, cow) << name;                                     \
        EXPECT_EQ(std::string(name).find("WRITE") != std::string::npos, w) << name;       \
        EXPECT_EQ(std::string(name).find("EXECUTE") != std::string::npos, x) << name;     \
        EXPECT_EQ(std::string(name).find("WRITECOPY") != std::string::npos, cow) << name; \
    }
#define DS_PAGE_MODIFIER(identifier, value, name)
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER
    const PageAccess none = page_access(0);
    EXPECT_FALSE(none.read || none.write || none.execute);
}

const Mapping* mapping_at(const Snapshot& s, uint64_t start) {
    for (const Mapping& m : s.mappings) {
        if (m.start == start) return &m;
    }
    return nullptr;
}

// Through a file: the writer's MemoryInfoList says WRITECOPY / EXECUTE_WRITECOPY for private
// writable file mappings, and the reader (without LinuxMaps, so from MemoryInfoList alone)
// gives them back writable, private, executable where they were.
TEST(MinidumpPageProtection, WriteCopyGoesThroughAMinidumpAndBack) {
    constexpr uint64_t kCode = 0x7f0000000000, kShared = 0x7f0000010000;
    Snapshot snapshot = test::synthetic_snapshot();
    snapshot.process.maps.clear();
    snapshot.mappings.push_back(test::make_mapping(kCode, kCode + test::kPage, "rwx", "/tmp/c"));
    Mapping shared = test::make_mapping(kShared, kShared + test::kPage, "rw-", "/dev/shm/s");
    shared.shared = true;
    snapshot.mappings.push_back(shared);

    char dir[] = "/tmp/dumpscope-minidump-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/writecopy.dmp";
    struct RemoveDir {
        std::string path;
        ~RemoveDir() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    } remove_dir{dir};
    auto file = DumpFile::create(path, true);
    ASSERT_TRUE(file.ok()) << file.error().message;
    WriteContext ctx;
    auto size = write_minidump(snapshot, test::synthetic_content(), *file, ctx);
    ASSERT_TRUE(size.ok()) << size.error().message;
    ASSERT_TRUE(file->commit(*size).ok());

    // The raw MemoryInfo entries, found by base address.
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                     std::istreambuf_iterator<char>()};
    const auto u32 = [&](uint64_t at) {
        uint32_t v = 0;
        std::memcpy(&v, bytes.data() + at, 4);
        return v;
    };
    const auto u64 = [&](uint64_t at) {
        uint64_t v = 0;
        std::memcpy(&v, bytes.data() + at, 8);
        return v;
    };
    uint64_t list = 0;
    for (uint32_t i = 0; i < u32(8); ++i) {
        const uint64_t entry = u32(12) + i * 12;
        if (u32(entry) == static_cast<uint32_t>(StreamType::MemoryInfoList)) list = u32(entry + 8);
    }
    ASSERT_NE(list, 0u);
    std::map<uint64_t, std::pair<uint32_t, uint32_t>> protect_and_type;
    for (uint64_t i = 0; i < u64(list + 8); ++i) {
        const uint64_t entry = list + 16 + i * 48;
        protect_and_type[u64(entry)] = {u32(entry + 36), u32(entry + 40)};
    }
    EXPECT_EQ(protect_and_type.at(kCode).first, 0x80u) << "PAGE_EXECUTE_WRITECOPY";
    EXPECT_EQ(protect_and_type.at(kCode).second, 0x40000u) << "MEM_MAPPED";
    EXPECT_EQ(protect_and_type.at(test::kData).first, 0x08u) << "PAGE_WRITECOPY";
    EXPECT_EQ(protect_and_type.at(test::kData).second, 0x1000000u) << "MEM_IMAGE";
    EXPECT_EQ(protect_and_type.at(kShared).first, 0x04u) << "PAGE_READWRITE";
    EXPECT_EQ(protect_and_type.at(test::kHeap).first, 0x04u) << "PAGE_READWRITE";

    auto read = read_minidump(path);
    ASSERT_TRUE(read.ok()) << read.error().message;
    const Mapping* code = mapping_at(*read, kCode);
    ASSERT_NE(code, nullptr);
    EXPECT_TRUE(code->read && code->write && code->exec);
    EXPECT_FALSE(code->shared) << "EXECUTE_WRITECOPY is a private view";
    const Mapping* data = mapping_at(*read, test::kData);
    ASSERT_NE(data, nullptr);
    EXPECT_TRUE(data->read && data->write && !data->exec && !data->shared);
    const Mapping* back = mapping_at(*read, kShared);
    ASSERT_NE(back, nullptr);
    EXPECT_TRUE(back->write && back->shared) << "a READWRITE mapped view may be shared";
}

}  // namespace
}  // namespace dumpscope::minidump
