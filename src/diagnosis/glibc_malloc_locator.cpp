#include "diagnosis/glibc_malloc_locator.h"

#include <elfutils/libdwfl.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/mapped_file.h"

namespace dumpscope {

namespace {

constexpr uint64_t kMaxBannerScan = 8u << 20;  // libc's .rodata is about 200 KiB
constexpr uint64_t kMaxDataScan = 1u << 20;    // libc's .data and .bss are about 60 KiB
// Arena ring steps over all candidates of the scan: a data segment full of fake rings must not
// make it quadratic (a real ring has a few dozen arenas).
constexpr uint64_t kMaxRingSteps = 1u << 20;

std::string_view base_name_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_glibc(const Module& module) {
    const std::string_view name = base_name_of(module.path);
    return name.rfind("libc.so.", 0) == 0 || (name.rfind("libc-2.", 0) == 0);
}

bool read_word(const MemorySource& memory, uint64_t addr, uint64_t& out) {
    std::array<uint8_t, 8> bytes{};
    auto n = memory.read(addr, bytes);
    if (!n.ok() || *n != bytes.size()) return false;
    std::memcpy(&out, bytes.data(), 8);
    return true;
}

std::optional<GlibcVersion> banner_in(std::span<const uint8_t> bytes) {
    static constexpr std::string_view kBanner = "GNU C Library";
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (size_t at = text.find(kBanner); at != std::string_view::npos;
         at = text.find(kBanner, at + 1)) {
        if (auto version = parse_glibc_banner(text.substr(at, 256))) return version;
    }
    return std::nullopt;
}

// main_arena from libc's symbol table (the debug file's .symtab: a local object).
std::optional<uint64_t> main_arena_symbol(const analysis::ModuleReport& report) {
    if (report.dwfl_module == nullptr) return std::nullopt;
    const int count = dwfl_module_getsymtab(report.dwfl_module);
    for (int i = 0; i < count; ++i) {
        GElf_Sym sym;
        GElf_Addr addr = 0;
        const char* name =
            dwfl_module_getsym_info(report.dwfl_module, i, &sym, &addr, nullptr, nullptr, nullptr);
        if (name != nullptr && std::strcmp(name, "main_arena") == 0 &&
            GELF_ST_TYPE(sym.st_info) == STT_OBJECT) {
            return addr;
        }
    }
    return std::nullopt;
}

// A malloc_state at `candidate`: its ring of next pointers returns to it within a bounded number
// of arenas, every other arena sits just after a heap_info at a heap-aligned address, and its top
// chunk is inside a mapping.
bool looks_like_main_arena(const Snapshot& snapshot, uint64_t candidate, const MallocLayout& layout,
                           uint64_t& steps_left) {
    const MemorySource& memory = *snapshot.memory;
    uint64_t top = 0;
    if (!read_word(memory, candidate + layout.arena_top, top) || top == 0 ||
        snapshot.mapping_at(top) == nullptr || top % layout.alignment != 0) {
        return false;
    }
    uint64_t system_mem = 0;
    if (!read_word(memory, candidate + layout.arena_system_mem, system_mem) || system_mem == 0 ||
        system_mem % 4096 != 0) {
        return false;
    }
    std::unordered_set<uint64_t> seen{candidate};
    uint64_t arena = candidate;
    for (int n = 0; n < 1024 && steps_left > 0; ++n, --steps_left) {
        uint64_t next = 0;
        if (!read_word(memory, arena + layout.arena_next, next)) return false;
        if (next == candidate) return true;
        if (next == 0 || !seen.insert(next).second) return false;
        if ((next - layout.heap_info_size) % layout.heap_max_size != 0) return false;
        arena = next;
    }
    return false;
}

}  // namespace

std::optional<uint64_t> find_main_arena_in_data(const Snapshot& snapshot, const Module& libc,
                                                const MallocLayout& layout) {
    uint64_t steps_left = kMaxRingSteps;
    for (const Mapping& m : snapshot.mappings) {
        if (m.start < libc.base || m.start >= libc.end || !m.write) continue;
        const uint64_t end = std::min(m.end, m.start + kMaxDataScan);
        for (uint64_t a = m.start; a + layout.arena_size <= end; a += 8) {
            uint64_t next = 0;
            if (!read_word(*snapshot.memory, a + layout.arena_next, next) || next == 0) continue;
            if (looks_like_main_arena(snapshot, a, layout, steps_left)) return a;
            if (steps_left == 0) return std::nullopt;
        }
    }
    return std::nullopt;
}

Result<GlibcVersion> glibc_version_of(const analysis::DwflSession& session, const Module& libc) {
    const analysis::ModuleReport* report = session.module_at(libc.base);
    if (report != nullptr && !report->files.elf_path.empty()) {
        if (auto file = MappedFile::open(report->files.elf_path); file.ok()) {
            if (auto version = banner_in(file->bytes())) return *version;
        }
    }
    // The dump's copy of libc's read-only mappings, when it has them (full dumps).
    for (const Mapping& m : session.snapshot().mappings) {
        if (m.start < libc.base || m.start >= libc.end || m.write || m.exec) continue;
        const uint64_t size = std::min(m.size(), kMaxBannerScan);
        std::vector<uint8_t> bytes(size);
        auto n = session.snapshot().memory->read(m.start, bytes);
        if (!n.ok() || *n == 0) continue;
        bytes.resize(*n);
        if (auto version = banner_in(bytes)) return *version;
    }
    return Error{
        fmt::format("which glibc release {} is cannot be told: its file is not here "
                    "(same build-id) and the dump does not hold its read-only data",
                    libc.path)};
}

Result<GlibcMalloc> locate_glibc_malloc(const analysis::DwflSession& session) {
    const Snapshot& snapshot = session.snapshot();
    const Module* libc = nullptr;
    for (const Module& m : snapshot.modules) {
        if (is_glibc(m)) libc = &m;
    }
    if (libc == nullptr) {
        return Error{
            "no glibc libc.so.6 in this process (statically linked, or another C "
            "library): its heap is not walked"};
    }
    auto version = glibc_version_of(session, *libc);
    if (!version.ok()) return version.error();
    auto layout = malloc_layout_for(*version);
    if (!layout) {
        return Error{fmt::format("glibc {}'s malloc layout is not known (known: {})",
                                 version->text(), known_malloc_layouts())};
    }
    GlibcMalloc out;
    out.libc = libc;
    out.layout = *layout;
    const analysis::ModuleReport* report = session.module_at(libc->base);
    if (report != nullptr) {
        if (auto arena = main_arena_symbol(*report)) {
            out.main_arena = *arena;
            out.found_by = "symbol main_arena";
            return out;
        }
    }
    if (auto arena = find_main_arena_in_data(snapshot, *libc, *layout)) {
        out.main_arena = *arena;
        out.found_by = "self-linked malloc_state in libc's data";
        return out;
    }
    return Error{fmt::format(
        "main_arena not found: no libc symbols (install libc6-dbg or pass --symbols) and no "
        "malloc_state in the dump's copy of {}'s data (take --type midi or full)",
        libc->path)};
}

}  // namespace dumpscope
