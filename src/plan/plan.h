// The plan: decides what of a snapshot goes into a dump, as MINIDUMP_TYPE flags and
// MiniDumpWriteDump's callbacks do. Pure logic over the model (it reads stack words through
// snapshot.memory, which may be a fake): testable without any process.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "output/dump_content.h"
#include "plan/plan_callbacks.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// Stands for the main executable in module globs.
inline constexpr const char* kMainModuleToken = "<main>";

struct PlanOptions {
    std::string type_name = "mini";  // preset name, or "custom"
    uint32_t flags = 0;              // MINIDUMP_TYPE bits
    // IncludeThreadCallback / IncludeModuleCallback of the tiny strategy: leave out everything.
    bool exclude_all_threads = false;
    bool exclude_all_modules = false;
    std::vector<int32_t> only_threads;              // IncludeThreadCallback: empty = all
    std::vector<std::string> exclude_module_globs;  // IncludeModuleCallback
    std::vector<std::string> data_seg_modules;      // ModuleCallback: WithDataSegs only for these
    std::vector<std::string> code_seg_modules;      // ModuleCallback: WithCodeSegs only for these
    std::vector<MemoryRange> extra_memory;          // MemoryCallback
    std::vector<UserStream> user_streams;           // UserStreamParam
    uint64_t max_stack_bytes = 8u << 20;            // per thread, from the stack pointer up
    // Dump sources (convert): only these ranges have bytes; nothing outside them is planned, so
    // a writer never fills memory the source does not hold. Unset for live sources.
    std::optional<std::vector<MemoryRange>> available_memory;
    // MiniDumpWriteDump's callback routine (the library's callers), after the options above.
    std::shared_ptr<PlanCallbacks> callbacks;
};

// "tiny", "mini", "midi", "maxi" (or "full") -> options as the minidump article's strategies.
Result<PlanOptions> preset_options(const std::string& name);

Result<DumpContent> plan_dump(const Snapshot& snapshot, const PlanOptions& options);

// Glob match against a module's full path and its file name; kMainModuleToken matches the
// main executable.
bool module_matches(const Module& module, const std::vector<std::string>& globs);

}  // namespace dumpscope
