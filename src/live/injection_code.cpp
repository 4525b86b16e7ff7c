#include "live/injection_code.h"

#include <sys/syscall.h>

#include <cstring>

namespace dumpscope {

namespace {

// Kernel-internal restart codes a system call interrupted by a stop leaves in rax.
constexpr int64_t kErestartSys = 512;
constexpr int64_t kErestartNoIntr = 513;
constexpr int64_t kErestartNoHand = 514;
constexpr int64_t kErestartRestartBlock = 516;
constexpr uint64_t kNoSyscall = ~uint64_t{0};
constexpr int kSigSetMask = 2;

class Assembler {
public:
    explicit Assembler(uint64_t base) : base_(base) {}

    void bytes(std::initializer_list<uint8_t> list) { code_.insert(code_.end(), list); }
    void u32(uint32_t value) { little_endian(value, 4); }
    void u64(uint64_t value) { little_endian(value, 8); }
    // mov <reg>, imm64 for a register given by its REX prefix and opcode (b8 + reg).
    void mov_imm64(uint8_t rex, uint8_t opcode, uint64_t value) {
        bytes({rex, opcode});
        u64(value);
    }
    size_t size() const { return code_.size(); }
    uint64_t address() const { return base_ + code_.size(); }
    void patch_u32(size_t at, uint32_t value) { std::memcpy(&code_[at], &value, 4); }
    std::vector<uint8_t> take() { return std::move(code_); }

private:
    void little_endian(uint64_t value, int count) {
        for (int i = 0; i < count; ++i) code_.push_back(static_cast<uint8_t>(value >> (8 * i)));
    }

    uint64_t base_;
    std::vector<uint8_t> code_;
};

}  // namespace

X86GeneralRegisters resume_registers(const X86GeneralRegisters& stopped) {
    X86GeneralRegisters regs = stopped;
    if (stopped.orig_rax != kNoSyscall) {
        switch (static_cast<int64_t>(stopped.rax)) {
            case -kErestartSys:
            case -kErestartNoIntr:
            case -kErestartNoHand:
                regs.rax = stopped.orig_rax;
                regs.rip -= 2;
                break;
            case -kErestartRestartBlock:
                regs.rax = SYS_restart_syscall;
                regs.rip -= 2;
                break;
            default:
                break;
        }
    }
    regs.orig_rax = kNoSyscall;
    return regs;
}

InjectionCode build_injection_code(uint64_t address, const X86GeneralRegisters& resume,
                                   uint64_t signal_mask, bool zero_result_exits) {
    Assembler a(address);
    a.bytes({0x0f, 0x05});  // syscall
    InjectionCode code;
    code.after_syscall = a.address();
    if (zero_result_exits) {
        // A zero result is the child's: it exits at once.
        a.bytes({0x48, 0x89, 0xc1});  // mov rcx, rax
        a.bytes({0xe3, 0x02});        // jrcxz child
        a.bytes({0xeb, 0x0e});        // jmp parent
        a.bytes({0xb8});
        a.u32(SYS_exit_group);  // child: mov eax, 231
        a.bytes({0xbf});
        a.u32(0);               // mov edi, 0
        a.bytes({0x0f, 0x05});  // syscall
        a.bytes({0x0f, 0x0b});  // ud2
    }
    // parent:
    // rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8)
    a.bytes({0xb8});
    a.u32(SYS_rt_sigprocmask);  // mov eax, 14
    a.bytes({0xbf});
    a.u32(kSigSetMask);           // mov edi, 2
    a.bytes({0x48, 0x8d, 0x35});  // lea rsi, [rip + mask]
    const size_t mask_disp_at = a.size();
    a.u32(0);
    const uint64_t mask_disp_base = a.address();
    a.bytes({0xba});
    a.u32(0);  // mov edx, 0
    a.bytes({0x41, 0xba});
    a.u32(8);               // mov r10d, 8
    a.bytes({0x0f, 0x05});  // syscall
    a.mov_imm64(0x48, 0xb8, resume.rax);
    a.mov_imm64(0x48, 0xb9, resume.rcx);
    a.mov_imm64(0x48, 0xba, resume.rdx);
    a.mov_imm64(0x48, 0xbe, resume.rsi);
    a.mov_imm64(0x48, 0xbf, resume.rdi);
    a.mov_imm64(0x49, 0xb8, resume.r8);
    a.mov_imm64(0x49, 0xb9, resume.r9);
    a.mov_imm64(0x49, 0xba, resume.r10);
    a.mov_imm64(0x49, 0xbb, resume.r11);
    a.bytes({0xff, 0x25});
    a.u32(0);  // jmp [rip + 0]
    a.u64(resume.rip);
    a.patch_u32(mask_disp_at, static_cast<uint32_t>(a.address() - mask_disp_base));
    a.u64(signal_mask);
    code.bytes = a.take();
    return code;
}

}  // namespace dumpscope
