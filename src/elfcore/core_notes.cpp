#include "elfcore/core_notes.h"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "arch/arch.h"
#include "elfcore/core_format.h"
#include "elfcore/core_process_note.h"
#include "elfcore/note_builder.h"
#include "elfcore/proc_fields.h"
#include "snapshot/capture_record_json.h"

namespace dumpscope::elfcore {

namespace {

// One NT_PRSTATUS to write: a thread of the snapshot, or only the exception's context when
// the faulting thread is not among content.threads.
struct ThreadNotes {
    int32_t tid = 0;
    const Thread* thread = nullptr;
    const CpuContext* regs = nullptr;
};

bool has_registers(const CpuContext& regs) { return regs.pc() != 0 || regs.sp() != 0; }

const ExceptionInfo* included_exception(const Snapshot& snapshot, const DumpContent& content) {
    return snapshot.exception && content.include_exception ? &*snapshot.exception : nullptr;
}

Result<std::vector<ThreadNotes>> order_threads(const Snapshot& snapshot,
                                               const DumpContent& content) {
    std::vector<ThreadNotes> out;
    for (size_t index : content.threads) {
        if (index >= snapshot.threads.size()) {
            return Error{"dump content names thread #" + std::to_string(index) +
                         " but the snapshot has " + std::to_string(snapshot.threads.size())};
        }
        const Thread& t = snapshot.threads[index];
        out.push_back({t.tid, &t, &t.regs});
    }
    const ExceptionInfo* exception = included_exception(snapshot, content);
    if (exception == nullptr) return out;

    // The faulting thread goes first, with the registers at the fault (as the kernel's core).
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const ThreadNotes& t) { return t.tid == exception->tid; });
    ThreadNotes first{exception->tid, nullptr, &exception->context};
    if (it != out.end()) {
        first.thread = it->thread;
        if (!has_registers(exception->context)) first.regs = it->regs;
        out.erase(it);
    } else if (!has_registers(exception->context)) {
        return out;  // nothing to say about a thread we have neither registers nor a record of
    }
    out.insert(out.begin(), first);
    return out;
}

CoreTimeval to_timeval(uint64_t ns) {
    return {static_cast<int64_t>(ns / 1000000000), static_cast<int64_t>(ns % 1000000000 / 1000)};
}

CoreTimeval ticks_to_timeval(uint64_t ticks) {
    const long hz = sysconf(_SC_CLK_TCK);
    const uint64_t per_second = hz > 0 ? static_cast<uint64_t>(hz) : 100;
    return to_timeval(ticks * (1000000000 / per_second));
}

struct ProcessFields {
    ProcStatFields stat;
    ProcSignalMasks leader_signals;
    int32_t signo = 0;
};

// NT_PRSTATUS: the head, the registers as the architecture lays them out, the tail.
std::vector<uint8_t> make_prstatus(const Snapshot& snapshot, const ProcessFields& fields,
                                   const ThreadNotes& t) {
    CorePrStatus s;
    s.si_signo = fields.signo;
    s.cursig = static_cast<int16_t>(fields.signo);
    const bool leader = t.tid == snapshot.process.pid;
    if (leader) {  // /proc/PID/status describes the thread-group leader
        s.sigpend = fields.leader_signals.pending;
        s.sighold = fields.leader_signals.blocked;
    }
    s.pid = t.tid;
    s.ppid = snapshot.process.ppid;
    s.pgrp = fields.stat.pgrp;
    s.sid = fields.stat.session;
    // Like the kernel: the leader carries the whole group's CPU time, other threads their own.
    const uint64_t group_cpu = snapshot.process.user_time_ns + snapshot.process.kernel_time_ns;
    if (leader && group_cpu > 0) {
        s.utime = to_timeval(snapshot.process.user_time_ns);
        s.stime = to_timeval(snapshot.process.kernel_time_ns);
    } else if (t.thread != nullptr) {
        s.utime = to_timeval(t.thread->user_time_ns);
        s.stime = to_timeval(t.thread->kernel_time_ns);
    }
    s.cutime = ticks_to_timeval(fields.stat.cutime_ticks);
    s.cstime = ticks_to_timeval(fields.stat.cstime_ticks);
    const arch::ArchOps& arch = arch::ops_or_first(*t.regs);
    const std::vector<uint8_t> gregset = arch.to_elf_gregset(*t.regs);
    CorePrStatusTail tail;
    // pr_fpvalid: the thread's NT_PRFPREG follows.
    const std::vector<arch::ElfRegisterNote> notes = arch.elf_register_notes(*t.regs);
    tail.fpvalid = std::any_of(notes.begin(), notes.end(),
                               [](const arch::ElfRegisterNote& n) { return n.type == NT_PRFPREG; })
                       ? 1
                       : 0;
    std::vector<uint8_t> out(sizeof(s) + gregset.size() + sizeof(tail));
    std::memcpy(out.data(), &s, sizeof(s));
    std::memcpy(out.data() + sizeof(s), gregset.data(), gregset.size());
    std::memcpy(out.data() + sizeof(s) + gregset.size(), &tail, sizeof(tail));
    return out;
}

void copy_truncated(char* out, size_t capacity, std::string_view text) {
    const size_t n = std::min(text.size(), capacity - 1);  // keep a terminating NUL
    std::memcpy(out, text.data(), n);
}

// The command line as ps shows it: NUL separators turned into spaces.
std::string command_line(const ProcessInfo& process) {
    std::string line = process.cmdline;
    if (line.empty()) {
        for (const auto& arg : process.argv) line += arg + ' ';
    }
    std::replace(line.begin(), line.end(), '\0', ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

CorePrPsInfo make_prpsinfo(const Snapshot& snapshot, const ProcessFields& fields,
                           const Thread* leader) {
    static constexpr std::string_view kStates = "RSDTZW";
    CorePrPsInfo p;
    const char state = leader != nullptr ? leader->state : 'R';
    const size_t index = kStates.find(state);
    p.state = static_cast<char>(index == std::string_view::npos ? kStates.size() : index);
    p.sname = state;
    p.zomb = state == 'Z' ? 1 : 0;
    p.nice = static_cast<char>(leader != nullptr ? leader->nice : 0);
    p.flag = fields.stat.flags;
    p.uid = snapshot.process.uid;
    p.gid = snapshot.process.gid;
    p.pid = snapshot.process.pid;
    p.ppid = snapshot.process.ppid;
    p.pgrp = fields.stat.pgrp;
    p.sid = fields.stat.session;
    copy_truncated(p.fname, sizeof(p.fname), snapshot.process.name);
    copy_truncated(p.psargs, sizeof(p.psargs), command_line(snapshot.process));
    return p;
}

bool is_fault_signal(int signo) {
    return signo == 4 || signo == 5 || signo == 7 || signo == 8 ||
           signo == 11;  // ILL TRAP BUS FPE SEGV
}

// The siginfo_t bytes: the raw copy when the source kept one, else rebuilt from the fields.
std::array<uint8_t, kSigInfoSize> siginfo_bytes(const SignalInfo& signal) {
    std::array<uint8_t, kSigInfoSize> raw = signal.raw;
    if (std::any_of(raw.begin(), raw.end(), [](uint8_t b) { return b != 0; })) return raw;
    std::memcpy(raw.data() + 0, &signal.signo, 4);
    std::memcpy(raw.data() + 4, &signal.err, 4);
    std::memcpy(raw.data() + 8, &signal.code, 4);
    if (is_fault_signal(signal.signo) && signal.code > 0) {
        std::memcpy(raw.data() + 16, &signal.fault_address, 8);  // si_addr
    } else {
        std::memcpy(raw.data() + 16, &signal.sender_pid, 4);  // si_pid
    }
    return raw;
}

void put_u64(std::vector<uint8_t>& out, uint64_t value) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    out.insert(out.end(), bytes, bytes + sizeof(value));
}

// NT_FILE: count, page size, {start, end, offset in pages} per file mapping, then the paths.
std::vector<uint8_t> file_note(const Snapshot& snapshot) {
    const uint64_t page = core_page_size(snapshot);
    std::vector<const Mapping*> files;
    for (const auto& m : snapshot.mappings) {
        if (m.file_backed() && m.end > m.start) files.push_back(&m);
    }
    if (files.empty()) return {};
    std::vector<uint8_t> out;
    put_u64(out, files.size());
    put_u64(out, page);
    for (const Mapping* m : files) {
        put_u64(out, m->start);
        put_u64(out, m->end);
        put_u64(out, m->offset / page);
    }
    for (const Mapping* m : files) {
        out.insert(out.end(), m->path.begin(), m->path.end());
        out.push_back(0);
    }
    return out;
}

Status add_register_notes(NoteBuilder& notes, const CpuContext& regs) {
    for (const arch::ElfRegisterNote& note : arch::ops_or_first(regs).elf_register_notes(regs)) {
        DS_TRY(notes.add(note.owner, note.type, note.desc));
    }
    return {};
}

const Thread* leader_thread(const Snapshot& snapshot, const std::vector<ThreadNotes>& order) {
    for (const auto& t : snapshot.threads) {
        if (t.tid == snapshot.process.pid) return &t;
    }
    return order.empty() ? nullptr : order.front().thread;
}

}  // namespace

uint64_t core_page_size(const Snapshot& snapshot) {
    const uint64_t page = snapshot.system.page_size;
    const bool sane = page >= 4096 && page <= (1u << 30) && (page & (page - 1)) == 0;
    return sane ? page : 4096;
}

Result<std::vector<uint8_t>> build_process_notes(const Snapshot& snapshot,
                                                 const DumpContent& content) {
    auto order = order_threads(snapshot, content);
    if (!order.ok()) return order.error();

    ProcessFields fields;
    fields.stat = parse_proc_stat(snapshot.process.stat);
    fields.leader_signals = parse_proc_status_signals(snapshot.process.status);
    const ExceptionInfo* exception = included_exception(snapshot, content);
    if (exception != nullptr) fields.signo = exception->signal.signo;

    NoteBuilder notes;
    bool first = true;
    auto add_process_notes = [&]() -> Status {
        notes.add_struct(kCoreNoteName, NT_PRPSINFO,
                         make_prpsinfo(snapshot, fields, leader_thread(snapshot, *order)));
        if (exception != nullptr && exception->signal.signo != 0) {
            DS_TRY(notes.add(kCoreNoteName, NT_SIGINFO, siginfo_bytes(exception->signal)));
        }
        if (!snapshot.process.auxv.empty()) {
            DS_TRY(notes.add(kCoreNoteName, NT_AUXV, snapshot.process.auxv));
        }
        const std::vector<uint8_t> files = file_note(snapshot);
        if (!files.empty()) DS_TRY(notes.add(kCoreNoteName, NT_FILE, files));
        return {};
    };
    for (const ThreadNotes& t : *order) {
        DS_TRY(notes.add(kCoreNoteName, NT_PRSTATUS, make_prstatus(snapshot, fields, t)));
        if (first) DS_TRY(add_process_notes());
        first = false;
        DS_TRY(add_register_notes(notes, *t.regs));
    }
    if (first) DS_TRY(add_process_notes());  // no thread at all: still describe the process
    return notes.take();
}

Result<std::vector<uint8_t>> build_trailing_notes(const CaptureRecord& record,
                                                  const Snapshot& snapshot,
                                                  const DumpContent& content) {
    NoteBuilder notes;
    const std::string capture = capture_record_to_json(record);
    DS_TRY(notes.add(kDumpscopeNoteName, kNoteDumpscopeCapture,
                     std::span(reinterpret_cast<const uint8_t*>(capture.data()), capture.size())));
    const std::string process = process_note_to_json(snapshot, content);
    DS_TRY(notes.add(kDumpscopeNoteName, kNoteDumpscopeProcess,
                     std::span(reinterpret_cast<const uint8_t*>(process.data()), process.size())));
    for (const UserStream& stream : content.user_streams) {
        DS_TRY(notes.add(kUserStreamNoteName, stream.type, stream.bytes()));
    }
    return notes.take();
}

}  // namespace dumpscope::elfcore
