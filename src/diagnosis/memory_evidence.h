// How memory findings show a group of heap chunks: its name ("900 x 1008 B", "1,200 x
// OrderCache::Entry (80 B)"), the request sizes its chunk size holds, and a few sample chunks with
// their first bytes and what points at them (a register, a stack, a global by its symbol, another
// chunk). Text for a terminal and the JSON of docs/analyze.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "analysis/dump_analysis.h"
#include "diagnosis/heap_reachability.h"
#include "diagnosis/heap_statistics.h"

namespace dumpscope::diagnosis {

std::string hex_address(uint64_t value);  // "0x55d0c0a04040"

// "1008 B chunks" or "OrderCache::Entry (80 B chunks)".
std::string group_name(uint64_t chunk_size, const std::string& type);

// "malloc(985..1000)": the request sizes glibc gives a chunk of this size (mmapped chunks: up to
// the size less their 16-byte header).
std::string request_sizes(uint64_t chunk_size, bool mmapped);

// "register rbx of thread 1234", "stack of thread 1234 at 0x7ffc...", "g_cache+0x10 (app data)",
// "chunk 0x55d0... (1008 B) at +0x18".
std::string referrer_text(analysis::DumpAnalysis& dump, const Referrer& r);
nlohmann::json referrer_json(analysis::DumpAnalysis& dump, const Referrer& r);

// A sample chunk (its user address): its first bytes (at most 32, hex and printable text) and
// its referrers (null when they were not looked for).
nlohmann::json sample_json(analysis::DumpAnalysis& dump, uint64_t user_address, uint64_t chunk_size,
                           const std::vector<Referrer>* referrers);
// Two lines: "0x...: 4d41494e 424c4f4b ... |MAINBLOK........|" and "  <- referrers".
std::string sample_text(analysis::DumpAnalysis& dump, uint64_t user_address, uint64_t chunk_size,
                        const std::vector<Referrer>* referrers, const std::string& indent);

}  // namespace dumpscope::diagnosis
