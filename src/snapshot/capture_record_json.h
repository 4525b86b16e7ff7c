// The capture record as JSON: the payload of the dumpscope capture stream (minidump) and of
// the DUMPSCOPE note (ELF core). Field names are documented in docs/streams.md.
#pragma once

#include <string>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

std::string capture_record_to_json(const CaptureRecord& record);
Result<CaptureRecord> capture_record_from_json(const std::string& text);

}  // namespace dumpscope
