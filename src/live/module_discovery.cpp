#include "live/module_discovery.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "elf/elf_build_id.h"
#include "elf/elf_image.h"
#include "live/proc_files.h"

namespace dumpscope {

namespace {

struct Group {
    const Mapping* first = nullptr;  // the offset-0 mapping
    uint64_t end = 0;
    bool any_exec = false;
};

bool same_file(const Mapping& a, const Mapping& b) {
    return a.inode == b.inode && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor &&
           a.path == b.path;
}

// The file behind a mapping as this process can open it: map_files works for deleted files and
// other mount namespaces; /proc/PID/root + path for other mount namespaces; the path itself.
std::vector<uint8_t> build_id_from_files(const Mapping& mapping, int32_t pid) {
    std::vector<std::string> candidates;
    if (pid > 0) {
        char range[64];
        std::snprintf(range, sizeof(range), "/%" PRIx64 "-%" PRIx64, mapping.start, mapping.end);
        candidates.push_back(proc_dir(pid) + "/map_files" + range);
        candidates.push_back(proc_dir(pid) + "/root" + mapping.path);
    }
    candidates.push_back(mapping.path);
    for (const auto& path : candidates) {
        auto id = build_id_from_file(path);
        if (id.ok()) return std::move(id).value();
    }
    return {};
}

Module make_module(const Group& group, const std::vector<Mapping>& mappings,
                   const MemorySource& memory, int32_t pid) {
    Module module;
    module.path = group.first->path;
    module.base = group.first->start;
    module.end = group.end;
    auto elf = read_loaded_elf(memory, module.base);
    // .bss: an anonymous read-write mapping starting exactly where the file's mappings end.
    // The kernel may have merged it with later anonymous memory: stop at the end of the
    // highest PT_LOAD (p_memsz) when the program headers say where that is.
    auto next = std::lower_bound(mappings.begin(), mappings.end(), module.end,
                                 [](const Mapping& m, uint64_t at) { return m.start < at; });
    if (next != mappings.end() && next->start == module.end && next->inode == 0 &&
        next->path.empty() && next->read && next->write && !next->shared) {
        uint64_t image_end = elf ? elf->image_end() : 0;
        module.end =
            image_end == 0 ? next->end : std::max(module.end, std::min(next->end, image_end));
    }
    auto id = elf ? build_id_from_memory(memory, *elf) : Result<std::vector<uint8_t>>(elf.error());
    module.build_id = id.ok() ? std::move(id).value() : build_id_from_files(*group.first, pid);
    return module;
}

}  // namespace

std::vector<Module> discover_modules(const std::vector<Mapping>& mappings,
                                     const MemorySource& memory, const std::string& exe_path,
                                     int32_t pid) {
    std::vector<Group> groups;
    for (const Mapping& mapping : mappings) {
        if (!mapping.file_backed()) continue;
        // Later mappings of a file join its most recent group; offset 0 starts a new one.
        auto open = std::find_if(groups.rbegin(), groups.rend(),
                                 [&](const Group& g) { return same_file(*g.first, mapping); });
        if (mapping.offset != 0 && open != groups.rend() && mapping.start >= open->end) {
            open->end = mapping.end;
            open->any_exec = open->any_exec || mapping.exec;
            continue;
        }
        if (mapping.offset != 0) continue;  // a window into a file, not a loaded image
        groups.push_back(Group{&mapping, mapping.end, mapping.exec});
    }

    std::vector<Module> modules;
    for (const Group& group : groups) {
        bool is_exe = !exe_path.empty() && group.first->path == exe_path;
        if (!group.any_exec && !is_exe) continue;  // e.g. a file mmapped for reading
        if (!is_elf_image(memory, group.first->start)) continue;
        Module module = make_module(group, mappings, memory, pid);
        module.is_main_executable = is_exe;
        modules.push_back(std::move(module));
    }
    // Only the first image of the executable is the main one (it may be mapped again).
    bool seen_exe = false;
    for (Module& module : modules) {
        if (module.is_main_executable && seen_exe) module.is_main_executable = false;
        seen_exe = seen_exe || module.is_main_executable;
    }

    for (const Mapping& mapping : mappings) {
        if (mapping.path != "[vdso]") continue;
        Module vdso;
        vdso.path = kVdsoModuleName;
        vdso.base = mapping.start;
        vdso.end = mapping.end;
        auto id = build_id_from_memory(memory, vdso.base);
        if (id.ok()) vdso.build_id = std::move(id).value();
        modules.push_back(std::move(vdso));
    }
    std::sort(modules.begin(), modules.end(),
              [](const Module& a, const Module& b) { return a.base < b.base; });
    return modules;
}

}  // namespace dumpscope
