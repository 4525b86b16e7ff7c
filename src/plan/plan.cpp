#include "plan/plan.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

#include "arch/arch.h"
#include "common/paths.h"
#include "plan/dump_flags.h"
#include "plan/loader_data.h"
#include "plan/memory_ranges.h"

namespace dumpscope {

namespace {

constexpr uint64_t kRedZone = 128;            // x86-64 SysV: bytes below rsp a leaf may use
constexpr uint64_t kInstructionWindow = 256;  // bytes around each instruction pointer
constexpr uint64_t kIndirectBefore = 256;     // WithIndirectlyReferencedMemory window
constexpr uint64_t kIndirectAfter = 768;
constexpr uint64_t kPointedWindow = 128;  // each side of a syscall argument / register pointer
constexpr uint64_t kPageSize = 4096;

uint64_t page_down(uint64_t a) { return a & ~(kPageSize - 1); }

bool has(uint32_t flags, uint32_t flag) { return (flags & flag) == flag; }

// The used part of a thread's stack: from just below the stack pointer to the mapping's end.
MemoryRange used_stack(const Snapshot& snapshot, const Thread& thread, uint64_t max_bytes) {
    const uint64_t sp = thread.regs.sp();
    uint64_t top = thread.stack_end;
    if (top == 0 || sp < thread.stack_start || sp >= top) {
        const Mapping* m = snapshot.mapping_at(sp);
        if (m == nullptr) return {};
        top = m->end;
    }
    const uint64_t bottom = (sp - kRedZone) & ~uint64_t{15};
    const uint64_t end = std::min(top, bottom + max_bytes);
    return {bottom, end - bottom};
}

MemoryRange window_around(uint64_t address, uint64_t before, uint64_t after) {
    const uint64_t lo = address > before ? address - before : 0;
    return {lo, before + after};
}

// Reads the 8-byte aligned words of a range (what is readable of it).
std::vector<uint64_t> read_words(const Snapshot& snapshot, MemoryRange range) {
    std::vector<uint64_t> words;
    if (!snapshot.memory || range.size < 8) return words;
    const uint64_t start = (range.start + 7) & ~uint64_t{7};
    if (start >= range.end()) return words;
    std::vector<uint8_t> bytes((range.end() - start) & ~uint64_t{7});
    auto got = snapshot.memory->read(start, bytes);
    if (!got.ok()) return words;
    words.resize(*got / 8);
    std::memcpy(words.data(), bytes.data(), words.size() * 8);
    return words;
}

// The values of the general registers (those DWARF numbers: the integer registers and the pc).
std::vector<uint64_t> register_values(const CpuContext& context) {
    return arch::ops_or_first(context).dwarf_registers(context);
}

bool in_any_stack(const Snapshot& snapshot, uint64_t value) {
    return std::any_of(snapshot.threads.begin(), snapshot.threads.end(), [&](const Thread& t) {
        return t.stack_end != 0 && value >= t.stack_start && value < t.stack_end;
    });
}

// Everything the plan derives from the included threads' stacks and registers.
struct StackScan {
    std::vector<MemoryRange> stacks;
    std::vector<uint64_t> values;     // stack words and registers (candidate pointers)
    std::vector<MemoryRange> zeroed;  // FilterMemory
};

StackScan scan_stacks(const Snapshot& snapshot, const std::vector<size_t>& threads,
                      const std::vector<uint32_t>& thread_flags, const PlanOptions& options,
                      bool filter_memory) {
    StackScan scan;
    auto scan_thread = [&](const CpuContext& regs, const MemoryRange& stack) {
        for (uint64_t v : register_values(regs)) scan.values.push_back(v);
        if (stack.size == 0) return;
        scan.stacks.push_back(stack);
        const uint64_t first = (stack.start + 7) & ~uint64_t{7};
        const std::vector<uint64_t> words = read_words(snapshot, stack);
        for (size_t i = 0; i < words.size(); ++i) {
            const uint64_t w = words[i];
            scan.values.push_back(w);
            if (!filter_memory) continue;
            const Mapping* m = snapshot.mapping_at(w);
            const bool keep = (m != nullptr && m->exec) || in_any_stack(snapshot, w);
            if (!keep && w != 0) scan.zeroed.push_back({first + i * 8, 8});
        }
    };
    for (size_t i = 0; i < threads.size(); ++i) {
        const Thread& t = snapshot.threads[threads[i]];
        const bool stack = (thread_flags[i] & thread_write::Stack) != 0;
        scan_thread(t.regs,
                    stack ? used_stack(snapshot, t, options.max_stack_bytes) : MemoryRange{});
    }
    if (snapshot.exception) {
        Thread faulting;
        for (const Thread& t : snapshot.threads)
            if (t.tid == snapshot.exception->tid) faulting = t;
        faulting.regs = snapshot.exception->context;
        scan_thread(faulting.regs, used_stack(snapshot, faulting, options.max_stack_bytes));
    }
    return scan;
}

Result<std::vector<size_t>> choose_threads(const Snapshot& snapshot, const PlanOptions& options) {
    std::vector<size_t> out;
    if (options.exclude_all_threads) return out;
    for (int32_t tid : options.only_threads) {
        auto it = std::find_if(snapshot.threads.begin(), snapshot.threads.end(),
                               [&](const Thread& t) { return t.tid == tid; });
        if (it == snapshot.threads.end())
            return Error{
                fmt::format("thread {} is not a thread of process {}", tid, snapshot.process.pid)};
    }
    for (size_t i = 0; i < snapshot.threads.size(); ++i) {
        const int32_t tid = snapshot.threads[i].tid;
        if (options.only_threads.empty() ||
            std::find(options.only_threads.begin(), options.only_threads.end(), tid) !=
                options.only_threads.end())
            if (!options.callbacks || options.callbacks->include_thread(snapshot.threads[i]))
                out.push_back(i);
    }
    return out;
}

std::vector<size_t> choose_modules(const Snapshot& snapshot, const PlanOptions& options,
                                   const StackScan& scan) {
    std::vector<size_t> out;
    if (options.exclude_all_modules) return out;
    std::set<size_t> referenced;
    if (has(options.flags, dump_flag::ScanMemory)) {
        for (uint64_t v : scan.values)
            if (const Module* m = snapshot.module_at(v))
                referenced.insert(static_cast<size_t>(m - snapshot.modules.data()));
    }
    for (size_t i = 0; i < snapshot.modules.size(); ++i) {
        if (module_matches(snapshot.modules[i], options.exclude_module_globs)) continue;
        if (options.callbacks && !options.callbacks->include_module(snapshot.modules[i])) continue;
        if (has(options.flags, dump_flag::ScanMemory) && !referenced.count(i)) continue;
        out.push_back(i);
    }
    return out;
}

// Mappings of a module that satisfy `pick`.
void add_module_mappings(const Snapshot& snapshot, const Module& module,
                         const std::function<bool(const Mapping&)>& pick,
                         std::vector<MemoryRange>& out) {
    for (const Mapping& m : snapshot.mappings) {
        if (m.start < module.base || m.end > module.end) continue;
        if (mapping_is_dumpable(m) && pick(m)) out.push_back({m.start, m.size()});
    }
}

Status check_cancel(const PlanOptions& options) {
    if (options.callbacks && options.callbacks->check_cancel() == CancelAnswer::kCancel)
        return Error{"cancelled by the callback (CancelCallback); no dump written"};
    return {};
}

// ModuleCallback: what the dump type writes of each module -> what the callback keeps. Modules
// it clears module_write::Module of are dropped from `modules`.
std::vector<uint32_t> module_write_flags(const Snapshot& snapshot, const PlanOptions& options,
                                         std::vector<size_t>& modules) {
    std::vector<uint32_t> kept;
    std::vector<size_t> still;
    for (size_t index : modules) {
        const Module& module = snapshot.modules[index];
        uint32_t flags = module_write::Module | module_write::MiscRecord | module_write::CvRecord;
        if (has(options.flags, dump_flag::WithDataSegs) &&
            (options.data_seg_modules.empty() || module_matches(module, options.data_seg_modules)))
            flags |= module_write::DataSeg;
        if (has(options.flags, dump_flag::WithCodeSegs) &&
            (options.code_seg_modules.empty() || module_matches(module, options.code_seg_modules)))
            flags |= module_write::CodeSegs;
        if (has(options.flags, dump_flag::ScanMemory)) flags |= module_write::ReferencedByMemory;
        if (options.callbacks) flags &= options.callbacks->module_flags(module, flags);
        if ((flags & module_write::Module) == 0) continue;
        still.push_back(index);
        kept.push_back(flags);
    }
    modules = std::move(still);
    return kept;
}

// ThreadCallback, after the module callbacks: threads it clears thread_write::Thread of are
// dropped from `threads`.
std::vector<uint32_t> thread_write_flags(const Snapshot& snapshot, const PlanOptions& options,
                                         std::vector<size_t>& threads) {
    std::vector<uint32_t> kept;
    std::vector<size_t> still;
    for (size_t index : threads) {
        const Thread& thread = snapshot.threads[index];
        uint32_t flags = thread_write::Thread | thread_write::Context | thread_write::Stack |
                         thread_write::InstructionWindow;
        if (has(options.flags, dump_flag::WithProcessThreadData)) flags |= thread_write::ThreadData;
        if (has(options.flags, dump_flag::WithThreadInfo)) flags |= thread_write::ThreadInfo;
        if (options.callbacks)
            flags &= options.callbacks->thread_flags(
                thread, used_stack(snapshot, thread, options.max_stack_bytes), flags);
        if ((flags & thread_write::Thread) == 0) continue;
        still.push_back(index);
        kept.push_back(flags);
    }
    threads = std::move(still);
    return kept;
}

// MemoryCallback until it adds nothing (at most kMaxMemoryCallbacks ranges): the readable part
// of each range.
constexpr size_t kMaxMemoryCallbacks = 1u << 16;

void add_callback_memory(const Snapshot& snapshot, const PlanOptions& options,
                         std::vector<MemoryRange>& wanted) {
    if (!options.callbacks) return;
    for (size_t i = 0; i < kMaxMemoryCallbacks; ++i) {
        std::optional<MemoryRange> range = options.callbacks->more_memory();
        if (!range || range->size == 0) return;
        if (range->start + range->size < range->start) continue;  // wraps around
        auto parts = clip_to_readable(snapshot, *range);
        wanted.insert(wanted.end(), parts.begin(), parts.end());
    }
}

bool inside_module(const Snapshot& snapshot, const Mapping& m) {
    return snapshot.module_at(m.start) != nullptr;
}

}  // namespace

bool module_matches(const Module& module, const std::vector<std::string>& globs) {
    const std::string name = base_name(module.path);
    for (const std::string& g : globs) {
        if (g == kMainModuleToken) {
            if (module.is_main_executable) return true;
            continue;
        }
        if (fnmatch(g.c_str(), module.path.c_str(), 0) == 0) return true;
        if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
    }
    return false;
}

Result<PlanOptions> preset_options(const std::string& name) {
    PlanOptions o;
    o.type_name = name;
    if (name == "tiny") {
        o.flags = dump_flag::Normal;
        o.exclude_all_threads = true;
        o.exclude_all_modules = true;
    } else if (name == "mini") {
        o.flags = dump_flag::WithIndirectlyReferencedMemory | dump_flag::ScanMemory;
    } else if (name == "midi") {
        o.flags = dump_flag::WithPrivateReadWriteMemory | dump_flag::WithDataSegs |
                  dump_flag::WithHandleData | dump_flag::WithFullMemoryInfo |
                  dump_flag::WithThreadInfo | dump_flag::WithUnloadedModules;
        // The article's MidiDump keeps data segments of the main module and the system
        // library only: on Linux, the executable and libc.
        o.data_seg_modules = {kMainModuleToken, "libc.so*", "libc-*.so"};
    } else if (name == "maxi" || name == "full") {
        o.type_name = "maxi";
        o.flags = dump_flag::WithFullMemory | dump_flag::WithFullMemoryInfo |
                  dump_flag::WithHandleData | dump_flag::WithThreadInfo |
                  dump_flag::WithUnloadedModules;
    } else {
        return Error{"unknown dump type '" + name + "' (tiny, mini, midi, maxi or full)"};
    }
    return o;
}

Result<DumpContent> plan_dump(const Snapshot& snapshot, const PlanOptions& options) {
    const uint32_t flags = options.flags;
    const bool no_optional = has(flags, dump_flag::WithoutOptionalData);
    const bool full_memory = has(flags, dump_flag::WithFullMemory) && !no_optional;
    const bool filter_memory = has(flags, dump_flag::FilterMemory) && !full_memory;

    DumpContent content;
    DS_TRY(check_cancel(options));
    auto threads = choose_threads(snapshot, options);
    if (!threads.ok()) return threads.error();
    content.threads = std::move(*threads);

    std::vector<uint32_t> thread_flags(content.threads.size(), ~uint32_t{0});
    StackScan scan = scan_stacks(snapshot, content.threads, thread_flags, options, filter_memory);
    content.modules = choose_modules(snapshot, options, scan);
    DS_TRY(check_cancel(options));
    const std::vector<uint32_t> module_flags =
        module_write_flags(snapshot, options, content.modules);
    if (options.callbacks) {
        thread_flags = thread_write_flags(snapshot, options, content.threads);
        scan = scan_stacks(snapshot, content.threads, thread_flags, options, filter_memory);
        DS_TRY(check_cancel(options));
    }
    auto thread_has = [&](size_t i, uint32_t flag) { return (thread_flags[i] & flag) != 0; };

    std::vector<MemoryRange> wanted = scan.stacks;
    // Every dump but a tiny one keeps the loader's list of objects (debuggers need it).
    if (!options.exclude_all_modules) {
        const auto loader = loader_data_ranges(snapshot);
        wanted.insert(wanted.end(), loader.begin(), loader.end());
    }
    // Instruction windows of every included thread and of the faulting context.
    for (size_t i = 0; i < content.threads.size(); ++i) {
        if (!thread_has(i, thread_write::InstructionWindow)) continue;
        wanted.push_back(window_around(snapshot.threads[content.threads[i]].regs.pc(),
                                       kInstructionWindow / 2, kInstructionWindow / 2));
    }
    if (snapshot.exception) {
        wanted.push_back(window_around(snapshot.exception->context.pc(), kInstructionWindow / 2,
                                       kInstructionWindow / 2));
    }

    // Data and code segments: the flags module_write_flags() derived from the dump type and the
    // module lists, as the ModuleCallback left them.
    for (size_t i = 0; i < content.modules.size(); ++i) {
        const Module& module = snapshot.modules[content.modules[i]];
        if (module_flags[i] & module_write::DataSeg)
            add_module_mappings(
                snapshot, module, [](const Mapping& m) { return m.write; }, wanted);
        if (module_flags[i] & module_write::CodeSegs)
            add_module_mappings(
                snapshot, module, [](const Mapping& m) { return m.exec; }, wanted);
    }
    // Module headers (ELF header, program headers, build-id note) and the whole vdso: debuggers
    // read them from memory to match files and to load the vdso's symbols.
    for (size_t index : content.modules) {
        const Module& module = snapshot.modules[index];
        const Mapping* first = snapshot.mapping_at(module.base);
        const bool in_memory_only = first != nullptr && !first->file_backed();
        wanted.push_back({module.base, in_memory_only ? module.size() : kPageSize});
    }
    for (const Mapping& m : snapshot.mappings) {
        if (!mapping_is_dumpable(m)) continue;
        const bool anonymous_private = !m.shared && !m.file_backed();
        if (full_memory ||
            (has(flags, dump_flag::WithPrivateReadWriteMemory) && !no_optional && m.write &&
             anonymous_private && !inside_module(snapshot, m)) ||
            (has(flags, dump_flag::WithPrivateWriteCopyMemory) && m.write && !m.shared &&
             m.file_backed())) {
            wanted.push_back({m.start, m.size()});
        }
    }
    if (has(flags, dump_flag::WithProcessThreadData)) {
        for (size_t i = 0; i < content.threads.size(); ++i) {
            if (!thread_has(i, thread_write::ThreadData)) continue;
            const uint64_t tls = snapshot.threads[content.threads[i]].regs.tls();
            if (tls != 0) wanted.push_back({page_down(tls) - kPageSize, 2 * kPageSize});
        }
        const ProcessInfo& p = snapshot.process;
        if (p.arg_start != 0 && p.env_end > p.arg_start)
            wanted.push_back({p.arg_start, p.env_end - p.arg_start});
    }
    if (has(flags, dump_flag::WithIndirectlyReferencedMemory) && !no_optional) {
        for (uint64_t v : scan.values) {
            const Mapping* m = snapshot.mapping_at(v);
            if (m == nullptr || !mapping_is_dumpable(*m) || snapshot.module_at(v) != nullptr)
                continue;
            const MemoryRange window = window_around(v, kIndirectBefore, kIndirectAfter);
            const uint64_t lo = std::max(window.start, m->start);
            const uint64_t hi = std::min(window.end(), m->end);
            if (lo < hi) wanted.push_back({lo, hi - lo});
        }
    }
    if (has(flags, dump_flag::WithIndirectlyReferencedMemory) && !no_optional) {
        // What `analyze` reads to name a wait or a fault: the memory around each blocked
        // thread's system-call pointer arguments (the futex word and the lock around it, a
        // pollfd array, a timespec) and around registers that point into writable memory, in
        // modules' data too (a global mutex).
        auto add_pointed = [&](uint64_t value) {
            const Mapping* m = snapshot.mapping_at(value);
            if (m == nullptr || !m->write || !mapping_is_dumpable(*m)) return;
            const MemoryRange window = window_around(value, kPointedWindow, kPointedWindow);
            const uint64_t lo = std::max(window.start, m->start);
            const uint64_t hi = std::min(window.end(), m->end);
            if (lo < hi) wanted.push_back({lo, hi - lo});
        };
        auto add_registers = [&](const CpuContext& context) {
            for (const arch::NamedRegister& reg : arch::general_registers(context))
                add_pointed(reg.value);
        };
        for (size_t index : content.threads) {
            const Thread& t = snapshot.threads[index];
            if (t.syscall.in_syscall)
                for (uint64_t arg : t.syscall.args) add_pointed(arg);
            add_registers(t.regs);
        }
        if (snapshot.exception) add_registers(snapshot.exception->context);
    }
    for (const MemoryRange& extra : options.extra_memory) {
        auto parts = clip_to_readable(snapshot, extra);
        if (parts.empty())
            return Error{fmt::format("memory range {:#x}+{:#x} is not readable in process {}",
                                     extra.start, extra.size, snapshot.process.pid)};
        wanted.insert(wanted.end(), parts.begin(), parts.end());
    }

    add_callback_memory(snapshot, options, wanted);
    DS_TRY(check_cancel(options));

    // Keep only what can be read: windows may cross into guard pages or unmapped space.
    std::vector<MemoryRange> readable;
    for (const MemoryRange& r : normalize_ranges(std::move(wanted))) {
        auto parts = clip_to_readable(snapshot, r);
        readable.insert(readable.end(), parts.begin(), parts.end());
    }
    content.memory = normalize_ranges(std::move(readable));
    if (options.available_memory) {
        content.memory =
            intersect_ranges(content.memory, normalize_ranges(*options.available_memory));
        content.whole_pages = false;
    }
    content.zeroed = normalize_ranges(std::move(scan.zeroed));

    content.full_memory = full_memory;
    content.memory_info_list = has(flags, dump_flag::WithFullMemoryInfo);
    content.handle_data = has(flags, dump_flag::WithHandleData);
    content.thread_info = has(flags, dump_flag::WithThreadInfo);
    content.module_basenames_only =
        has(flags, dump_flag::FilterModulePaths) || has(flags, dump_flag::FilterTriage);
    content.omit_environment = has(flags, dump_flag::FilterTriage);
    content.optional_linux_streams = !(options.exclude_all_threads && options.exclude_all_modules);
    content.user_streams = options.user_streams;
    return content;
}

}  // namespace dumpscope
