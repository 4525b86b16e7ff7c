// The minidump (MDMP) on-disk format: every structure dumpscope writes or reads, as plain
// little-endian packed structs with their sizes checked at compile time. The layouts are those of
// Windows' minidumpapiset.h as Breakpad (minidump_format.h) and LLVM (BinaryFormat/Minidump.h)
// describe them; dumpscope's own streams are documented in docs/streams.md.
//
// Rules of the format worth remembering: every RVA is a 32-bit file offset (so everything that a
// 32-bit RVA points to must lie in the first 4 GiB of the file), Memory64List's BaseRva is the
// only 64-bit one; lists are a count followed directly by their entries (no padding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dumpscope::minidump {

enum class StreamType : uint32_t {
#define DS_MINIDUMP_STREAM(identifier, number, name) identifier = (number),
#include "minidump/minidump_streams.def"
#undef DS_MINIDUMP_STREAM
};

// "ThreadListStream", "LinuxMaps", ... or "Unknown 0x12345678".
std::string stream_type_name(uint32_t type);

// Types at or below this are reserved for Microsoft; user streams must be above it.
constexpr uint32_t kLastReservedStream = 0xffff;

constexpr uint32_t kMinidumpSignature = 0x504d444d;  // "MDMP"
constexpr uint32_t kMinidumpVersion = 0xa793;        // low 16 bits of Header::version

// ProcessorArchitecture values of the SystemInfo stream: kArchX86, kArchAmd64, ...
#define DS_MINIDUMP_ARCH(identifier, number, name) constexpr uint16_t kArch##identifier = number;
#include "minidump/processor_architectures.def"
#undef DS_MINIDUMP_ARCH

// "amd64", "arm64", ... or "architecture 0x1234".
std::string architecture_name(uint16_t architecture);

// PlatformId values of the SystemInfo stream: kPlatformWin32NT, kPlatformLinux, ...
#define DS_MINIDUMP_PLATFORM(identifier, number, name) \
    constexpr uint32_t kPlatform##identifier = number;
#include "minidump/platform_ids.def"
#undef DS_MINIDUMP_PLATFORM

// "Linux", "Windows NT", ... or "platform 0x1234".
std::string platform_name(uint32_t platform);

// MiscInfo Flags1 bits.
constexpr uint32_t kMiscInfoProcessId = 0x1;
constexpr uint32_t kMiscInfoProcessTimes = 0x2;

// Thread contexts (CONTEXT_AMD64, ...) are the architectures' layouts: arch/x86_64.h.

// CodeView record signature of an ELF module: 'BpEL' as a little-endian u32, then the build-id.
constexpr uint32_t kCvSignatureElfBuildId = 0x4270454c;
// VS_FIXEDFILEINFO constants.
constexpr uint32_t kVsFixedFileInfoSignature = 0xfeef04bd;
constexpr uint32_t kVsFixedFileInfoVersion = 0x10000;

// MemoryInfo Protect values: kPageNoAccess ... kPageExecuteWriteCopy, and the modifier bits
// kPageGuard, kPageNoCache, kPageWriteCombine (minidump/page_protection.h says what they allow).
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow) \
    constexpr uint32_t kPage##identifier = value;
#define DS_PAGE_MODIFIER(identifier, value, name) constexpr uint32_t kPage##identifier = value;
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER

// "PAGE_READWRITE", "PAGE_EXECUTE_READ | PAGE_GUARD", ...; bits the table does not know are
// printed in hex ("PAGE_READONLY | 0x8000"); 0 is "0".
std::string page_protection_name(uint32_t protect);

// MemoryInfo State values: kMemCommit, kMemReserve, kMemFree.
enum class MemoryState : uint32_t {
#define DS_MEMORY_STATE(identifier, value, name) identifier = (value),
#include "minidump/memory_states.def"
#undef DS_MEMORY_STATE
};
#define DS_MEMORY_STATE(identifier, value, name) constexpr uint32_t kMem##identifier = value;
#include "minidump/memory_states.def"
#undef DS_MEMORY_STATE

// "MEM_COMMIT", "MEM_RESERVE", "MEM_FREE" or "0x1234".
std::string memory_state_name(uint32_t state);
inline std::string memory_state_name(MemoryState state) {
    return memory_state_name(static_cast<uint32_t>(state));
}

// MemoryInfo Type values: kMemPrivate, kMemMapped, kMemImage.
enum class MemoryType : uint32_t {
#define DS_MEMORY_TYPE(identifier, value, name) identifier = (value),
#include "minidump/memory_types.def"
#undef DS_MEMORY_TYPE
};
#define DS_MEMORY_TYPE(identifier, value, name) constexpr uint32_t kMem##identifier = value;
#include "minidump/memory_types.def"
#undef DS_MEMORY_TYPE

// "MEM_IMAGE", "MEM_MAPPED", "MEM_PRIVATE"; 0 (free memory has no type) is ""; others "0x1234".
std::string memory_type_name(uint32_t type);
inline std::string memory_type_name(MemoryType type) {
    return memory_type_name(static_cast<uint32_t>(type));
}

// FILETIME of the Unix epoch: 100 ns intervals between 1601-01-01 and 1970-01-01.
constexpr uint64_t kFiletimeUnixEpoch = 116444736000000000ull;

#pragma pack(push, 4)

struct Header {
    uint32_t signature;
    uint32_t version;  // low 16 bits kMinidumpVersion, high 16 implementation-specific
    uint32_t number_of_streams;
    uint32_t stream_directory_rva;
    uint32_t checksum;
    uint32_t time_date_stamp;  // unix seconds
    uint64_t flags;            // MINIDUMP_TYPE bits the dump was written with
};
static_assert(sizeof(Header) == 32);

struct LocationDescriptor {
    uint32_t data_size;
    uint32_t rva;
};
static_assert(sizeof(LocationDescriptor) == 8);

struct Directory {
    uint32_t stream_type;
    LocationDescriptor location;
};
static_assert(sizeof(Directory) == 12);

struct MemoryDescriptor {
    uint64_t start_of_memory_range;
    LocationDescriptor memory;
};
static_assert(sizeof(MemoryDescriptor) == 16);

// MemoryList stream: u32 count, then MemoryDescriptor[count].

struct MemoryDescriptor64 {
    uint64_t start_of_memory_range;
    uint64_t data_size;
};
static_assert(sizeof(MemoryDescriptor64) == 16);

// Memory64List stream: this header, then MemoryDescriptor64[count]; the bytes of all ranges
// follow each other from base_rva in descriptor order.
struct Memory64ListHeader {
    uint64_t number_of_memory_ranges;
    uint64_t base_rva;
};
static_assert(sizeof(Memory64ListHeader) == 16);

// ThreadList stream: u32 count, then Thread[count].
struct Thread {
    uint32_t thread_id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;  // on Linux: the thread pointer (fs_base on x86-64)
    MemoryDescriptor stack;
    LocationDescriptor thread_context;
};
static_assert(sizeof(Thread) == 48);

struct VsFixedFileInfo {
    uint32_t signature;
    uint32_t struct_version;
    uint32_t file_version_hi;
    uint32_t file_version_lo;
    uint32_t product_version_hi;
    uint32_t product_version_lo;
    uint32_t file_flags_mask;
    uint32_t file_flags;
    uint32_t file_os;
    uint32_t file_type;
    uint32_t file_subtype;
    uint32_t file_date_hi;
    uint32_t file_date_lo;
};
static_assert(sizeof(VsFixedFileInfo) == 52);

// ModuleList stream: u32 count, then Module[count].
struct Module {
    uint64_t base_of_image;
    uint32_t size_of_image;
    uint32_t checksum;
    uint32_t time_date_stamp;
    uint32_t module_name_rva;  // MINIDUMP_STRING
    VsFixedFileInfo version_info;
    LocationDescriptor cv_record;
    LocationDescriptor misc_record;
    uint64_t reserved0;
    uint64_t reserved1;
};
static_assert(sizeof(Module) == 108);

// The x86 view of CPU_INFORMATION (other architectures use the same 24 bytes as two u64).
struct X86CpuInfo {
    uint32_t vendor_id[3];         // the 12 bytes of "GenuineIntel" / "AuthenticAMD"
    uint32_t version_information;  // cpuid(1).eax
    uint32_t feature_information;  // cpuid(1).edx
    uint32_t amd_extended_cpu_features;
};
static_assert(sizeof(X86CpuInfo) == 24);

struct SystemInfo {
    uint16_t processor_architecture;
    uint16_t processor_level;     // x86: family
    uint16_t processor_revision;  // x86: (model << 8) | stepping
    uint8_t number_of_processors;
    uint8_t product_type;
    uint32_t major_version;
    uint32_t minor_version;
    uint32_t build_number;
    uint32_t platform_id;
    uint32_t csd_version_rva;  // MINIDUMP_STRING; Breakpad: "sysname release version machine"
    uint16_t suite_mask;
    uint16_t reserved2;
    X86CpuInfo cpu;
};
static_assert(sizeof(SystemInfo) == 56);

struct MiscInfo {
    uint32_t size_of_info;
    uint32_t flags1;
    uint32_t process_id;
    uint32_t process_create_time;  // unix seconds
    uint32_t process_user_time;    // seconds
    uint32_t process_kernel_time;  // seconds
};
static_assert(sizeof(MiscInfo) == 24);

struct ExceptionRecord {
    uint32_t exception_code;   // Linux: the signal number
    uint32_t exception_flags;  // Linux (Breakpad): si_code
    uint64_t exception_record;
    uint64_t exception_address;
    uint32_t number_parameters;
    uint32_t unused_alignment;
    uint64_t exception_information[15];
};
static_assert(sizeof(ExceptionRecord) == 152);

struct ExceptionStream {
    uint32_t thread_id;
    uint32_t alignment;
    ExceptionRecord exception_record;
    LocationDescriptor thread_context;
};
static_assert(sizeof(ExceptionStream) == 168);

struct MemoryInfoListHeader {
    uint32_t size_of_header;
    uint32_t size_of_entry;
    uint64_t number_of_entries;
};
static_assert(sizeof(MemoryInfoListHeader) == 16);

struct MemoryInfo {
    uint64_t base_address;
    uint64_t allocation_base;
    uint32_t allocation_protect;
    uint32_t alignment1;
    uint64_t region_size;
    uint32_t state;
    uint32_t protect;
    uint32_t type;
    uint32_t alignment2;
};
static_assert(sizeof(MemoryInfo) == 48);

struct ThreadInfoListHeader {
    uint32_t size_of_header;
    uint32_t size_of_entry;
    uint32_t number_of_entries;
};
static_assert(sizeof(ThreadInfoListHeader) == 12);

struct ThreadInfo {
    uint32_t thread_id;
    uint32_t dump_flags;
    uint32_t dump_error;
    uint32_t exit_status;
    uint64_t create_time;  // FILETIME
    uint64_t exit_time;
    uint64_t kernel_time;  // 100 ns units
    uint64_t user_time;
    uint64_t start_address;
    uint64_t affinity;
};
static_assert(sizeof(ThreadInfo) == 64);

// ThreadNameList stream: u32 count, then ThreadName[count].
struct ThreadName {
    uint32_t thread_id;
    uint64_t rva_of_thread_name;  // MINIDUMP_STRING; 64-bit RVA, at offset 4
};
static_assert(sizeof(ThreadName) == 12);

struct HandleDataHeader {
    uint32_t size_of_header;
    uint32_t size_of_descriptor;
    uint32_t number_of_descriptors;
    uint32_t reserved;
};
static_assert(sizeof(HandleDataHeader) == 16);

struct HandleDescriptor2 {
    uint64_t handle;
    uint32_t type_name_rva;
    uint32_t object_name_rva;
    uint32_t attributes;
    uint32_t granted_access;
    uint32_t handle_count;
    uint32_t pointer_count;
    uint32_t object_info_rva;
    uint32_t reserved0;
};
static_assert(sizeof(HandleDescriptor2) == 40);

// DumpscopeThreadExtra stream (docs/streams.md): this header, then ThreadExtraEntry[count].
// Readers use size_of_header / size_of_entry to skip fields added later.
struct ThreadExtraHeader {
    uint32_t size_of_header;  // 12
    uint32_t size_of_entry;   // 128
    uint32_t number_of_entries;
};
static_assert(sizeof(ThreadExtraHeader) == 12);

struct ThreadExtraEntry {
    uint32_t thread_id;
    uint8_t state;       // /proc stat state letter before the capture stopped it: 'R', 'S', ...
    uint8_t in_syscall;  // 1 if stopped inside a system call
    uint16_t reserved;
    int64_t syscall_number;  // orig_rax, -1 if none
    uint64_t syscall_args[6];
    uint64_t user_time_ns;
    uint64_t kernel_time_ns;
    uint64_t start_time_ns_since_boot;
    int32_t priority;
    int32_t nice;
    uint64_t fs_base;      // the thread pointer (tpidr_el0 on arm64)
    uint64_t gs_base;      // the second base register, 0 if none
    uint64_t stack_start;  // the mapping holding sp, [stack_start, stack_end); 0 if none
    uint64_t stack_end;
    // The thread's name as the bytes the kernel holds (comm, at most 15 bytes, NUL-padded):
    // ThreadNameList's UTF-16 cannot carry bytes that are not UTF-8. Entries of older files end
    // before it (size_of_entry 128).
    char name[16];
};
static_assert(sizeof(ThreadExtraEntry) == 144);
inline constexpr size_t kThreadExtraEntryV1Size = 128;  // before `name`

#pragma pack(pop)

}  // namespace dumpscope::minidump
