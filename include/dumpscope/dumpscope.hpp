// dumpscope's C++ API: the primary one (<dumpscope/dumpscope.h> wraps it for C).
//   dumpscope::write_dump    MiniDumpWriteDump: any process, the caller's own included
//   dumpscope::Dump          the read half: open any dump (minidump or ELF core, plain or
//                            zstd), its streams, threads, modules, memory and stacks
//   dumpscope::CrashHandler  the in-process crash handler and its annotations
// docs/library.md has the details; examples/ has one program per part.
#pragma once

#include <dumpscope/dumpscope.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dumpscope {

// What a call did: ok, or why not.
class [[nodiscard]] Outcome {
public:
    static Outcome success() { return Outcome(); }
    static Outcome failure(std::string why) { return Outcome(std::move(why)); }
    bool ok() const { return error_.empty(); }
    explicit operator bool() const { return ok(); }
    const std::string& error() const { return error_; }

private:
    Outcome() = default;
    explicit Outcome(std::string why) : error_(why.empty() ? "failed" : std::move(why)) {}
    std::string error_;
};

struct UserStreamData {
    uint32_t type = 0;  // > 0xffff
    std::vector<uint8_t> bytes;
};

// The callback routine: same input and output as the C one; false leaves the thread or module
// out, or ends the memory callbacks (dumpscope_callback_routine's return value).
using DumpCallback =
    std::function<bool(const dumpscope_callback_input&, dumpscope_callback_output&)>;

struct WriteDumpOptions {
    uint32_t dump_type = MiniDumpNormal;
    const dumpscope_exception_information* exception = nullptr;
    std::vector<UserStreamData> user_streams;
    DumpCallback callback;
    std::string handler_path;  // the helper for pid == getpid(); "" = next to the library
};

// MiniDumpWriteDump: a minidump of `pid` into `fd` (regular file, truncated, written from
// offset 0; left empty on failure).
Outcome write_dump(pid_t pid, int fd, const WriteDumpOptions& options);

// ---- The read half: needs no ptrace and stops nothing. ----

struct DumpThread {
    int32_t tid = 0;
    std::string name;
    uint64_t pc = 0, sp = 0;
};

struct DumpModule {
    std::string path;
    uint64_t base = 0, size = 0;
    std::string build_id;  // hex, "" if none
};

struct DumpException {
    int32_t tid = 0;
    int signal = 0;
    int code = 0;  // si_code
    uint64_t address = 0;
    std::string signal_name;  // "SIGSEGV"
};

struct StackFrame {
    uint64_t pc = 0;
    std::string module;    // file name, "" if none
    std::string function;  // "" without symbols
    uint64_t offset = 0;   // from the function if known, else from the module
    std::string file;
    int line = 0;
};

class Dump {
public:
    // Opens a minidump or ELF core, plain or compressed. Errors name the file and what is
    // wrong with it.
    static Outcome open(const std::string& path, std::unique_ptr<Dump>& dump);
    ~Dump();
    Dump(const Dump&) = delete;
    Dump& operator=(const Dump&) = delete;

    std::string format() const;  // "minidump" or "elf-core"
    int32_t pid() const;
    std::vector<DumpThread> threads() const;
    std::vector<DumpModule> modules() const;
    std::optional<DumpException> exception() const;
    // A minidump's stream of this type (the first), or nothing; user streams byte for byte.
    std::optional<std::span<const uint8_t>> stream(uint32_t type) const;
    // The annotations the crash handler stored (stream 0x44530003), in their order.
    std::vector<std::pair<std::string, std::string>> annotations() const;
    // Copies what the dump holds of [address, address + out.size()); returns the bytes
    // copied (stops at the first byte the dump does not hold).
    size_t read_memory(uint64_t address, std::span<uint8_t> out) const;
    // The unwound stack of a thread (of the exception's registers when `tid` faulted), with
    // symbols from the modules' files and debuginfod when configured.
    Outcome stack(int32_t tid, std::vector<StackFrame>& frames, size_t max_frames = 256) const;

private:
    struct State;
    explicit Dump(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// ---- The in-process crash handler. ----

struct CrashHandlerOptions {
    std::string dump_dir;
    uint32_t dump_type = MiniDumpNormal | MiniDumpWithIndirectlyReferencedMemory |
                         MiniDumpWithDataSegs | MiniDumpWithThreadInfo;
    std::vector<UserStreamData> user_streams;
    std::vector<std::pair<std::string, std::string>> annotations;  // set at install
    std::string upload_url;                                        // http://host:port/submit, or ""
    bool chain_previous_handlers = false;
    std::string handler_path;  // "" = next to the library
};

class CrashHandler {
public:
    // See dumpscope_crash_handler_install(): once per process.
    static Outcome install(const CrashHandlerOptions& options);
    static Outcome thread_init();
    static Outcome set_annotation(const std::string& key, const std::string& value);
    static Outcome remove_annotation(const std::string& key);
    // A dump of this process now, without a crash; its path in `path`.
    static Outcome write_dump_now(std::string* path = nullptr);
};

}  // namespace dumpscope
