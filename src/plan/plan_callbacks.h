// MiniDumpWriteDump's callback routine, as the plan calls it: IncludeThread and IncludeModule
// first (keep or drop), then Module and Thread (clear write flags), then Memory until it adds
// nothing, and Cancel between steps and while memory is written. A callback can only clear
// flags the dump type set (the plan masks what comes back), as on Windows. The library's C
// callback (src/api/) and the helper's remote one implement this interface.
#pragma once

#include <cstdint>
#include <optional>

#include "snapshot/memory_range.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// MODULE_WRITE_FLAGS and THREAD_WRITE_FLAGS, Windows' values.
namespace module_write {
inline constexpr uint32_t Module = 0x0001;
inline constexpr uint32_t DataSeg = 0x0002;
inline constexpr uint32_t MiscRecord = 0x0004;
inline constexpr uint32_t CvRecord = 0x0008;
inline constexpr uint32_t ReferencedByMemory = 0x0010;
inline constexpr uint32_t TlsData = 0x0020;
inline constexpr uint32_t CodeSegs = 0x0040;
}  // namespace module_write

namespace thread_write {
inline constexpr uint32_t Thread = 0x0001;
inline constexpr uint32_t Stack = 0x0002;
inline constexpr uint32_t Context = 0x0004;
inline constexpr uint32_t BackingStore = 0x0008;
inline constexpr uint32_t InstructionWindow = 0x0010;
inline constexpr uint32_t ThreadData = 0x0020;
inline constexpr uint32_t ThreadInfo = 0x0040;
}  // namespace thread_write

enum class CancelAnswer {
    kContinue,    // keep going, ask again later
    kStopAsking,  // CheckCancel = FALSE: keep going, never ask again
    kCancel,      // Cancel = TRUE: stop, write nothing
};

class PlanCallbacks {
public:
    virtual ~PlanCallbacks() = default;
    // IncludeThreadCallback / IncludeModuleCallback: false leaves it out of the dump.
    virtual bool include_thread(const Thread& thread) = 0;
    virtual bool include_module(const Module& module) = 0;
    // ModuleCallback / ThreadCallback: the flags the dump type set -> those to keep. A module
    // without module_write::Module or a thread without thread_write::Thread is left out.
    virtual uint32_t module_flags(const Module& module, uint32_t flags) = 0;
    virtual uint32_t thread_flags(const Thread& thread, MemoryRange stack, uint32_t flags) = 0;
    // MemoryCallback: one more range to add, or nothing (the plan stops asking).
    virtual std::optional<MemoryRange> more_memory() = 0;
    // CancelCallback.
    virtual CancelAnswer check_cancel() = 0;
};

}  // namespace dumpscope
