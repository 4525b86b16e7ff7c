#include "plan/loader_data.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

namespace dumpscope {

namespace {

constexpr size_t kMaxObjects = 4096;         // a link_map chain longer than this is corrupt
constexpr uint64_t kLinkMapPublicSize = 40;  // l_addr, l_name, l_ld, l_next, l_prev
constexpr uint64_t kRDebugSize = 40;         // r_version, r_map, r_brk, r_state, r_ldbase
constexpr uint64_t kNameBytes = 256;
constexpr uint64_t kDynamicBytes = 512;

template <typename T>
bool read_struct(const MemorySource& memory, uint64_t addr, T& out) {
    std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(&out), sizeof(T));
    auto got = memory.read(addr, bytes);
    return got.ok() && *got == sizeof(T);
}

// The address of the main executable's dynamic section and its size, from its program headers.
bool find_dynamic(const MemorySource& memory, const Module& exe, uint64_t& addr, uint64_t& size) {
    Elf64_Ehdr ehdr;
    if (!read_struct(memory, exe.base, ehdr) || std::memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0 ||
        ehdr.e_phentsize != sizeof(Elf64_Phdr) || ehdr.e_phnum > 4096)
        return false;
    std::vector<Elf64_Phdr> phdrs(ehdr.e_phnum);
    for (size_t i = 0; i < phdrs.size(); ++i)
        if (!read_struct(memory, exe.base + ehdr.e_phoff + i * sizeof(Elf64_Phdr), phdrs[i]))
            return false;
    uint64_t lowest = UINT64_MAX;
    for (const auto& p : phdrs)
        if (p.p_type == PT_LOAD) lowest = std::min(lowest, p.p_vaddr & ~uint64_t{0xfff});
    if (lowest == UINT64_MAX) return false;
    const uint64_t bias = exe.base - lowest;
    for (const auto& p : phdrs) {
        if (p.p_type != PT_DYNAMIC) continue;
        addr = bias + p.p_vaddr;
        size = p.p_memsz;
        return true;
    }
    return false;
}

}  // namespace

std::vector<MemoryRange> loader_data_ranges(const Snapshot& snapshot) {
    std::vector<MemoryRange> out;
    if (!snapshot.memory) return out;
    const MemorySource& memory = *snapshot.memory;
    auto exe = std::find_if(snapshot.modules.begin(), snapshot.modules.end(),
                            [](const Module& m) { return m.is_main_executable; });
    if (exe == snapshot.modules.end()) return out;
    uint64_t dynamic = 0, dynamic_size = 0;
    if (!find_dynamic(memory, *exe, dynamic, dynamic_size)) return out;
    dynamic_size = std::min<uint64_t>(dynamic_size, 64 * 1024);
    out.push_back({dynamic, dynamic_size});

    uint64_t r_debug = 0;
    for (uint64_t at = dynamic; at + sizeof(Elf64_Dyn) <= dynamic + dynamic_size;
         at += sizeof(Elf64_Dyn)) {
        Elf64_Dyn entry;
        if (!read_struct(memory, at, entry) || entry.d_tag == DT_NULL) break;
        if (entry.d_tag == DT_DEBUG) r_debug = entry.d_un.d_ptr;
    }
    if (r_debug == 0) return out;  // statically linked, or the loader has not run yet
    out.push_back({r_debug, kRDebugSize});
    uint64_t link_map = 0;
    if (!read_struct(memory, r_debug + 8, link_map)) return out;

    for (size_t i = 0; link_map != 0 && i < kMaxObjects; ++i) {
        uint64_t fields[5];  // l_addr, l_name, l_ld, l_next, l_prev
        if (!read_struct(memory, link_map, fields)) break;
        out.push_back({link_map, kLinkMapPublicSize});
        if (fields[1] != 0) out.push_back({fields[1], kNameBytes});
        if (fields[2] != 0) out.push_back({fields[2], kDynamicBytes});
        link_map = fields[3];
    }
    return out;
}

}  // namespace dumpscope
