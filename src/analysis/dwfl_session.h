// One libdwfl session over a snapshot: every module of the snapshot whose file matches its
// build-id (or whose image is in the dump: the vdso) is reported with our own find_elf /
// find_debuginfo callbacks (symbol_locator.h), and the thread state is attached with our own
// callbacks: registers from the snapshot's threads, memory from the snapshot's MemorySource. So
// minidumps and ELF cores unwind the same way, and libdwfl never opens the dump itself.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "analysis/symbol_locator.h"
#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

// A module of the snapshot as the session sees it.
struct ModuleReport {
    const Module* module = nullptr;
    const SymbolLocator* locator = nullptr;  // for the find_debuginfo callback
    ModuleFiles files;
    std::string debug_path;              // separate debug file libdwfl asked for, "" if none
    Dwfl_Module* dwfl_module = nullptr;  // null when not reported (mismatched, missing)
    std::vector<uint8_t> image;          // the in-memory image (vdso), owned for libdwfl
};

class DwflSession {
public:
    // Reports the modules; fails only if libdwfl cannot be set up at all.
    static Result<std::unique_ptr<DwflSession>> create(const Snapshot& snapshot,
                                                       const SymbolOptions& options);
    ~DwflSession();
    DwflSession(const DwflSession&) = delete;
    DwflSession& operator=(const DwflSession&) = delete;

    const Snapshot& snapshot() const { return snapshot_; }
    Dwfl* dwfl() const { return dwfl_; }
    const std::vector<ModuleReport>& modules() const { return modules_; }
    const SymbolLocator& locator() const { return locator_; }
    // The report of the module holding addr (by the snapshot's module ranges), or null.
    const ModuleReport* module_at(uint64_t addr) const;

    // Walks frames from `regs` with libdwfl (CFI, then its frame-pointer fallback), calling
    // `callback` for each frame as dwfl_getthread_frames does. Returns its result: 0 at the
    // natural end of the stack, -1 when the walk failed. Any number of threads may walk at once,
    // and a callback may start another walk: each walk is its own libdwfl thread, whose id maps
    // to its registers only while it lasts.
    int walk(const CpuContext& regs, int (*callback)(Dwfl_Frame*, void*), void* arg);

    // libdwfl (elfutils 0.188) is not thread-safe: every call into dwfl() is made under this
    // lock (walk and has_cfi take it; callers of dwfl() and the module handles take it too).
    // Recursive, so that a walk's callback may call has_cfi or symbolize.
    std::unique_lock<std::recursive_mutex> lock() const {
        return std::unique_lock<std::recursive_mutex>(dwfl_mutex_);
    }

    // True if the module at pc has call frame information covering pc.
    bool has_cfi(uint64_t pc) const;

    // Reads 8 bytes of the snapshot's memory.
    bool read_word(uint64_t addr, uint64_t& value) const;

private:
    DwflSession(const Snapshot& snapshot, const SymbolOptions& options);
    Status report_modules();
    Status attach_state();

    static int find_elf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base,
                        char** file_name, Elf** elfp);
    static int find_debuginfo(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base,
                              const char* file_name, const char* debuglink, GElf_Word crc,
                              char** debuginfo_file_name);
    static bool get_thread(Dwfl* dwfl, pid_t tid, void* arg, void** thread_arg);
    static pid_t next_thread(Dwfl* dwfl, void* arg, void** thread_arg);
    static bool memory_read(Dwfl* dwfl, Dwarf_Addr addr, Dwarf_Word* result, void* arg);
    static bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg);

    const Snapshot& snapshot_;
    SymbolLocator locator_;
    Dwfl_Callbacks callbacks_{};
    Dwfl* dwfl_ = nullptr;
    std::vector<ModuleReport> modules_;
    std::vector<uint8_t> arch_header_;  // a minimal x86-64 ELF header: the architecture
    Elf* arch_elf_ = nullptr;
    // The walks in progress: the thread id libdwfl knows each by -> its registers.
    const CpuContext* walk_registers(pid_t tid) const;
    mutable std::recursive_mutex dwfl_mutex_;
    mutable std::mutex walks_mutex_;
    std::map<pid_t, const CpuContext*> walks_;
    pid_t next_walk_tid_ = 1;
};

}  // namespace dumpscope::analysis
