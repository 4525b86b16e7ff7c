#include "readers/dump_reader.h"

#include <cstdio>

#include "elfcore/core_reader.h"
#include "elfcore/core_summary.h"
#include "minidump/minidump_reader.h"
#include "minidump/minidump_summary.h"

namespace dumpscope {

Result<Snapshot> read_dump_file(const std::string& path, std::string* format) {
    if (looks_like_minidump(path)) {
        if (format != nullptr) *format = "minidump";
        return read_minidump(path);
    }
    if (looks_like_elf_core(path)) {
        if (format != nullptr) *format = "elf-core";
        return read_elf_core(path);
    }
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return errno_error("cannot open " + path);
    std::fclose(f);
    return Error{path + " is neither a minidump nor an ELF core file"};
}

}  // namespace dumpscope
