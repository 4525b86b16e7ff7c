// Registers of a ptrace-stopped thread: NT_PRSTATUS (general), NT_PRFPREG (FXSAVE area) and
// NT_X86_XSTATE (the whole XSAVE area, sized from CPUID leaf 0xD). Must be called from the
// thread that attached (ptrace requests are per tracer thread).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "snapshot/snapshot.h"

namespace dumpscope {

// General registers are required (an error if unavailable, e.g. the thread died); FP and XSAVE
// state are best effort (has_fpregs false / xsave empty when the kernel refuses). *err_out gets
// the errno of a failed NT_PRSTATUS read (ESRCH: the thread died or is not stopped by us).
Result<CpuContext> read_thread_registers(int32_t tid, int* err_out = nullptr);

// Size of the buffer offered for NT_X86_XSTATE: CPUID.(EAX=0DH,ECX=0):ECX (the XSAVE area for
// every supported feature), or 16 KiB when CPUID does not say.
size_t xstate_buffer_size();

}  // namespace dumpscope
