#include "diagnosis/dump_memory.h"

#include <elfutils/libdwfl.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <vector>

#include "analysis/symbolizer.h"

namespace dumpscope::diagnosis {

namespace {

template <typename T>
std::optional<T> read_value(const Snapshot& snapshot, uint64_t addr) {
    if (!snapshot.memory) return std::nullopt;
    std::array<uint8_t, sizeof(T)> bytes{};
    auto got = snapshot.memory->read(addr, bytes);
    if (!got.ok() || *got != sizeof(T)) return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
}

// The file name of a path.
std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::optional<uint32_t> read_u32(const Snapshot& snapshot, uint64_t addr) {
    return read_value<uint32_t>(snapshot, addr);
}

std::optional<uint64_t> read_u64(const Snapshot& snapshot, uint64_t addr) {
    return read_value<uint64_t>(snapshot, addr);
}

std::string read_text(const Snapshot& snapshot, uint64_t addr, size_t max_bytes) {
    if (!snapshot.memory || max_bytes == 0) return {};
    std::vector<uint8_t> bytes(max_bytes);
    auto got = snapshot.memory->read(addr, bytes);
    if (!got.ok()) return {};
    const size_t size = std::min(*got, bytes.size());
    size_t end = 0;
    while (end < size && bytes[end] != 0) ++end;
    return std::string(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(end));
}

std::string symbol_at(analysis::DumpAnalysis& dump, uint64_t addr) {
    auto session = dump.session();
    if (!session.ok()) return {};
    const analysis::ModuleReport* report = (*session)->module_at(addr);
    if (report == nullptr || report->dwfl_module == nullptr) return {};
    GElf_Off offset = 0;
    GElf_Sym sym{};
    const char* name =
        dwfl_module_addrinfo(report->dwfl_module, addr, &offset, &sym, nullptr, nullptr, nullptr);
    if (name == nullptr || name[0] == '\0') return {};
    if (offset >= std::max<GElf_Xword>(sym.st_size, 1)) return {};
    const std::string text = analysis::demangle(name);
    return offset == 0 ? text : fmt::format("{}+{:#x}", text, offset);
}

std::string region_at(const Snapshot& snapshot, uint64_t addr) {
    for (const Thread& t : snapshot.threads) {
        if (t.stack_start != 0 && addr >= t.stack_start && addr < t.stack_end)
            return fmt::format("stack of thread {}", t.tid);
    }
    const Mapping* m = snapshot.mapping_at(addr);
    if (m == nullptr) return "unmapped";
    if (m->path == "[heap]") return "heap";
    if (const Module* module = snapshot.module_at(addr)) {
        return base_name(module->path) + (m->write ? " data" : " image");
    }
    if (m->path.empty()) return "anonymous memory";
    return m->path;
}

std::optional<uint64_t> symbol_address(analysis::DumpAnalysis& dump,
                                       const std::string& module_prefix, const std::string& name) {
    auto session = dump.session();
    if (!session.ok()) return std::nullopt;
    for (const analysis::ModuleReport& report : (*session)->modules()) {
        if (report.dwfl_module == nullptr || report.module == nullptr) continue;
        if (base_name(report.module->path).rfind(module_prefix, 0) != 0) continue;
        const int count = dwfl_module_getsymtab(report.dwfl_module);
        for (int i = 1; i < count; ++i) {
            GElf_Sym sym{};
            GElf_Addr value = 0;
            const char* symbol_name = dwfl_module_getsym_info(report.dwfl_module, i, &sym, &value,
                                                              nullptr, nullptr, nullptr);
            if (symbol_name == nullptr) continue;
            // Exported names may carry a version: "__abort_msg@@GLIBC_PRIVATE".
            const size_t length = std::strcspn(symbol_name, "@");
            if (name.size() == length && name.compare(0, length, symbol_name, length) == 0 &&
                value != 0)
                return value;
        }
    }
    return std::nullopt;
}

const Thread* thread_by_tid(const Snapshot& snapshot, int32_t tid) {
    for (const Thread& t : snapshot.threads)
        if (t.tid == tid) return &t;
    return nullptr;
}

}  // namespace dumpscope::diagnosis
