#include "elf/elf_file_contents.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>
#include <memory>

#include "common/unique_fd.h"

namespace dumpscope {

namespace {

struct ElfCloser {
    void operator()(Elf* elf) const { elf_end(elf); }
};

}  // namespace

Result<ElfFileContents> elf_file_contents(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("cannot open " + path);
    if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf is unusable"};
    std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd.get(), ELF_C_READ_MMAP, nullptr));
    if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return Error{path + " is not an ELF file"};
    GElf_Ehdr ehdr;
    if (gelf_getehdr(elf.get(), &ehdr) == nullptr)
        return Error{path + ": unreadable ELF header: " + elf_errmsg(-1)};
    size_t names = 0;
    if (elf_getshdrstrndx(elf.get(), &names) != 0)
        return Error{path + ": no section name table: " + elf_errmsg(-1)};
    ElfFileContents out;
    out.type = ehdr.e_type;
    for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
         scn = elf_nextscn(elf.get(), scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr) {
            return Error{path + ": unreadable section header " + std::to_string(elf_ndxscn(scn)) +
                         ": " + elf_errmsg(-1)};
        }
        const bool in_file = shdr.sh_type != SHT_NOBITS && shdr.sh_size > 0;
        if (!in_file) continue;
        if ((shdr.sh_flags & SHF_EXECINSTR) != 0) out.code = true;
        const char* name = elf_strptr(elf.get(), names, shdr.sh_name);
        // .zdebug_info: the old GNU compressed form; SHF_COMPRESSED keeps the name.
        if (name != nullptr &&
            (std::strcmp(name, ".debug_info") == 0 || std::strcmp(name, ".zdebug_info") == 0))
            out.debug_info = true;
    }
    return out;
}

}  // namespace dumpscope
