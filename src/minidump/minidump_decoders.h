// The one place where each minidump stream that both read_minidump and `info`'s summary
// (summarize_minidump) need is decoded: SystemInfo, MiscInfo, ThreadNameList, ThreadList,
// ModuleList, MemoryList and Memory64List, Exception, DumpscopeCapture. Both call these, so they
// cannot disagree on what a file holds. Every RVA, size and count is checked against the file;
// an Error names the stream with its offset and size, or the entry and the reference that is
// bad (the caller adds the file's path).
//
// A location of size 0 (a thread's stack, a CodeView record, the exception's context) means
// "none", whatever its RVA.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "minidump/minidump_file.h"
#include "minidump/minidump_format.h"
#include "snapshot/range_memory_source.h"
#include "snapshot/snapshot.h"
#include "snapshot/truncation.h"

namespace dumpscope::minidump {

// SystemInfo with its CSD string ("" when it has none).
struct DecodedSystemInfo {
    SystemInfo info{};
    std::string csd;
};
Result<std::optional<DecodedSystemInfo>> decode_system_info(const MinidumpFile& file);

// MiscInfo as far as the writer wrote it (older writers write shorter ones: the rest is zero);
// `size` is how many bytes the stream has. A stream too short for ProcessId (12 bytes) is none.
struct DecodedMiscInfo {
    MiscInfo info{};
    size_t size = 0;
};
std::optional<DecodedMiscInfo> decode_misc_info(const MinidumpFile& file);

// ThreadList in file order, each thread with its name from ThreadNameList.
//
// A thread named twice: the first ThreadNameList entry for a thread id wins, later entries for
// the same id are ignored (as the directory's first Exception stream wins). An empty name is no
// name.
struct DecodedThread {
    Thread entry{};                    // the MINIDUMP_THREAD as written
    std::string name;                  // "" when ThreadNameList has none
    std::span<const uint8_t> context;  // its CONTEXT, inside the file
    std::span<const uint8_t> stack;    // its stack's bytes (those before the end of a truncated
                                       // file); empty when the entry has none
};
Result<std::vector<DecodedThread>> decode_threads(const MinidumpFile& file);

// ModuleList in file order.
struct DecodedModule {
    Module entry{};
    std::string name;                    // the MINIDUMP_STRING at module_name_rva
    std::span<const uint8_t> cv_record;  // empty when the entry has none
};
Result<std::vector<DecodedModule>> decode_modules(const MinidumpFile& file);

// The ranges of MemoryList, then of Memory64List, in file order, their bytes inside the file. In
// a truncated file a range keeps the bytes before the end (the rest is absent) and is counted in
// `cut` if given.
Result<std::vector<DumpMemoryRange>> decode_memory_lists(const MinidumpFile& file,
                                                         Truncation* cut = nullptr);

// The (first) Exception stream and its context's bytes (empty when it has none).
struct DecodedException {
    ExceptionStream stream{};
    std::span<const uint8_t> context;
};
Result<std::optional<DecodedException>> decode_exception(const MinidumpFile& file);

// dumpscope's capture record (DumpscopeCapture), if the file has one.
Result<std::optional<CaptureRecord>> decode_capture(const MinidumpFile& file);

}  // namespace dumpscope::minidump
