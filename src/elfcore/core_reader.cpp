#include "elfcore/core_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "arch/arch.h"
#include "common/mapped_file.h"
#include "compress/dump_bytes.h"
#include "elf/elf_build_id.h"
#include "elf/elf_image.h"
#include "elfcore/core_file_note.h"
#include "elfcore/core_format.h"
#include "elfcore/core_process_note.h"
#include "elfcore/core_view.h"
#include "elfcore/note_fields.h"
#include "elfcore/note_names.h"
#include "snapshot/capture_record_json.h"
#include "snapshot/dump_completion.h"
#include "snapshot/range_memory_source.h"

namespace dumpscope {

namespace {

using elfcore::CoreNote;

constexpr uint64_t kNanosecondsPerSecond = 1000000000ull;

using elfcore::load;
using elfcore::short_note;

uint64_t timeval_ns(const elfcore::CoreTimeval& tv) {
    if (tv.sec < 0 || tv.usec < 0) return 0;
    return static_cast<uint64_t>(tv.sec) * kNanosecondsPerSecond +
           static_cast<uint64_t>(tv.usec) * 1000;
}

// What the notes say besides threads and the process record.
struct NoteFacts {
    int16_t first_cursig = 0;
    std::optional<SignalInfo> siginfo;
    std::optional<elfcore::FileNote> files;
    std::optional<elfcore::ProcessNote> process_note;  // dumpscope's own cores
};

Status read_prstatus(const CoreNote& note, const arch::ArchOps& arch, Snapshot& s,
                     NoteFacts& facts) {
    const size_t needed =
        sizeof(elfcore::CorePrStatus) + arch.elf_gregset_size + sizeof(elfcore::CorePrStatusTail);
    if (note.desc.size() < needed) return short_note(note, needed);
    const auto status = load<elfcore::CorePrStatus>(note.desc, 0);
    if (s.threads.empty()) facts.first_cursig = status.cursig;
    Thread t;
    t.tid = status.pid;
    t.regs = arch.from_elf_gregset(
        note.desc.subspan(sizeof(elfcore::CorePrStatus), arch.elf_gregset_size));
    t.user_time_ns = timeval_ns(status.utime);
    t.kernel_time_ns = timeval_ns(status.stime);
    t.syscall = arch.syscall(t.regs);
    if (s.process.ppid == 0) s.process.ppid = status.ppid;
    s.threads.push_back(std::move(t));
    return {};
}

Status read_prpsinfo(const CoreNote& note, ProcessInfo& process, char& leader_state) {
    auto decoded = elfcore::decode_prpsinfo(note);
    if (!decoded.ok()) return decoded.error();
    const elfcore::CorePrPsInfo& info = decoded->raw;
    process.pid = info.pid;
    process.ppid = info.ppid;
    process.uid = info.uid;
    process.gid = info.gid;
    process.name = decoded->name;
    const std::string& args = decoded->args;
    process.argv.clear();
    size_t pos = 0;
    while (pos < args.size()) {
        const size_t space = std::min(args.find(' ', pos), args.size());
        if (space > pos) process.argv.push_back(args.substr(pos, space - pos));
        pos = space + 1;
    }
    leader_state = info.sname;
    return {};
}

Status read_siginfo(const CoreNote& note, NoteFacts& facts) {
    auto signal = elfcore::decode_siginfo(note);
    if (!signal.ok()) return signal.error();
    facts.siginfo = *signal;
    return {};
}

// A register note (NT_PRFPREG, NT_X86_XSTATE, ...) of the thread whose NT_PRSTATUS came last:
// true if the architecture took it.
Result<bool> read_register_note(const CoreNote& note, const arch::ArchOps& arch, Snapshot& s) {
    if (s.threads.empty()) {
        // Registers of no thread: nothing to attach them to.
        CpuContext scratch;
        auto taken = arch.read_elf_register_note(scratch, note.owner, note.type, note.desc);
        return taken.ok() && *taken;
    }
    auto taken =
        arch.read_elf_register_note(s.threads.back().regs, note.owner, note.type, note.desc);
    if (!taken.ok()) {
        return Error{fmt::format("{} note at {:#x} {}",
                                 elfcore::note_type_name(note.owner, note.type), note.desc_offset,
                                 taken.error().message)};
    }
    return taken;
}

Status read_core_note(const CoreNote& note, const arch::ArchOps& arch, Snapshot& s,
                      NoteFacts& facts, char& leader_state) {
    switch (note.type) {
        case NT_PRSTATUS:
            return read_prstatus(note, arch, s, facts);
        case NT_PRPSINFO:
            return read_prpsinfo(note, s.process, leader_state);
        case NT_SIGINFO:
            return read_siginfo(note, facts);
        case NT_AUXV:
            s.process.auxv.assign(note.desc.begin(), note.desc.end());
            return {};
        case NT_FILE: {
            auto files = elfcore::parse_file_note(note.desc);
            if (!files.ok()) {
                return Error{
                    fmt::format("note at {:#x}: {}", note.desc_offset, files.error().message)};
            }
            facts.files = std::move(*files);
            return {};
        }
        default:
            return {};
    }
}

Status read_notes(const elfcore::CoreView& view, const arch::ArchOps& arch, Snapshot& s,
                  NoteFacts& facts) {
    char leader_state = '?';
    for (const CoreNote& note : view.notes) {
        auto register_note = read_register_note(note, arch, s);
        if (!register_note.ok()) return register_note.error();
        if (*register_note) continue;
        if (note.owner == elfcore::kCoreNoteName) {
            DS_TRY(read_core_note(note, arch, s, facts, leader_state));
        } else if (note.owner == elfcore::kDumpscopeNoteName) {
            const std::string text(reinterpret_cast<const char*>(note.desc.data()),
                                   note.desc.size());
            if (note.type == elfcore::kNoteDumpscopeCapture) {
                auto record = capture_record_from_json(text);
                if (!record.ok()) {
                    return Error{fmt::format("DUMPSCOPE note at {:#x}: {}", note.desc_offset,
                                             record.error().message)};
                }
                s.capture = std::move(*record);
            } else if (note.type == elfcore::kNoteDumpscopeProcess) {
                auto process = elfcore::process_note_from_json(text);
                if (!process.ok()) {
                    return Error{fmt::format("DUMPSCOPE note at {:#x}: {}", note.desc_offset,
                                             process.error().message)};
                }
                facts.process_note = std::move(*process);
            }
        }
    }
    for (Thread& t : s.threads) {
        if (t.tid == s.process.pid) t.state = leader_state;
    }
    if (s.process.pid == 0 && !s.threads.empty()) s.process.pid = s.threads.front().tid;
    return {};
}

// One mapping per PT_LOAD; NT_FILE names the file-backed ones. Segments that continue the same
// file mapping with the same protection (dumpscope splits a mapping where its dumped part ends)
// are joined again.
Result<std::vector<Mapping>> mappings_from_segments(const elfcore::CoreView& view,
                                                    const NoteFacts& facts) {
    std::vector<Mapping> mappings;
    for (size_t i = 0; i < view.segments.size(); ++i) {
        const Elf64_Phdr& p = view.segments[i];
        if (p.p_type != PT_LOAD || p.p_memsz == 0) continue;
        if (p.p_memsz > UINT64_MAX - p.p_vaddr) {
            return Error{
                fmt::format("PT_LOAD #{} at {:#x} of {} bytes wraps around the address "
                            "space",
                            i, p.p_vaddr, p.p_memsz)};
        }
        Mapping m;
        m.start = p.p_vaddr;
        m.end = p.p_vaddr + p.p_memsz;
        m.read = (p.p_flags & PF_R) != 0;
        m.write = (p.p_flags & PF_W) != 0;
        m.exec = (p.p_flags & PF_X) != 0;
        mappings.push_back(std::move(m));
    }
    std::sort(mappings.begin(), mappings.end(),
              [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    for (size_t i = 1; i < mappings.size(); ++i) {
        if (mappings[i].start < mappings[i - 1].end) {
            return Error{fmt::format("PT_LOAD segments {:#x}-{:#x} and {:#x}-{:#x} overlap",
                                     mappings[i - 1].start, mappings[i - 1].end, mappings[i].start,
                                     mappings[i].end)};
        }
    }
    if (facts.files) {
        for (const elfcore::FileNoteEntry& file : facts.files->entries) {
            auto it = std::lower_bound(mappings.begin(), mappings.end(), file.start,
                                       [](const Mapping& m, uint64_t at) { return m.start < at; });
            for (; it != mappings.end() && it->end <= file.end; ++it) {
                it->path = file.path;
                it->offset = file.file_offset + (it->start - file.start);
            }
        }
    }
    std::vector<Mapping> joined;
    for (Mapping& m : mappings) {
        if (!joined.empty()) {
            Mapping& last = joined.back();
            const bool continues = last.end == m.start && m.file_backed() && last.path == m.path &&
                                   last.read == m.read && last.write == m.write &&
                                   last.exec == m.exec && last.offset + last.size() == m.offset;
            if (continues) {
                last.end = m.end;
                continue;
            }
        }
        joined.push_back(std::move(m));
    }
    return joined;
}

// The vdso, from AT_SYSINFO_EHDR.
void add_vdso(Snapshot& s, const MemorySource& memory) {
    const auto base = auxv_value(s.process.auxv, kAuxvSysinfoEhdr);
    if (!base) return;
    const Mapping* m = s.mapping_at(*base);
    if (m == nullptr) return;
    const_cast<Mapping*>(m)->path = "[vdso]";
    Module vdso;
    vdso.path = "linux-vdso.so.1";
    vdso.base = m->start;
    vdso.end = m->end;
    auto id = build_id_from_memory(memory, vdso.base);
    if (id.ok()) vdso.build_id = std::move(*id);
    s.modules.push_back(std::move(vdso));
}

// Loaded ELF objects from the file mappings: a mapping at file offset 0 starts an object, later
// mappings of the same file extend it, an anonymous rw mapping right after it is its .bss (up to
// the end of its highest PT_LOAD). The build-id comes from the image in the dump only: the file
// on disk may have changed since, and is checked against it later.
void add_file_modules(Snapshot& s, const MemorySource& memory) {
    const std::vector<Mapping>& maps = s.mappings;
    for (size_t i = 0; i < maps.size(); ++i) {
        const Mapping& first = maps[i];
        if (!first.file_backed() || first.offset != 0) continue;
        Module module;
        module.path = first.path;
        module.base = first.start;
        module.end = first.end;
        bool any_exec = first.exec;
        size_t next = i + 1;
        for (; next < maps.size(); ++next) {
            const Mapping& m = maps[next];
            if (m.path != first.path) break;
            if (m.offset == 0) break;  // the same file mapped again
            module.end = m.end;
            any_exec = any_exec || m.exec;
            ++i;
        }
        auto elf = read_loaded_elf(memory, module.base);
        const bool header_in_dump = memory.bytes_present(module.base, SELFMAG) == SELFMAG;
        if (header_in_dump && !elf.ok()) continue;  // a data file mapped at offset 0
        if (!header_in_dump && !any_exec) continue;
        if (next < maps.size() && maps[next].start == module.end && maps[next].path.empty() &&
            maps[next].read && maps[next].write) {
            const uint64_t image_end = elf.ok() ? elf->image_end() : 0;
            if (image_end > module.end) module.end = std::min(maps[next].end, image_end);
        }
        if (elf.ok()) {
            auto id = build_id_from_memory(memory, *elf);
            if (id.ok()) module.build_id = std::move(*id);
        }
        s.modules.push_back(std::move(module));
    }
}

void apply_signal(Snapshot& s, const NoteFacts& facts) {
    if (s.threads.empty()) return;
    SignalInfo signal;
    if (facts.siginfo) {
        signal = *facts.siginfo;
    } else {
        signal.signo = facts.first_cursig;  // older cores: only pr_cursig says which signal
    }
    if (signal.signo == 0) return;
    ExceptionInfo exception;
    exception.tid = s.threads.front().tid;
    exception.signal = signal;
    exception.context = s.threads.front().regs;
    s.exception = std::move(exception);
}

}  // namespace

Result<Snapshot> read_elf_core(const std::string& path) {
    auto opened = compress::map_dump_file(path);
    if (!opened.ok()) return opened.error();
    auto file = std::make_shared<MappedFile>(std::move(*opened));
    auto failed = [&](const Error& e) { return Error{path + ": " + e.message}; };

    auto view = elfcore::parse_elf_core(file->bytes());
    if (!view.ok()) return failed(view.error());
    const arch::ArchOps* arch = arch::ops_for_elf_machine(view->machine);
    if (arch == nullptr) {
        return failed(Error{fmt::format("{} cores are not supported (only x86_64)",
                                        elfcore::machine_name(view->machine))});
    }

    Snapshot s;
    if (view->truncation.truncated()) {
        s.warnings.push_back(describe_truncation(path, view->truncation));
    }
    NoteFacts facts;
    if (Status notes = read_notes(*view, *arch, s, facts); !notes.ok())
        return failed(notes.error());

    std::vector<DumpMemoryRange> ranges;
    for (const Elf64_Phdr& p : view->segments) {
        if (p.p_type != PT_LOAD || p.p_filesz == 0) continue;
        ranges.push_back({p.p_vaddr, elfcore::segment_bytes_in_file(file->bytes(), p)});
    }
    auto memory = RangeMemorySource::create(
        std::move(ranges), file, RangeMemorySource::Backing::kReadOnlyFileMapping, file.get());
    if (!memory.ok()) return failed(memory.error());
    s.memory = *memory;

    auto mappings = mappings_from_segments(*view, facts);
    if (!mappings.ok()) return failed(mappings.error());
    s.mappings = std::move(*mappings);
    if (facts.files) s.system.page_size = facts.files->page_size;
    if (facts.process_note) {
        if (Status applied = elfcore::apply_process_note(*facts.process_note, s); !applied.ok()) {
            return failed(applied.error());
        }
    }
    if (s.modules.empty()) {
        add_file_modules(s, **memory);
        add_vdso(s, **memory);
    }
    apply_signal(s, facts);
    complete_dump_snapshot(s);
    return s;
}

}  // namespace dumpscope
