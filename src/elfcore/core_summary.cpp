#include "elfcore/core_summary.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "common/mapped_file.h"
#include "compress/dump_bytes.h"
#include "elfcore/core_format.h"
#include "elfcore/core_view.h"
#include "elfcore/note_fields.h"
#include "elfcore/note_names.h"
#include "snapshot/capture_record_json.h"

namespace dumpscope {

namespace {

using elfcore::CoreNote;

using elfcore::load;
using elfcore::short_note;

Status read_prpsinfo(const CoreNote& note, DumpSummary& out) {
    auto info = elfcore::decode_prpsinfo(note);
    if (!info.ok()) return info.error();
    out.pid = info->raw.pid;
    out.process_name = info->name;
    out.command_line = info->args;
    return {};
}

// NT_PRSTATUS: only the fields every 64-bit Linux layout shares (before pr_reg).
Status read_prstatus(const CoreNote& note, DumpSummary& out, int16_t& cursig) {
    constexpr size_t kNeeded = offsetof(elfcore::CorePrStatus, pid) + sizeof(int32_t);
    if (note.desc.size() < kNeeded) return short_note(note, kNeeded);
    const auto tid = load<int32_t>(note.desc, offsetof(elfcore::CorePrStatus, pid));
    if (out.thread_count == 0) {
        out.exception_tid = tid;
        cursig = load<int16_t>(note.desc, offsetof(elfcore::CorePrStatus, cursig));
    }
    ++out.thread_count;
    out.thread_names.push_back(std::to_string(tid));
    return {};
}

Status read_siginfo(const CoreNote& note, DumpSummary& out) {
    auto signal = elfcore::decode_siginfo(note);
    if (!signal.ok()) return signal.error();
    if (signal->signo != 0) out.exception = *signal;
    return {};
}

// NT_FILE: count, page size, count x {start, end, page offset}, then count NUL-ended paths.
Status read_file_note(const CoreNote& note, std::vector<std::string>& paths) {
    if (note.desc.size() < 16) return short_note(note, 16);
    const uint64_t count = load<uint64_t>(note.desc, 0);
    const uint64_t room = (note.desc.size() - 16) / 24;
    if (count > room) {
        return Error{fmt::format("NT_FILE note at {:#x} claims {} files but has room for {}",
                                 note.desc_offset, count, room)};
    }
    std::span<const uint8_t> names = note.desc.subspan(16 + count * 24);
    for (uint64_t i = 0; i < count; ++i) {
        const auto* begin = names.data();
        const auto* nul = static_cast<const uint8_t*>(std::memchr(begin, 0, names.size()));
        if (nul == nullptr) {
            return Error{fmt::format("NT_FILE note at {:#x}: path #{} is not NUL-terminated",
                                     note.desc_offset, i)};
        }
        paths.emplace_back(reinterpret_cast<const char*>(begin), nul - begin);
        names = names.subspan(nul - begin + 1);
    }
    return {};
}

Status read_capture(const CoreNote& note, DumpSummary& out) {
    const std::string text(reinterpret_cast<const char*>(note.desc.data()), note.desc.size());
    auto record = capture_record_from_json(text);
    if (!record.ok()) {
        return Error{
            fmt::format("DUMPSCOPE note at {:#x}: {}", note.desc_offset, record.error().message)};
    }
    out.capture = std::move(*record);
    return {};
}

// One entry per (owner, type) in order of first appearance, named with its count.
void add_note_entries(const std::vector<CoreNote>& notes, DumpSummary& out) {
    struct Group {
        DumpSummary::Entry entry;
        size_t count = 0;
        std::string base;
    };
    std::vector<Group> groups;
    std::map<std::pair<std::string_view, uint32_t>, size_t> index;
    for (const CoreNote& note : notes) {
        auto [it, inserted] = index.try_emplace({note.owner, note.type}, groups.size());
        if (inserted) {
            Group g;
            g.entry.type = note.type;
            g.entry.offset = note.desc_offset;
            g.base = elfcore::note_type_name(note.owner, note.type);
            groups.push_back(std::move(g));
        }
        Group& g = groups[it->second];
        ++g.count;
        g.entry.size += note.desc.size();
    }
    for (Group& g : groups) {
        g.entry.name = fmt::format("{} x{}", g.base, g.count);
        out.entries.push_back(std::move(g.entry));
    }
}

void add_memory(std::span<const uint8_t> file, const std::vector<Elf64_Phdr>& segments,
                DumpSummary& out) {
    DumpSummary::Entry loads{PT_LOAD, "", 0, 0};
    size_t count = 0;
    for (const Elf64_Phdr& p : segments) {
        if (p.p_type != PT_LOAD) continue;
        if (count++ == 0) loads.offset = p.p_offset;
        const uint64_t present = elfcore::segment_bytes_in_file(file, p).size();
        loads.size += present;
        if (present == 0) continue;
        out.memory.push_back({p.p_vaddr, present});
        out.memory_bytes += present;
    }
    loads.name = fmt::format("PT_LOAD x{}", count);
    if (count > 0) out.entries.push_back(std::move(loads));
}

Status read_notes(const elfcore::CoreView& view, DumpSummary& out) {
    std::vector<std::string> paths;
    bool have_psinfo = false;
    bool have_siginfo = false;
    int16_t cursig = 0;
    for (const CoreNote& note : view.notes) {
        if (note.owner == elfcore::kDumpscopeNoteName &&
            note.type == elfcore::kNoteDumpscopeCapture) {
            DS_TRY(read_capture(note, out));
        }
        if (note.owner != elfcore::kCoreNoteName) continue;
        switch (note.type) {
            case NT_PRSTATUS:
                DS_TRY(read_prstatus(note, out, cursig));
                break;
            case NT_PRPSINFO:
                DS_TRY(read_prpsinfo(note, out));
                have_psinfo = true;
                break;
            case NT_SIGINFO:
                DS_TRY(read_siginfo(note, out));
                have_siginfo = true;
                break;
            case NT_FILE:
                DS_TRY(read_file_note(note, paths));
                break;
            default:
                break;
        }
    }
    if (!have_psinfo && out.thread_count > 0) out.pid = out.exception_tid;
    if (!have_siginfo && cursig != 0) {  // older cores: only pr_cursig says which signal
        SignalInfo signal;
        signal.signo = cursig;
        out.exception = signal;
    }
    if (!out.exception) out.exception_tid = 0;
    std::set<std::string> seen;
    for (auto& path : paths) {
        if (seen.insert(path).second) out.module_paths.push_back(std::move(path));
    }
    out.module_count = out.module_paths.size();
    return {};
}

}  // namespace

bool looks_like_elf_core(const std::string& path) {
    auto start = compress::read_dump_prefix(path, EI_NIDENT + 2);
    return start.ok() && start->size() == EI_NIDENT + 2 && elfcore::has_elf_core_header(*start);
}

Result<DumpSummary> summarize_elf_core(const std::string& path) {
    auto file = compress::map_dump_file(path);
    if (!file.ok()) return file.error();
    auto view = elfcore::parse_elf_core(file->bytes());
    if (!view.ok()) return Error{path + ": " + view.error().message};

    DumpSummary out;
    out.format = "elf-core";
    out.file_size = file->bytes().size();
    out.disk_usage = file->disk_usage();
    // A core records no uname: say what the header knows.
    out.os = elfcore::os_name(view->osabi) + " " + elfcore::machine_name(view->machine);
    out.cpu = elfcore::cpu_name(view->machine);
    add_note_entries(view->notes, out);
    add_memory(file->bytes(), view->segments, out);
    if (view->truncation.truncated()) {
        out.warnings.push_back(describe_truncation(path, view->truncation));
    }
    const Status notes = read_notes(*view, out);
    if (!notes.ok()) return Error{path + ": " + notes.error().message};
    return out;
}

}  // namespace dumpscope
