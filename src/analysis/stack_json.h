// The JSON of `stack --json`, with the field names of rust-minidump's minidump-stackwalk schema
// (pid, crash_info, system_info, threads[].frames[] with module, module_offset, function,
// function_offset, file, line, trust; crashing_thread; modules[]), so pipelines built for that
// tool read ours. Hex values are 0x-prefixed strings padded to 16 digits, as that schema says.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/dump_analysis.h"
#include "analysis/stack_model.h"

namespace dumpscope::analysis {

// Each thread's first `max_frames` frames, with "truncated": true where the stack goes on.
nlohmann::json stackwalk_json(DumpAnalysis& dump, const std::vector<const ThreadStack*>& stacks,
                              size_t max_frames = SIZE_MAX);

// Breakpad's debug identifier of an ELF build-id: its first 16 bytes as a GUID (the first three
// fields byte-swapped), upper case, followed by the age 0.
std::string breakpad_debug_id(const std::vector<uint8_t>& build_id);

}  // namespace dumpscope::analysis
