#include "analysis/dwfl_session.h"

#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "arch/arch.h"
#include "elf/core_header.h"

namespace dumpscope::analysis {

namespace {

char* copy_string(const std::string& text) { return ::strdup(text.c_str()); }

}  // namespace

DwflSession::DwflSession(const Snapshot& snapshot, const SymbolOptions& options)
    : snapshot_(snapshot), locator_(options) {}

DwflSession::~DwflSession() {
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
    if (arch_elf_ != nullptr) elf_end(arch_elf_);
}

Result<std::unique_ptr<DwflSession>> DwflSession::create(const Snapshot& snapshot,
                                                         const SymbolOptions& options) {
    std::unique_ptr<DwflSession> session(new DwflSession(snapshot, options));
    session->callbacks_.find_elf = &DwflSession::find_elf;
    session->callbacks_.find_debuginfo = &DwflSession::find_debuginfo;
    session->callbacks_.section_address = dwfl_offline_section_address;
    session->dwfl_ = dwfl_begin(&session->callbacks_);
    if (session->dwfl_ == nullptr) {
        return Error{std::string("cannot start libdwfl: ") + dwfl_errmsg(-1)};
    }
    DS_TRY(session->report_modules());
    DS_TRY(session->attach_state());
    return session;
}

Status DwflSession::report_modules() {
    modules_.reserve(snapshot_.modules.size());
    for (const Module& module : snapshot_.modules) {
        ModuleReport report;
        report.module = &module;
        report.locator = &locator_;
        report.files = locator_.locate(module);
        if (report.files.status == SymbolStatus::kInMemory) {
            report.image.resize(module.size());
            auto got = snapshot_.memory ? snapshot_.memory->read(module.base, report.image)
                                        : Result<size_t>(size_t{0});
            if (!got.ok() || *got != report.image.size()) {
                report.image.clear();
                report.files.status = SymbolStatus::kMissing;
                report.files.detail = "its image is not in the dump";
            }
        }
        modules_.push_back(std::move(report));
    }
    dwfl_report_begin(dwfl_);
    for (ModuleReport& report : modules_) {
        const bool usable = !report.files.elf_path.empty() || !report.image.empty();
        if (!usable || report.module->end <= report.module->base) continue;
        Dwfl_Module* mod = dwfl_report_module(dwfl_, report.module->path.c_str(),
                                              report.module->base, report.module->end);
        if (mod == nullptr) continue;  // overlaps a module reported before: leave it out
        void** userdata = nullptr;
        dwfl_module_info(mod, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        *userdata = &report;
        report.dwfl_module = mod;
    }
    if (dwfl_report_end(dwfl_, nullptr, nullptr) != 0) {
        return Error{std::string("libdwfl rejected the module list: ") + dwfl_errmsg(-1)};
    }
    return {};
}

Status DwflSession::attach_state() {
    // The architecture comes from this header, so unwinding works even when no module file is
    // available.
    arch_header_.assign(sizeof(Elf64_Ehdr), 0);
    const Elf64_Ehdr header = core_elf_header(0, 0);
    std::memcpy(arch_header_.data(), &header, sizeof(header));
    elf_version(EV_CURRENT);
    arch_elf_ = elf_memory(reinterpret_cast<char*>(arch_header_.data()), arch_header_.size());
    if (arch_elf_ == nullptr) return Error{std::string("libelf: ") + elf_errmsg(-1)};
    static const Dwfl_Thread_Callbacks kCallbacks = {&DwflSession::next_thread,
                                                     &DwflSession::get_thread,
                                                     &DwflSession::memory_read,
                                                     &DwflSession::set_initial_registers,
                                                     nullptr,
                                                     nullptr};
    const pid_t pid = snapshot_.process.pid > 0 ? snapshot_.process.pid : 1;
    if (!dwfl_attach_state(dwfl_, arch_elf_, pid, &kCallbacks, this)) {
        return Error{std::string("libdwfl cannot attach the thread state: ") + dwfl_errmsg(-1)};
    }
    return {};
}

const ModuleReport* DwflSession::module_at(uint64_t addr) const {
    const Module* module = snapshot_.module_at(addr);
    if (module == nullptr) return nullptr;
    return &modules_[static_cast<size_t>(module - snapshot_.modules.data())];
}

int DwflSession::walk(const CpuContext& regs, int (*callback)(Dwfl_Frame*, void*), void* arg) {
    pid_t tid = 0;
    {
        std::lock_guard<std::mutex> guard(walks_mutex_);
        do {  // ids of walks still in progress are skipped after a wrap-around
            tid = next_walk_tid_;
            next_walk_tid_ = next_walk_tid_ == INT32_MAX ? 1 : next_walk_tid_ + 1;
        } while (walks_.count(tid) != 0);
        walks_[tid] = &regs;
    }
    int result = 0;
    {
        auto dwfl_lock = lock();
        result = dwfl_getthread_frames(dwfl_, tid, callback, arg);
    }
    std::lock_guard<std::mutex> guard(walks_mutex_);
    walks_.erase(tid);
    return result;
}

const CpuContext* DwflSession::walk_registers(pid_t tid) const {
    std::lock_guard<std::mutex> guard(walks_mutex_);
    auto it = walks_.find(tid);
    return it == walks_.end() ? nullptr : it->second;
}

bool DwflSession::has_cfi(uint64_t pc) const {
    auto dwfl_lock = lock();
    Dwfl_Module* mod = dwfl_addrmodule(dwfl_, pc);
    if (mod == nullptr) return false;
    for (int source = 0; source < 2; ++source) {
        Dwarf_Addr bias = 0;
        Dwarf_CFI* cfi =
            source == 0 ? dwfl_module_eh_cfi(mod, &bias) : dwfl_module_dwarf_cfi(mod, &bias);
        if (cfi == nullptr) continue;
        Dwarf_Frame* frame = nullptr;
        if (dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0) {
            std::free(frame);
            return true;
        }
    }
    return false;
}

bool DwflSession::read_word(uint64_t addr, uint64_t& value) const {
    if (!snapshot_.memory) return false;
    uint8_t bytes[8];
    auto got = snapshot_.memory->read(addr, bytes);
    if (!got.ok() || *got != sizeof(bytes)) return false;
    std::memcpy(&value, bytes, sizeof(value));
    return true;
}

int DwflSession::find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name,
                          Elf** elfp) {
    auto* report = static_cast<ModuleReport*>(*userdata);
    if (report == nullptr) return -1;
    if (!report->image.empty()) {
        *elfp = elf_memory(reinterpret_cast<char*>(report->image.data()), report->image.size());
        return -1;
    }
    const int fd = ::open(report->files.elf_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) *file_name = copy_string(report->files.elf_path);
    return fd;
}

int DwflSession::find_debuginfo(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*,
                                const char*, GElf_Word, char** debuginfo_file_name) {
    auto* report = static_cast<ModuleReport*>(*userdata);
    if (report == nullptr || report->locator == nullptr) return -1;
    report->debug_path = report->locator->find_debug_file(*report->module);
    if (report->debug_path.empty()) return -1;
    const int fd = ::open(report->debug_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) *debuginfo_file_name = copy_string(report->debug_path);
    return fd;
}

pid_t DwflSession::next_thread(Dwfl*, void*, void**) {
    // Only dwfl_getthread_frames is used, which asks for its thread by id: nothing to list.
    return 0;
}

bool DwflSession::get_thread(Dwfl*, pid_t tid, void* arg, void** thread_arg) {
    const CpuContext* regs = static_cast<const DwflSession*>(arg)->walk_registers(tid);
    if (regs == nullptr) return false;
    *thread_arg = const_cast<CpuContext*>(regs);
    return true;
}

bool DwflSession::memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
    uint64_t value = 0;
    if (!static_cast<const DwflSession*>(arg)->read_word(addr, value)) return false;
    *result = value;
    return true;
}

bool DwflSession::set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
    const CpuContext& context = *static_cast<const CpuContext*>(thread_arg);
    const arch::ArchOps* arch = arch::ops(context.architecture());
    if (arch == nullptr) return false;
    const std::vector<uint64_t> values = arch->dwarf_registers(context);
    const std::vector<Dwarf_Word> regs(values.begin(), values.end());
    if (!dwfl_thread_state_registers(thread, 0, static_cast<unsigned>(regs.size()), regs.data())) {
        return false;
    }
    dwfl_thread_state_register_pc(thread, context.pc());
    return true;
}

}  // namespace dumpscope::analysis
