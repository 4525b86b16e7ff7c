// What `dumpscope info` prints about a dump file, filled by each format's reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "snapshot/memory_range.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

struct DumpSummary {
    std::string format;  // "minidump" or "elf-core"
    uint64_t file_size = 0;
    uint64_t disk_usage = 0;  // allocated blocks * 512 (smaller than file_size when sparse)

    struct Entry {  // a minidump stream, or an ELF core note / segment group
        uint32_t type = 0;
        std::string name;  // "ThreadListStream", "NT_PRSTATUS", "LinuxMaps", ...
        uint64_t offset = 0;
        uint64_t size = 0;
    };
    std::vector<Entry> entries;

    std::string os;   // "Linux 6.1.0-... x86_64"
    std::string cpu;  // "amd64, 2 CPUs, GenuineIntel"
    int32_t pid = 0;
    std::string process_name;
    std::string command_line;  // argv joined with spaces
    size_t thread_count = 0;
    size_t module_count = 0;
    std::vector<std::string> thread_names;  // "tid name"
    std::vector<std::string> module_paths;
    std::vector<MemoryRange> memory;  // ranges whose bytes are in the dump
    uint64_t memory_bytes = 0;
    std::optional<CaptureRecord> capture;  // from the dumpscope capture stream / note
    std::vector<std::pair<std::string, std::string>> annotations;  // the crash handler's
    std::optional<SignalInfo> exception;
    int32_t exception_tid = 0;
    std::vector<std::string> warnings;  // what could not be read (a file cut short)
};

}  // namespace dumpscope
