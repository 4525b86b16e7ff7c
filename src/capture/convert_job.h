// Conversion: a dump reader (source) followed by the writers (sink), steered by the same plan as
// capture. Only memory the input holds is written: a plan never makes up bytes the input lacks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

struct ConvertRequest {
    std::string input;
    std::string output;                // a file (required)
    std::optional<DumpFormat> format;  // unset: from OUTPUT's extension, else the other format
    PlanOptions plan;                  // default: everything the input holds (maxi)
    bool overwrite = false;
    // Set: written zstd-compressed at this level; unset: compressed (at the default level) when
    // OUTPUT ends in .zst.
    std::optional<int> compress_level;
};

struct ConvertResult {
    std::string path;
    std::string input_format;
    DumpFormat format = DumpFormat::Minidump;
    uint64_t file_size = 0;
    uint64_t memory_bytes = 0;
    size_t threads = 0;
    size_t modules = 0;
    std::vector<std::string> warnings;  // what the reader could not read (a truncated input)
};

Result<ConvertResult> convert_dump(const ConvertRequest& request);

// .dmp/.mdmp -> minidump, .core or "core" / "core.*" names -> ELF core (a .zst after them is
// not counted); else the other format.
DumpFormat choose_convert_format(const std::string& output, const std::string& input_format);

}  // namespace dumpscope
