#include "analysis/symbol_locator.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <string_view>

#include "common/hex.h"
#include "common/paths.h"
#include "elf/elf_build_id.h"

namespace dumpscope::analysis {

namespace {

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// "xx/rest" of a build-id, as .build-id directories lay files out.
std::string build_id_path(const std::vector<uint8_t>& id) {
    const std::string hex = hex_build_id(id);
    return hex.size() < 3 ? std::string() : hex.substr(0, 2) + "/" + hex.substr(2);
}

bool id_matches(const std::vector<uint8_t>& file_id, const std::vector<uint8_t>& dump_id) {
    return !dump_id.empty() && file_id.size() >= dump_id.size() &&
           std::equal(dump_id.begin(), dump_id.end(), file_id.begin());
}

}  // namespace

const char* symbol_status_name(SymbolStatus status) {
    switch (status) {
        case SymbolStatus::kMatched:
            return "matched";
        case SymbolStatus::kUnverified:
            return "unverified";
        case SymbolStatus::kMismatched:
            return "mismatched";
        case SymbolStatus::kMissing:
            return "missing";
        case SymbolStatus::kInMemory:
            return "in-memory";
    }
    return "unknown";
}

std::string hex_build_id(const std::vector<uint8_t>& id) { return to_hex(id); }

SymbolLocator::SymbolLocator(SymbolOptions options)
    : options_(std::move(options)),
      cache_(options_.cache_dir),
      debuginfod_(std::make_unique<DebuginfodClient>()) {}

bool SymbolLocator::is_vdso(const Module& module) {
    return module.path == kVdsoModuleName || module.path == "[vdso]";
}

std::string SymbolLocator::first_matching(const std::vector<std::string>& candidates,
                                          const std::vector<uint8_t>& id) const {
    for (const std::string& path : candidates) {
        if (!is_file(path)) continue;
        auto file_id = build_id_from_file(path);
        if (file_id.ok() && id_matches(*file_id, id)) return path;
    }
    return {};
}

ModuleFiles SymbolLocator::locate(const Module& module) const {
    ModuleFiles files;
    if (is_vdso(module)) {
        files.status = SymbolStatus::kInMemory;
        files.found_by = "dump memory";
        return files;
    }
    if (module.build_id.empty()) {
        if (is_file(module.path)) {
            files.status = SymbolStatus::kUnverified;
            files.elf_path = module.path;
            files.found_by = "path in dump";
            files.detail = "the dump records no build-id";
        } else {
            files.detail = "the dump records no build-id and " + module.path + " does not exist";
        }
        return files;
    }
    std::vector<std::string> candidates{module.path};
    const std::string by_id = build_id_path(module.build_id);
    for (const std::string& dir : options_.symbol_dirs) {
        candidates.push_back(fmt::format("{}/.build-id/{}", dir, by_id));
        candidates.push_back(
            fmt::format("{}/{}", dir, base_name(path_before_deletion(module.path))));
        candidates.push_back(fmt::format("{}/{}", dir, path_before_deletion(module.path)));
    }
    candidates.push_back(options_.debug_root + "/.build-id/" + by_id);
    const std::string found = first_matching(candidates, module.build_id);
    if (!found.empty()) {
        files.status = SymbolStatus::kMatched;
        files.elf_path = found;
        files.found_by = found == module.path ? "path in dump" : "symbol path";
        return files;
    }
    if (auto downloaded = debuginfod_->find_executable(module.build_id)) {
        files.status = SymbolStatus::kMatched;
        files.elf_path = *downloaded;
        files.found_by = "debuginfod";
        return files;
    }
    if (is_file(module.path)) {
        auto file_id = build_id_from_file(module.path);
        files.status = SymbolStatus::kMismatched;
        files.detail = module.path + " has build-id " +
                       (file_id.ok() ? hex_build_id(*file_id) : std::string("(none)")) +
                       ", the dump " + hex_build_id(module.build_id);
    } else {
        files.detail = module.path + " does not exist";
    }
    return files;
}

std::string SymbolLocator::find_debug_file(const Module& module) const {
    if (module.build_id.empty()) return {};
    const std::string by_id = build_id_path(module.build_id);
    std::vector<std::string> candidates{options_.debug_root + "/.build-id/" + by_id + ".debug"};
    for (const std::string& dir : options_.symbol_dirs) {
        candidates.push_back(fmt::format("{}/.build-id/{}.debug", dir, by_id));
        candidates.push_back(
            fmt::format("{}/{}.debug", dir, base_name(path_before_deletion(module.path))));
        candidates.push_back(fmt::format("{}/{}.debug", dir, path_before_deletion(module.path)));
    }
    std::string found = first_matching(candidates, module.build_id);
    if (found.empty()) {
        if (auto downloaded = debuginfod_->find_debuginfo(module.build_id)) found = *downloaded;
    }
    return found.empty() ? found : cache_.usable(found, module.build_id);
}

}  // namespace dumpscope::analysis
