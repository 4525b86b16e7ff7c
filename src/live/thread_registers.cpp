#include "live/thread_registers.h"

#include <cpuid.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include <cerrno>
#include <string>

namespace dumpscope {

namespace {

static_assert(sizeof(user_regs_struct) == sizeof(X86GeneralRegisters));
static_assert(sizeof(user_fpregs_struct) == 512);

// Returns the byte count the kernel filled, or -1 with errno set.
long get_regset(int32_t tid, int type, void* buffer, size_t size) {
    iovec iov{buffer, size};
    if (::ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(static_cast<uintptr_t>(type)),
                 &iov) != 0) {
        return -1;
    }
    return static_cast<long>(iov.iov_len);
}

}  // namespace

size_t xstate_buffer_size() {
    constexpr size_t kGenerous = 16 * 1024;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0, nullptr) < 0xd) return kGenerous;
    __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
    size_t size = ecx > ebx ? ecx : ebx;
    return size >= 576 ? size : kGenerous;  // 512 legacy + 64 header at least
}

Result<CpuContext> read_thread_registers(int32_t tid, int* err_out) {
    if (err_out != nullptr) *err_out = 0;
    X86_64Registers regs;
    user_regs_struct gp{};
    long got = get_regset(tid, NT_PRSTATUS, &gp, sizeof(gp));
    if (got < 0) {
        int err = errno;
        if (err_out != nullptr) *err_out = err;
        return errno_error("cannot read registers of thread " + std::to_string(tid), err);
    }
    if (static_cast<size_t>(got) != sizeof(gp)) {
        return Error{"cannot read registers of thread " + std::to_string(tid) +
                     ": kernel returned " + std::to_string(got) + " bytes, expected " +
                     std::to_string(sizeof(gp))};
    }
    static_assert(sizeof(regs.gp) == sizeof(gp));
    __builtin_memcpy(&regs.gp, &gp, sizeof(gp));

    got = get_regset(tid, NT_PRFPREG, regs.fxsave.data(), regs.fxsave.size());
    regs.has_fpregs = got == static_cast<long>(regs.fxsave.size());
    if (!regs.has_fpregs) regs.fxsave.fill(0);

    std::vector<uint8_t> xsave(xstate_buffer_size());
    got = get_regset(tid, NT_X86_XSTATE, xsave.data(), xsave.size());
    if (got > 0) {
        xsave.resize(static_cast<size_t>(got));
        regs.xsave = std::move(xsave);
    }
    return CpuContext(std::move(regs));
}

}  // namespace dumpscope
