#include "live/injection_site.h"

#include <algorithm>
#include <optional>

#include "common/align.h"
#include "elf/elf_image.h"
#include "live/injection_code.h"

namespace dumpscope {

namespace {

const Mapping* mapping_containing(const std::vector<Mapping>& mappings, uint64_t addr) {
    auto it = std::upper_bound(mappings.begin(), mappings.end(), addr,
                               [](uint64_t a, const Mapping& m) { return a < m.start; });
    if (it == mappings.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

bool usable(const Mapping& m) { return m.exec && !m.dont_fork && !m.wipe_on_fork && !m.io; }

// The first slot in the padding of one object's executable segments, if any.
std::optional<uint64_t> slot_in_object(const std::vector<Mapping>& mappings,
                                       const MemorySource& memory, const Mapping& head,
                                       uint64_t page_size) {
    auto elf = read_loaded_elf(memory, head.start);
    if (!elf.ok()) return std::nullopt;
    for (const Elf64_Phdr& ph : elf->phdrs) {
        if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
        const uint64_t segment_end = elf->bias + ph.p_vaddr + std::max(ph.p_filesz, ph.p_memsz);
        const Mapping* m = mapping_containing(mappings, segment_end - 1);
        if (m == nullptr || !usable(*m) || m->path != head.path) continue;
        const uint64_t slot = align_up(segment_end, 16);
        const uint64_t limit = std::min(align_up(segment_end, page_size), m->end);
        if (slot + kInjectionCodeSize <= limit) return slot;
    }
    return std::nullopt;
}

}  // namespace

Result<InjectionSite> find_injection_site(const std::vector<Mapping>& mappings,
                                          const MemorySource& memory, const std::string& exe_path,
                                          uint64_t page_size) {
    std::vector<const Mapping*> heads;
    for (const Mapping& m : mappings) {
        if (m.offset == 0 && m.file_backed() && m.read) heads.push_back(&m);
    }
    std::stable_partition(heads.begin(), heads.end(),
                          [&](const Mapping* m) { return m->path == exe_path; });
    for (const Mapping* head : heads) {
        if (auto slot = slot_in_object(mappings, memory, *head, page_size)) {
            return InjectionSite{*slot, head->path};
        }
    }
    return Error{"no mapped ELF object has " + std::to_string(kInjectionCodeSize) +
                 " bytes of padding after its code for the injected system call"};
}

}  // namespace dumpscope
