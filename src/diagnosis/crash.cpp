// The crash: the signal and its code, the faulting thread, the first frame of the program's own
// code, the instruction at the fault (capstone) and a class: null-dereference (read, write or
// call), stack-overflow, non-canonical-address, wild-pointer, execute-non-executable, abort and
// assertion-failure (with glibc's __abort_msg), uncaught-exception (with the exception's type,
// thrown_exception.h), divide-by-zero, illegal-instruction, bus-error. Plus the crash signature
// the dump service groups by.
#include <fmt/format.h>

#include <algorithm>

#include "analysis/symbolizer.h"
#include "arch/arch.h"
#include "diagnosis/detector.h"
#include "diagnosis/disassemble.h"
#include "diagnosis/dump_memory.h"
#include "diagnosis/frames.h"
#include "diagnosis/thrown_exception.h"
#include "procfs/signal_names.h"

namespace dumpscope::diagnosis {

namespace {

constexpr int kSigIll = 4, kSigTrap = 5, kSigAbrt = 6, kSigBus = 7, kSigFpe = 8, kSigSegv = 11,
              kSigSys = 31;
constexpr int kSiKernel = 0x80;  // si_code of a general-protection fault (no fault address)
constexpr int kSegvAccErr = 2;
constexpr int kFpeIntDiv = 1, kFpeIntOvf = 2;
constexpr uint64_t kNullPageLimit = 64 * 1024;  // vm.mmap_min_addr: nothing maps below it
constexpr uint64_t kStackGapLimit = (1 << 20) + (64 << 10);  // stack_guard_gap (1 MiB) + slack
constexpr uint64_t kNearStackPointer = 64 * 1024;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxAbortMessage = 4096;
constexpr uint64_t kAbortScanBytes = 64 * 1024;  // of the faulting thread's stack

bool canonical(uint64_t address) {
    const uint64_t top = address >> 47;
    return top == 0 || top == 0x1ffff;
}

bool frames_have(const std::vector<analysis::Frame>& frames, std::string_view name) {
    for (const analysis::Frame& f : frames)
        if (f.function.find(name) != std::string::npos) return true;
    return false;
}

// A fault next to a stack: in the guard below a thread's stack, or in the gap below the main
// stack that it could not grow into; with the stack pointer right there.
bool stack_overflow(const Snapshot& s, uint64_t address, uint64_t rsp) {
    const uint64_t distance = address > rsp ? address - rsp : rsp - address;
    if (distance > kNearStackPointer) return false;
    const Mapping* at = s.mapping_at(address);
    if (at != nullptr && (at->read || at->write || at->exec)) return false;
    const auto above = std::upper_bound(s.mappings.begin(), s.mappings.end(), address,
                                        [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (above == s.mappings.end() || !above->write) return false;
    if (at != nullptr) return at->end == above->start;  // a PROT_NONE guard right below
    const bool is_stack = above->path == "[stack]" ||
                          std::any_of(s.threads.begin(), s.threads.end(), [&](const Thread& t) {
                              return t.stack_start != 0 && t.stack_start <= above->start &&
                                     above->start < t.stack_end;
                          });
    return is_stack && above->start - address <= kStackGapLimit;
}

// glibc's struct abort_msg_s { unsigned int size; char msg[]; } in its own page(s).
std::string abort_message_at(const Snapshot& s, uint64_t address) {
    if (address == 0 || address % kPageSize != 0) return {};
    auto size = read_u32(s, address);
    if (!size || *size < kPageSize || *size % kPageSize != 0 || *size > (1u << 20)) return {};
    std::string text = read_text(s, address + 4, std::min<uint64_t>(*size - 4, kMaxAbortMessage));
    if (text.size() < 4) return {};
    for (char c : text)
        if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t') return {};
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

// The message glibc left for abort(): __abort_msg (libc's symbol tables), else a page that
// holds one and that the faulting thread's stack points to (a mini dump has no libc data).
std::string abort_message(DumpFacts& facts, uint64_t rsp) {
    const Snapshot& s = facts.snapshot();
    if (auto symbol = symbol_address(*facts.dump, "libc.so", "__abort_msg")) {
        if (auto pointer = read_u64(s, *symbol)) {
            std::string text = abort_message_at(s, *pointer);
            if (!text.empty()) return text;
        }
    }
    for (uint64_t offset = 0; offset < kAbortScanBytes; offset += 8) {
        auto word = read_u64(s, rsp + offset);
        if (!word) break;
        const Mapping* m = s.mapping_at(*word);
        if (m == nullptr || m->file_backed() || !m->write) continue;
        std::string text = abort_message_at(s, *word);
        if (!text.empty()) return text;
    }
    return {};
}

struct Classified {
    std::string cls;
    std::string access;
    std::string message;
    uint64_t address = 0;
    std::optional<ThrownException> exception;  // uncaught-exception: the one thrown, if in memory
};

Classified classify_segv(const Snapshot& s, const ExceptionInfo& e,
                         const std::optional<Instruction>& insn) {
    Classified c;
    c.address = e.signal.fault_address;
    const std::string data_access = !insn                            ? ""
                                    : insn->is_call || insn->is_jump ? "call"
                                    : insn->writes_memory            ? "write"
                                    : insn->reads_memory             ? "read"
                                                                     : "";
    if (e.signal.code == kSiKernel) {
        // A general-protection fault: the kernel gives no address; the operand tells it.
        if (insn && insn->memory_address) c.address = *insn->memory_address;
        c.access = data_access;
        if (insn && insn->memory_address && !canonical(*insn->memory_address)) {
            c.cls = "non-canonical-address";
            c.message = fmt::format("{} of non-canonical address {:#x} (a corrupted pointer)",
                                    c.access.empty() ? "access" : c.access, c.address);
        } else {
            c.cls = "wild-pointer";
            c.message = "general-protection fault";
        }
        return c;
    }
    if (e.context.pc() == c.address) {  // the fault is fetching the instruction itself
        if (c.address < kNullPageLimit) {
            c.cls = "null-dereference";
            c.access = "call";
            c.message = fmt::format("call through a null function pointer (to {:#x})", c.address);
        } else if (const Mapping* m = s.mapping_at(c.address); m != nullptr && !m->exec) {
            c.cls = "execute-non-executable";
            c.access = "exec";
            c.message = fmt::format("jumped to {:#x} in non-executable memory ({} {})", c.address,
                                    m->path.empty() ? "anonymous" : m->path, m->write ? "rw" : "r");
        } else {
            c.cls = "wild-pointer";
            c.access = "exec";
            c.message = fmt::format("jumped to unmapped address {:#x}", c.address);
        }
        return c;
    }
    c.access = data_access;
    const std::string verb = c.access.empty() ? "access" : c.access;
    if (stack_overflow(s, c.address, e.context.sp())) {
        c.cls = "stack-overflow";
        c.message = fmt::format(
            "{} of {:#x} just below the stack (rsp {:#x}): the stack is "
            "exhausted (deep or infinite recursion, or a huge local)",
            verb, c.address, e.context.sp());
    } else if (c.address < kNullPageLimit) {
        c.cls = "null-dereference";
        c.message = c.address == 0
                        ? fmt::format("{} of a null pointer", verb)
                        : fmt::format("{} at offset {:#x} from a null pointer", verb, c.address);
    } else if (!canonical(c.address)) {
        c.cls = "non-canonical-address";
        c.message = fmt::format("{} of non-canonical address {:#x}", verb, c.address);
    } else if (const Mapping* m = s.mapping_at(c.address);
               m != nullptr && e.signal.code == kSegvAccErr) {
        c.cls = "wild-pointer";
        c.message = fmt::format("{} of {:#x}, which is mapped {}{}{} ({})", verb, c.address,
                                m->read ? "r" : "-", m->write ? "w" : "-", m->exec ? "x" : "-",
                                m->path.empty() ? "anonymous" : m->path);
    } else {
        c.cls = "wild-pointer";
        c.message = fmt::format("{} of unmapped address {:#x}", verb, c.address);
    }
    return c;
}

Classified classify(DumpFacts& facts, const ExceptionInfo& e,
                    const std::optional<Instruction>& insn,
                    const std::vector<analysis::Frame>& frames) {
    const Snapshot& s = facts.snapshot();
    Classified c;
    c.address = e.signal.fault_address;
    switch (e.signal.signo) {
        case kSigSegv:
            return classify_segv(s, e, insn);
        case kSigBus: {
            c.cls = "bus-error";
            const Mapping* m = s.mapping_at(c.address);
            c.message = m != nullptr && m->file_backed()
                            ? fmt::format(
                                  "access to {:#x} in {} beyond the end of the file "
                                  "(truncated while mapped?)",
                                  c.address, m->path)
                            : fmt::format("bus error at {:#x}", c.address);
            return c;
        }
        case kSigFpe:
            c.cls = e.signal.code == kFpeIntDiv || e.signal.code == kFpeIntOvf
                        ? "divide-by-zero"
                        : "floating-point-exception";
            c.message = e.signal.code == kFpeIntDiv   ? "integer division by zero"
                        : e.signal.code == kFpeIntOvf ? "integer division overflow (INT_MIN / -1)"
                                                      : "floating-point exception";
            return c;
        case kSigIll:
            c.cls = "illegal-instruction";
            c.message = insn && insn->text.rfind("ud2", 0) == 0
                            ? "ud2: a trap the compiler or __builtin_trap() put there"
                            : "an instruction this CPU cannot execute";
            return c;
        case kSigTrap:
            c.cls = "breakpoint";
            c.message = "trace/breakpoint trap (int3, __builtin_debugtrap)";
            return c;
        case kSigSys:
            c.cls = "bad-system-call";
            c.message = "a system call refused by seccomp";
            return c;
        case kSigAbrt: {
            c.address = 0;
            c.message = abort_message(facts, e.context.sp());
            const bool terminate = frames_have(frames, "terminate") ||
                                   frames_have(frames, "__cxa_throw") ||
                                   frames_have(frames, "__cxa_rethrow");
            if (terminate) {
                c.cls = "uncaught-exception";
                c.exception = find_thrown_exception(*facts.dump, e.context);
                if (c.exception) {  // the type says more than any message
                    c.message = fmt::format(
                        "std::terminate: uncaught exception of type {}{}", c.exception->type,
                        c.exception->what.empty() ? ""
                                                  : fmt::format(": what(): {}", c.exception->what));
                }
                if (c.message.empty()) c.message = "std::terminate: an exception nobody caught";
            } else if (c.message.find("Assertion") != std::string::npos ||
                       frames_have(frames, "__assert_fail")) {
                c.cls = "assertion-failure";
                if (c.message.empty())
                    c.message = "assertion failed (its text is not in this dump)";
            } else {
                c.cls = "abort";
                if (c.message.empty()) {
                    c.message = e.signal.sender_pid != 0 && e.signal.sender_pid != s.process.pid
                                    ? fmt::format("SIGABRT sent by process {}", e.signal.sender_pid)
                                    : "abort() (no message recorded)";
                }
            }
            return c;
        }
        default:
            return {};
    }
}

// A call to a bad address faults fetching the target: rip is the target and the caller's
// return address is at [rsp]. Unwinders that go by the frame-pointer chain skip that caller, so
// it is put back as frame 1.
void add_caller_of_bad_call(DumpFacts& facts, const ExceptionInfo& e,
                            std::vector<analysis::Frame>& frames) {
    if (e.signal.signo != kSigSegv || e.context.pc() != e.signal.fault_address) return;
    auto return_address = read_u64(facts.snapshot(), e.context.sp());
    if (!return_address || facts.snapshot().module_at(*return_address) == nullptr) return;
    if (frames.size() > 1 && frames[1].pc == *return_address) return;
    auto session = facts.dump->session();
    if (!session.ok()) return;
    analysis::Frame caller;
    caller.pc = *return_address;
    caller.sp = e.context.sp() + 8;
    caller.trust = analysis::FrameTrust::kScan;
    caller.activation = false;
    analysis::symbolize(**session, caller);
    frames.insert(frames.begin() + (frames.empty() ? 0 : 1), caller);
}

std::string next_step_for(const std::string& cls) {
    if (cls == "null-dereference")
        return "Find where the pointer used at this frame became null (the registers and the "
               "caller's locals: `dumpscope debug DUMP -c \".ecxr; k; r\"`).";
    if (cls == "stack-overflow")
        return "Look for the recursion in the stack (the same frames repeating) or a large "
               "local array; raise the stack size only if the depth is legitimate.";
    if (cls == "assertion-failure" || cls == "abort")
        return "Read the message above: it names the failed check (for heap messages such as "
               "\"double free\", run the program under valgrind or ASan to find the first bad "
               "free).";
    if (cls == "uncaught-exception")
        return "Catch the exception where it is thrown or at the thread's entry point.";
    if (cls == "divide-by-zero") return "Check the divisor before dividing at this frame.";
    if (cls == "bus-error")
        return "A mapped file was probably truncated by another process: map only what exists.";
    return "Inspect the faulting instruction and the registers it uses (`dumpscope debug DUMP -c "
           "\".ecxr; r\"`) and where those values came from.";
}

}  // namespace

void detect_crash(DumpFacts& facts, std::vector<Finding>& out) {
    const Snapshot& s = facts.snapshot();
    if (!s.exception) return;
    const ExceptionInfo& e = *s.exception;
    std::vector<analysis::Frame> frames;
    auto walked = facts.dump->exception_stack();
    if (walked.ok() && walked->has_value()) frames = (*walked)->frames;
    add_caller_of_bad_call(facts, e, frames);
    const auto insn = disassemble_at(s, e.context);
    Classified c = classify(facts, e, insn, frames);
    if (c.cls.empty()) return;  // a signal that is no crash (a -sig trigger's SIGUSR1, say)

    CrashInfo crash;
    crash.signal = e.signal.signo;
    crash.signal_name = signal_name(e.signal.signo);
    crash.code_name = si_code_name(e.signal.signo, e.signal.code);
    crash.cls = c.cls;
    crash.message = c.message;
    crash.address = c.address;
    crash.tid = e.tid;
    crash.access = c.access;
    if (insn) crash.instruction = insn->text;
    const auto own = first_own_frame(frames);
    if (own) crash.frame = frame_ref(frames[*own]);

    Finding f;
    f.kind = "crash";
    f.severity = Severity::kError;
    f.threads = {e.tid};
    const std::string where = crash.frame ? " in " + frame_text(*crash.frame) : "";
    f.summary = fmt::format("{}{}: {}: {}{}", crash.signal_name,
                            crash.code_name.empty() ? "" : " (" + crash.code_name + ")", crash.cls,
                            crash.message, where);
    const Thread* t = thread_by_tid(s, e.tid);
    f.evidence_text =
        fmt::format("  thread {}{}\n", e.tid, t && !t->name.empty() ? " \"" + t->name + "\"" : "");
    if (insn)
        f.evidence_text += fmt::format("  instruction {:#x}: {}\n", insn->address, insn->text);
    else
        f.evidence_text +=
            fmt::format("  instruction at {:#x}: not in this dump\n", e.context.pc());
    if (c.exception) {
        f.evidence_text += fmt::format(
            "  exception {} at {:#x}{}\n", c.exception->type, c.exception->object,
            c.exception->what.empty() ? "" : fmt::format(", what(): {}", c.exception->what));
    }
    f.evidence_text += stack_text(frames, 16);
    nlohmann::json stack = nlohmann::json::array();
    for (size_t i = 0; i < frames.size() && i < 32; ++i)
        stack.push_back(frame_json(frame_ref(frames[i])));
    nlohmann::json registers = nlohmann::json::object();
    for (const arch::NamedRegister& reg : arch::general_registers(e.context))
        registers[reg.name] = reg.value;
    f.evidence = {{"instruction", insn ? nlohmann::json(insn->text) : nlohmann::json(nullptr)},
                  {"pc", fmt::format("{:#018x}", e.context.pc())},
                  {"sp", fmt::format("{:#018x}", e.context.sp())},
                  {"frames", stack},
                  {"registers", registers}};
    if (c.exception) {
        f.evidence["exception"] = {{"type", c.exception->type},
                                   {"what", c.exception->what},
                                   {"object", fmt::format("{:#018x}", c.exception->object)},
                                   {"type_info", fmt::format("{:#018x}", c.exception->type_info)}};
    }
    std::string signature = crash_signature(frames);
    if (signature.empty()) signature = fmt::format("{}@{:#x}", crash.signal_name, e.context.pc());
    crash.signature = signature;
    f.next_step = next_step_for(c.cls);
    f.crash = std::move(crash);
    out.push_back(std::move(f));
}

}  // namespace dumpscope::diagnosis
