// The on-disk minidump structures: sizes and field offsets as Windows, Breakpad and LLVM lay them
// out, the stream type table and UTF-16 strings (the CONTEXT layouts: arch_x86_64_test).
#include "minidump/minidump_format.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "minidump/stream_blob.h"
#include "minidump/utf16.h"

namespace dumpscope::minidump {
namespace {

TEST(MinidumpFormat, HeaderDirectoryAndLocationsHaveWindowsLayout) {
    EXPECT_EQ(sizeof(Header), 32u);
    EXPECT_EQ(offsetof(Header, number_of_streams), 8u);
    EXPECT_EQ(offsetof(Header, stream_directory_rva), 12u);
    EXPECT_EQ(offsetof(Header, time_date_stamp), 20u);
    EXPECT_EQ(offsetof(Header, flags), 24u);
    EXPECT_EQ(sizeof(Directory), 12u);
    EXPECT_EQ(offsetof(Directory, location), 4u);
    EXPECT_EQ(sizeof(LocationDescriptor), 8u);
    EXPECT_EQ(offsetof(LocationDescriptor, rva), 4u);
    EXPECT_EQ(sizeof(MemoryDescriptor), 16u);
    EXPECT_EQ(offsetof(MemoryDescriptor, memory), 8u);
    EXPECT_EQ(sizeof(MemoryDescriptor64), 16u);
    EXPECT_EQ(sizeof(Memory64ListHeader), 16u);
    EXPECT_EQ(offsetof(Memory64ListHeader, base_rva), 8u);
}

TEST(MinidumpFormat, ThreadAndModuleHaveWindowsLayout) {
    EXPECT_EQ(sizeof(Thread), 48u);
    EXPECT_EQ(offsetof(Thread, priority), 12u);
    EXPECT_EQ(offsetof(Thread, teb), 16u);
    EXPECT_EQ(offsetof(Thread, stack), 24u);
    EXPECT_EQ(offsetof(Thread, thread_context), 40u);

    EXPECT_EQ(sizeof(VsFixedFileInfo), 52u);
    EXPECT_EQ(sizeof(Module), 108u);
    EXPECT_EQ(offsetof(Module, size_of_image), 8u);
    EXPECT_EQ(offsetof(Module, checksum), 12u);
    EXPECT_EQ(offsetof(Module, time_date_stamp), 16u);
    EXPECT_EQ(offsetof(Module, module_name_rva), 20u);
    EXPECT_EQ(offsetof(Module, version_info), 24u);
    EXPECT_EQ(offsetof(Module, cv_record), 76u);
    EXPECT_EQ(offsetof(Module, misc_record), 84u);
    EXPECT_EQ(offsetof(Module, reserved0), 92u);
    EXPECT_EQ(offsetof(Module, reserved1), 100u);
}

TEST(MinidumpFormat, SystemMiscAndExceptionHaveWindowsLayout) {
    EXPECT_EQ(sizeof(SystemInfo), 56u);
    EXPECT_EQ(offsetof(SystemInfo, processor_level), 2u);
    EXPECT_EQ(offsetof(SystemInfo, processor_revision), 4u);
    EXPECT_EQ(offsetof(SystemInfo, number_of_processors), 6u);
    EXPECT_EQ(offsetof(SystemInfo, product_type), 7u);
    EXPECT_EQ(offsetof(SystemInfo, major_version), 8u);
    EXPECT_EQ(offsetof(SystemInfo, platform_id), 20u);
    EXPECT_EQ(offsetof(SystemInfo, csd_version_rva), 24u);
    EXPECT_EQ(offsetof(SystemInfo, suite_mask), 28u);
    EXPECT_EQ(offsetof(SystemInfo, cpu), 32u);

    EXPECT_EQ(sizeof(MiscInfo), 24u);
    EXPECT_EQ(offsetof(MiscInfo, process_id), 8u);
    EXPECT_EQ(offsetof(MiscInfo, process_create_time), 12u);

    EXPECT_EQ(sizeof(ExceptionRecord), 152u);
    EXPECT_EQ(offsetof(ExceptionRecord, exception_address), 16u);
    EXPECT_EQ(offsetof(ExceptionRecord, number_parameters), 24u);
    EXPECT_EQ(offsetof(ExceptionRecord, exception_information), 32u);
    EXPECT_EQ(sizeof(ExceptionStream), 168u);
    EXPECT_EQ(offsetof(ExceptionStream, exception_record), 8u);
    EXPECT_EQ(offsetof(ExceptionStream, thread_context), 160u);
}

TEST(MinidumpFormat, InfoListsNamesAndHandlesHaveWindowsLayout) {
    EXPECT_EQ(sizeof(MemoryInfoListHeader), 16u);
    EXPECT_EQ(offsetof(MemoryInfoListHeader, number_of_entries), 8u);
    EXPECT_EQ(sizeof(MemoryInfo), 48u);
    EXPECT_EQ(offsetof(MemoryInfo, allocation_protect), 16u);
    EXPECT_EQ(offsetof(MemoryInfo, region_size), 24u);
    EXPECT_EQ(offsetof(MemoryInfo, state), 32u);
    EXPECT_EQ(offsetof(MemoryInfo, protect), 36u);
    EXPECT_EQ(offsetof(MemoryInfo, type), 40u);

    EXPECT_EQ(sizeof(ThreadInfoListHeader), 12u);
    EXPECT_EQ(sizeof(ThreadInfo), 64u);
    EXPECT_EQ(offsetof(ThreadInfo, create_time), 16u);
    EXPECT_EQ(offsetof(ThreadInfo, kernel_time), 32u);
    EXPECT_EQ(offsetof(ThreadInfo, user_time), 40u);
    EXPECT_EQ(offsetof(ThreadInfo, affinity), 56u);

    EXPECT_EQ(sizeof(ThreadName), 12u);
    EXPECT_EQ(offsetof(ThreadName, rva_of_thread_name), 4u);

    EXPECT_EQ(sizeof(HandleDataHeader), 16u);
    EXPECT_EQ(sizeof(HandleDescriptor2), 40u);
    EXPECT_EQ(offsetof(HandleDescriptor2, type_name_rva), 8u);
    EXPECT_EQ(offsetof(HandleDescriptor2, object_name_rva), 12u);
    EXPECT_EQ(offsetof(HandleDescriptor2, granted_access), 20u);
    EXPECT_EQ(offsetof(HandleDescriptor2, object_info_rva), 32u);
}

TEST(MinidumpFormat, ThreadExtraEntryMatchesDocumentedOffsets) {
    EXPECT_EQ(sizeof(ThreadExtraHeader), 12u);
    EXPECT_EQ(sizeof(ThreadExtraEntry), 144u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, name), kThreadExtraEntryV1Size);
    EXPECT_EQ(kThreadExtraEntryV1Size, 128u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, state), 4u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, in_syscall), 5u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, syscall_number), 8u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, syscall_args), 16u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, user_time_ns), 64u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, kernel_time_ns), 72u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, start_time_ns_since_boot), 80u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, priority), 88u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, nice), 92u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, fs_base), 96u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, gs_base), 104u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, stack_start), 112u);
    EXPECT_EQ(offsetof(ThreadExtraEntry, stack_end), 120u);
}

TEST(MinidumpFormat, StreamTableGivesNumbersAndNames) {
    EXPECT_EQ(static_cast<uint32_t>(StreamType::ThreadList), 3u);
    EXPECT_EQ(static_cast<uint32_t>(StreamType::Memory64List), 9u);
    EXPECT_EQ(static_cast<uint32_t>(StreamType::ThreadNameList), 24u);
    EXPECT_EQ(static_cast<uint32_t>(StreamType::LinuxMaps), 0x47670009u);
    EXPECT_EQ(static_cast<uint32_t>(StreamType::LinuxDsoDebug), 0x4767000Au);
    EXPECT_GT(static_cast<uint32_t>(StreamType::DumpscopeThreadExtra), kLastReservedStream);
    EXPECT_GT(static_cast<uint32_t>(StreamType::DumpscopeCapture), kLastReservedStream);
    EXPECT_EQ(stream_type_name(3), "ThreadListStream");
    EXPECT_EQ(stream_type_name(0x47670004), "LinuxProcStatus");
    EXPECT_EQ(stream_type_name(0x44530002), "DumpscopeCapture");
    EXPECT_EQ(stream_type_name(0x12345678), "Unknown 0x12345678");
}

TEST(MinidumpStrings, Utf16RoundTripsIncludingSurrogatePairs) {
    const std::string text = "thread-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // é € 😀
    const std::vector<uint8_t> utf16 = utf8_to_utf16le(text);
    ASSERT_EQ(utf16.size(), 2u * (7 + 1 + 1 + 2));
    EXPECT_EQ(utf16[0], 't');
    EXPECT_EQ(utf16[1], 0);
    EXPECT_EQ(utf16le_to_utf8(utf16), text);
}

TEST(MinidumpStrings, MalformedInputBecomesReplacementCharacters) {
    EXPECT_EQ(utf16le_to_utf8(utf8_to_utf16le("a\xff"
                                              "b")),
              "a\xef\xbf\xbd"
              "b");
    const uint8_t lone_surrogate[] = {0x00, 0xd8, 'x', 0};
    EXPECT_EQ(utf16le_to_utf8(lone_surrogate), "\xef\xbf\xbdx");
    const uint8_t odd[] = {'o', 0, 'k', 0, 0x41};
    EXPECT_EQ(utf16le_to_utf8(odd), "ok");
}

TEST(StreamBlob, StringsAreLengthPrefixedNulTerminatedAndAligned) {
    StreamBlob blob(0x100);
    blob.append(uint8_t{7});
    const uint64_t offset = blob.append_string("ab");
    EXPECT_EQ(offset, 0x104u);
    const std::vector<uint8_t>& bytes = blob.bytes();
    ASSERT_EQ(bytes.size(), 4u + 4 + 4 + 2);
    EXPECT_EQ(bytes[4], 4);  // byte length without the terminator
    EXPECT_EQ(bytes[8], 'a');
    EXPECT_EQ(bytes[10], 'b');
    EXPECT_EQ(bytes[12], 0);
    EXPECT_EQ(bytes[13], 0);
}

}  // namespace
}  // namespace dumpscope::minidump
