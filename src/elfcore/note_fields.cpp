#include "elfcore/note_fields.h"

namespace dumpscope::elfcore {

namespace {

bool is_fault_signal(int signo) {
    return signo == 4 || signo == 5 || signo == 7 || signo == 8 ||
           signo == 11;  // ILL TRAP BUS FPE SEGV
}

}  // namespace

Result<SignalInfo> decode_siginfo(const CoreNote& note) {
    constexpr size_t kNeeded = 24;  // si_signo, si_errno, si_code, padding, si_addr / si_pid
    if (note.desc.size() < kNeeded) return short_note(note, kNeeded);
    SignalInfo signal;
    std::memcpy(signal.raw.data(), note.desc.data(), std::min(note.desc.size(), signal.raw.size()));
    signal.signo = load<int32_t>(note.desc, 0);
    signal.err = load<int32_t>(note.desc, 4);
    signal.code = load<int32_t>(note.desc, 8);
    if (is_fault_signal(signal.signo) && signal.code > 0) {
        signal.fault_address = load<uint64_t>(note.desc, 16);
    } else {
        signal.sender_pid = load<int32_t>(note.desc, 16);
    }
    return signal;
}

Result<PsInfo> decode_prpsinfo(const CoreNote& note) {
    if (note.desc.size() < sizeof(CorePrPsInfo)) return short_note(note, sizeof(CorePrPsInfo));
    PsInfo info;
    info.raw = load<CorePrPsInfo>(note.desc, 0);
    info.name = bounded_string(note.desc.subspan(offsetof(CorePrPsInfo, fname), kPrFnameSize));
    info.args = bounded_string(note.desc.subspan(offsetof(CorePrPsInfo, psargs), kPrArgsSize));
    while (!info.args.empty() && info.args.back() == ' ') info.args.pop_back();
    return info;
}

}  // namespace dumpscope::elfcore
