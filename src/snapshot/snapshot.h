// The snapshot: one in-memory model of a process at an instant. Sources (live process, clone,
// dump readers) build it; sinks (minidump writer, ELF core writer) and analysis consume it.
// Plain data: no Linux headers, no I/O. Registers are a CpuContext (snapshot/cpu_context.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "snapshot/cpu_context.h"
#include "snapshot/memory_source.h"

namespace dumpscope {

// The system call a thread is stopped in, read from the saved registers / /proc/TID/syscall.
struct SyscallState {
    bool in_syscall = false;
    int64_t number = -1;  // orig_rax on x86-64
    std::array<uint64_t, 6> args{};
};

struct Thread {
    int32_t tid = 0;
    std::string name;  // /proc/PID/task/TID/comm
    char state = '?';  // R, S, D, T, t, Z ... as /proc/PID/task/TID/stat says, before we stopped it
    CpuContext regs;
    SyscallState syscall;
    uint64_t user_time_ns = 0;
    uint64_t kernel_time_ns = 0;
    uint64_t start_time_ns_since_boot = 0;
    int32_t priority = 0;
    int32_t nice = 0;
    uint64_t stack_start = 0;  // the mapping holding sp, [stack_start, stack_end); 0 if none
    uint64_t stack_end = 0;
};

struct Mapping {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t offset = 0;  // file offset
    bool read = false, write = false, exec = false, shared = false;
    uint32_t dev_major = 0, dev_minor = 0;
    uint64_t inode = 0;
    std::string path;           // "" for anonymous, "[heap]", "[stack]", "/usr/lib/..."
    bool dont_fork = false;     // smaps VmFlags "dc" (MADV_DONTFORK)
    bool wipe_on_fork = false;  // smaps VmFlags "wf" (MADV_WIPEONFORK)
    bool io = false;            // smaps VmFlags "io" / "pf": device memory, never read
    uint64_t size() const { return end - start; }
    // An absolute path: a file (dump readers may not know its device and inode, ELF cores' NT_FILE
    // does not record them).
    bool file_backed() const { return !path.empty() && path[0] == '/'; }
};

// The name the vdso module is known by (as lldb and Breakpad name it), whatever maps calls it.
inline constexpr const char* kVdsoModuleName = "linux-vdso.so.1";

// An ELF object mapped into the process: the main executable, a shared library, the vdso.
struct Module {
    std::string path;
    uint64_t base = 0;  // lowest mapping address (the load base of the ELF header)
    uint64_t end = 0;   // end of the highest mapping of this file (plus its .bss when adjacent)
    std::vector<uint8_t> build_id;  // NT_GNU_BUILD_ID, empty if none
    bool is_main_executable = false;
    uint64_t size() const { return end - base; }
};

struct FileDescriptor {
    int32_t fd = -1;
    std::string target;  // readlink of /proc/PID/fd/N: "/path", "socket:[123]", "pipe:[4]", ...
    std::string type;    // "file", "directory", "socket", "pipe", "anon_inode", "device", ...
    uint64_t position = 0;
    uint32_t flags = 0;  // open flags from fdinfo
};

struct SignalInfo {
    int32_t signo = 0;
    int32_t code = 0;
    int32_t err = 0;
    int32_t sender_pid = 0;
    uint64_t fault_address = 0;
    std::array<uint8_t, 128> raw{};  // the kernel's siginfo_t, as NT_SIGINFO holds it
};

struct ExceptionInfo {
    int32_t tid = 0;
    SignalInfo signal;
    CpuContext context;  // registers of the faulting thread at the fault
};

struct SystemInfo {
    std::string sysname, nodename, release, version, machine;  // uname
    uint32_t cpu_count = 0;
    std::string cpu_vendor;  // "GenuineIntel"
    uint32_t cpu_family = 0, cpu_model = 0, cpu_stepping = 0;
    std::string cpuinfo;     // /proc/cpuinfo
    std::string os_release;  // /etc/os-release
    uint64_t page_size = 4096;
    uint64_t boot_time_unix = 0;  // seconds, from /proc/stat btime
};

struct ProcessInfo {
    int32_t pid = 0;
    int32_t ppid = 0;
    uint32_t uid = 0, gid = 0;
    std::string name;  // comm
    std::string exe;   // readlink /proc/PID/exe
    std::vector<std::string> argv;
    std::string cmdline;  // raw, NUL-separated
    std::string environ;  // raw, NUL-separated
    std::string status;   // /proc/PID/status
    std::string maps;     // /proc/PID/maps
    std::string stat;     // /proc/PID/stat
    std::vector<uint8_t> auxv;
    uint64_t start_time_unix_ns = 0;
    uint64_t user_time_ns = 0;
    uint64_t kernel_time_ns = 0;
    uint64_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;  // /proc/PID/stat 48-51
};

// How the snapshot was taken; goes into the dumpscope capture stream / note. Empty until someone
// knows: a live source sets method, the capture (write_snapshot_dump) sets type, flags, trigger
// and time, a dump reader sets what the dump's own record says (nothing for other writers' dumps).
struct CaptureRecord {
    std::string tool_version;
    std::string dump_type;           // "mini", "full", ... or "custom"
    uint32_t dump_flags = 0;         // MINIDUMP_TYPE bits
    std::string trigger;             // "manual", "crash", "signal", "cpu", ...
    std::string trigger_detail;      // e.g. "cpu 93% >= 90% for 10 s"
    std::string method;              // "ptrace" (hang mode), "clone", "core_pattern", "reader"
    uint64_t capture_time_unix = 0;  // seconds
    double pause_ms = 0;             // how long the target was stopped
    double write_ms = 0;
    std::vector<std::string> notes;  // e.g. "0x7f..-0x7f..: unreadable (EIO)"
};

struct Snapshot {
    SystemInfo system;
    ProcessInfo process;
    std::vector<Thread> threads;
    std::vector<Mapping> mappings;  // sorted by start
    std::vector<Module> modules;    // sorted by base
    std::vector<FileDescriptor> fds;
    std::optional<ExceptionInfo> exception;
    std::shared_ptr<const MemorySource> memory;
    CaptureRecord capture;
    // What a dump reader could not read (a file cut short): one line each, said once on stderr.
    std::vector<std::string> warnings;

    const Mapping* mapping_at(uint64_t addr) const;
    const Module* module_at(uint64_t addr) const;
};

}  // namespace dumpscope
