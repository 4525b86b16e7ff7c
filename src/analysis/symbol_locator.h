// Finds the files that describe a module of a dump: its ELF file (for CFI and symbols) and a
// separate debug file (for DWARF: functions, file:line). A file is used only when its build-id
// matches the one recorded in the dump; a file at the module's path with another build-id makes
// the module "mismatched" (reported, never silently used).
//
// ELF file: the path in the dump, then each --symbols DIR (DIR/.build-id/xx/rest, DIR/<name>,
// DIR/<path>), then debuginfod. Debug file: /usr/lib/debug/.build-id/xx/rest.debug, then each
// --symbols DIR (DIR/.build-id/xx/rest.debug, DIR/<name>.debug, DIR/<path>.debug), then
// debuginfod. debuginfod only when DEBUGINFOD_URLS is set.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/debug_file_cache.h"
#include "analysis/debuginfod_client.h"
#include "snapshot/snapshot.h"

namespace dumpscope::analysis {

enum class SymbolStatus {
    kMatched,     // a file with the dump's build-id
    kUnverified,  // the dump records no build-id: the file at the path is used as is
    kMismatched,  // the file at the path has another build-id and no matching file was found
    kMissing,     // no file at all
    kInMemory,    // the image in the dump itself (the vdso)
};

const char* symbol_status_name(SymbolStatus status);

struct ModuleFiles {
    SymbolStatus status = SymbolStatus::kMissing;
    std::string elf_path;  // the file used; "" when none (in-memory images, missing, mismatched)
    std::string found_by;  // "path in dump", "--symbols /dir", "debuginfod", "dump memory"
    std::string detail;    // why mismatched / missing, for `lm`
};

struct SymbolOptions {
    std::vector<std::string> symbol_dirs;  // --symbols
    std::string debug_root = "/usr/lib/debug";
    std::string cache_dir;  // uncompressed copies of debug files ("" = none): debug_file_cache.h
};

class SymbolLocator {
public:
    explicit SymbolLocator(SymbolOptions options);

    ModuleFiles locate(const Module& module) const;
    // "" if none was found; an uncompressed cached copy when the cache has or can make one.
    std::string find_debug_file(const Module& module) const;

    static bool is_vdso(const Module& module);

private:
    // The first candidate whose build-id matches `id` (a prefix match: some writers truncate).
    std::string first_matching(const std::vector<std::string>& candidates,
                               const std::vector<uint8_t>& id) const;

    SymbolOptions options_;
    DebugFileCache cache_;
    std::unique_ptr<DebuginfodClient> debuginfod_;
};

// "93ac61ec..." (lowercase hex).
std::string hex_build_id(const std::vector<uint8_t>& id);

}  // namespace dumpscope::analysis
