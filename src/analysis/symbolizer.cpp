#include "analysis/symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>
#include <memory>

#include "common/paths.h"

namespace dumpscope::analysis {

namespace {

std::string attribute_file(Dwarf_Die* cu, Dwarf_Die* die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word index = 0;
    if (dwarf_formudata(dwarf_attr(die, name, &attr), &index) != 0) return {};
    Dwarf_Files* files = nullptr;
    size_t count = 0;
    if (dwarf_getsrcfiles(cu, &files, &count) != 0 || index >= count) return {};
    const char* file = dwarf_filesrc(files, index, nullptr, nullptr);
    return file != nullptr ? file : "";
}

int attribute_int(Dwarf_Die* die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    if (dwarf_formudata(dwarf_attr(die, name, &attr), &value) != 0) return 0;
    return static_cast<int>(value);
}

// The name of a subprogram DIE: its linkage name demangled (C++: with namespaces and
// parameters, as debuggers print it), else its plain name.
std::string subprogram_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    for (unsigned name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
        if (const char* linkage = dwarf_formstring(dwarf_attr_integrate(die, name, &attr))) {
            return demangle(linkage);
        }
    }
    const char* plain = dwarf_diename(die);
    if (plain != nullptr) return plain;
    Dwarf_Die origin;
    if (dwarf_formref_die(dwarf_attr(die, DW_AT_abstract_origin, &attr), &origin) != nullptr) {
        const char* name = dwarf_diename(&origin);
        if (name != nullptr) return name;
    }
    return {};
}

// From the DWARF scopes at pc: the function (the subprogram's name, as gdb and lldb name frames,
// where the symbol table may hold a versioned alias such as pthread_cond_wait@@GLIBC_2.3.2) and
// the inlined calls, innermost first. The innermost call's position is the frame's file:line;
// each inlined_subroutine's DW_AT_call_file/line is the position in its caller.
void apply_scopes(Dwfl_Module* mod, uint64_t pc, Frame& frame) {
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, pc, &bias);
    if (cu == nullptr) return;
    Dwarf_Die* raw = nullptr;
    int count = dwarf_getscopes(cu, pc - bias, &raw);
    if (count <= 0) return;
    std::unique_ptr<Dwarf_Die, decltype(&std::free)> scopes(raw, &std::free);
    std::string file = frame.file;
    int line = frame.line;
    // dwarf_getscopes continues from an inlined call into the scopes of its abstract
    // definition; the caller's scopes come from dwarf_getscopes_die on the inlined_subroutine.
    for (int i = 0; i < count; ++i) {
        Dwarf_Die* scope = &scopes.get()[i];
        const int tag = dwarf_tag(scope);
        if (tag == DW_TAG_subprogram) {
            const std::string name = subprogram_name(scope);
            if (name.empty()) break;
            // The offset from the function's entry; a function split into ranges (hot and cold
            // parts) may have none: keep the symbol table's offset then.
            Dwarf_Addr entry = 0;
            if (dwarf_entrypc(scope, &entry) == 0) {
                if (frame.pc < entry + bias) break;
                frame.function_offset = frame.pc - (entry + bias);
            } else if (frame.function.empty()) {
                break;
            }
            frame.function = name;
            break;
        }
        if (tag != DW_TAG_inlined_subroutine) continue;
        const std::string name = subprogram_name(scope);
        frame.inlines.push_back({name.empty() ? "??" : name, file, line});
        file = attribute_file(cu, scope, DW_AT_call_file);
        line = attribute_int(scope, DW_AT_call_line);
        Dwarf_Die* outer = nullptr;
        const int outer_count = dwarf_getscopes_die(scope, &outer);
        if (outer_count <= 0) break;
        scopes.reset(outer);  // outer[0] is the inlined_subroutine itself
        count = outer_count;
        i = 0;
    }
    if (!frame.inlines.empty()) {
        frame.file = file;
        frame.line = line;
    }
}

// "pthread_cond_wait@@GLIBC_2.3.2" -> "pthread_cond_wait".
std::string without_version(const char* name) {
    std::string text = name;
    const size_t at = text.find('@');
    return at == std::string::npos || at == 0 ? text : text.substr(0, at);
}

}  // namespace

std::string demangle(const char* name) {
    if (name == nullptr) return {};
    if (name[0] != '_' || name[1] != 'Z') return name;
    int status = 0;
    char* text = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string out = status == 0 && text != nullptr ? text : name;
    std::free(text);
    return out;
}

void symbolize(const DwflSession& session, Frame& frame) {
    auto dwfl_lock = session.lock();
    const uint64_t pc = frame.lookup_pc();
    const ModuleReport* report = session.module_at(pc);
    if (report == nullptr) return;
    frame.module = base_name(report->module->path);
    frame.module_base = report->module->base;
    Dwfl_Module* mod = report->dwfl_module;
    if (mod == nullptr) return;
    GElf_Off offset = 0;
    GElf_Sym sym;
    const char* name = dwfl_module_addrinfo(mod, pc, &offset, &sym, nullptr, nullptr, nullptr);
    if (name != nullptr) {
        frame.function = demangle(without_version(name).c_str());
        frame.function_offset = frame.pc - (pc - offset);
    }
    if (Dwfl_Line* line = dwfl_module_getsrc(mod, pc)) {
        int number = 0;
        const char* file = dwfl_lineinfo(line, nullptr, &number, nullptr, nullptr, nullptr);
        if (file != nullptr) {
            frame.file = file;
            frame.line = number;
        }
    }
    apply_scopes(mod, pc, frame);
}

}  // namespace dumpscope::analysis
