// What `dumpscope analyze` finds: findings (a crash, a deadlock, a lock wait, a runaway thread)
// with their evidence and a next step, and the report that holds them. Plain data; report.h
// renders it as text and as the JSON of docs/analyze.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dumpscope::diagnosis {

enum class Severity { kError, kWarning, kInfo };

// "error", "warning", "info".
const char* severity_name(Severity severity);

// A frame as findings show it: where, and the stack --json fields (module, function, ...).
struct FrameRef {
    uint64_t pc = 0;
    std::string module;
    uint64_t module_offset = 0;
    std::string function;
    uint64_t function_offset = 0;
    std::string file;
    int line = 0;
};

// A lock some thread waits on, read from glibc's layout in the dump's memory.
struct LockInfo {
    uint64_t address = 0;
    std::string symbol;  // "g_mutex_a", "lock_table+64", "" when no symbol covers it
    std::string kind;    // "mutex", "robust-mutex", "pi-mutex", "rwlock", "join"
    std::optional<int32_t> owner_tid;
    std::vector<int32_t> waiter_tids;
};

struct CrashInfo {
    int signal = 0;
    std::string signal_name;        // "SIGSEGV"
    std::string code_name;          // "SEGV_MAPERR"
    std::string cls;                // "null-dereference", "stack-overflow", ... (docs/analyze.md)
    std::string message;            // glibc's __abort_msg, or what the class means here
    uint64_t address = 0;           // the fault address
    int32_t tid = 0;                // the faulting thread
    std::optional<FrameRef> frame;  // the first frame in the program's own code
    std::string access;             // "read", "write", "call", "exec", "" when not known
    std::string instruction;        // the faulting instruction disassembled, "" if unreadable
    std::string signature;          // crash_signature() of the faulting stack
};

struct Finding {
    std::string kind;  // "crash", "deadlock", "lock-contention", "hang", "runaway-thread"
    Severity severity = Severity::kInfo;
    std::string summary;  // one line
    std::vector<int32_t> threads;
    std::vector<LockInfo> locks;
    std::optional<CrashInfo> crash;
    nlohmann::json evidence = nlohmann::json::object();
    std::string evidence_text;  // the evidence for a terminal, one item a line
    std::string next_step;
    std::string dump;  // the dump's path, when several were analysed
};

// Most severe first (error, warning, info), in detection order within a severity.
void sort_findings(std::vector<Finding>& findings);

}  // namespace dumpscope::diagnosis
