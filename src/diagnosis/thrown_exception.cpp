#include "diagnosis/thrown_exception.h"

#include <cxxabi.h>

#include <array>
#include <cstdlib>
#include <string_view>

#include "arch/arch.h"
#include "diagnosis/dump_memory.h"

namespace dumpscope::diagnosis {

namespace {

// _Unwind_Exception::exception_class of libstdc++'s exceptions: "GNUCC++" and a last byte of 0
// (primary) or 1 (dependent), the first letter in the most significant byte.
constexpr uint64_t kPrimaryClass = 0x474e5543432b2b00;
constexpr uint64_t kDependentClass = 0x474e5543432b2b01;
// x86-64: the _Unwind_Exception (class, cleanup, two private words) is 32 bytes and ends where the
// thrown object begins; it is the last member of __cxa_exception, 80 bytes after its first
// (exceptionType; in a __cxa_dependent_exception, primaryException).
constexpr uint64_t kUnwindHeaderSize = 32;
constexpr uint64_t kHeaderFirstField = 80;
constexpr uint64_t kStackScanBytes = 64 * 1024;
constexpr size_t kMaxTypeName = 256;
constexpr size_t kMaxWhat = 512;
constexpr int kMaxBaseDepth = 8;
constexpr std::string_view kTypeinfoFor = "typeinfo for ";

bool printable(const std::string& text) {
    if (text.empty()) return false;
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return false;
    return true;
}

// A type_info's mangled name ("11ConfigError"; a leading '*' marks a name not to be merged) as
// C++ spells the type.
std::string demangled_type(std::string name) {
    if (!name.empty() && name[0] == '*') name.erase(0, 1);
    int status = 0;
    char* text = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
    std::string out = status == 0 && text != nullptr ? text : name;
    std::free(text);
    return out;
}

// The type a std::type_info at `address` describes: its symbol (typeinfo for X) when the module
// has symbols, else its name string from memory.
std::string type_name(analysis::DumpAnalysis& dump, uint64_t address) {
    const std::string symbol = symbol_at(dump, address);
    if (symbol.rfind(kTypeinfoFor, 0) == 0) return symbol.substr(kTypeinfoFor.size());
    auto name = read_u64(dump.snapshot(), address + 8);
    if (!name) return {};
    const std::string text = read_text(dump.snapshot(), *name, kMaxTypeName);
    return printable(text) ? demangled_type(text) : std::string();
}

// The object `word` points to, if it is a thrown object or its unwind header.
std::optional<uint64_t> thrown_object_at(const Snapshot& s, uint64_t word) {
    for (const uint64_t header : {word, word - kUnwindHeaderSize}) {
        if (header < kHeaderFirstField || header > word) continue;
        auto cls = read_u64(s, header);
        if (!cls) continue;
        if (*cls == kPrimaryClass) return header + kUnwindHeaderSize;
        if (*cls == kDependentClass) {
            auto primary = read_u64(s, header - kHeaderFirstField);
            if (!primary || *primary < kUnwindHeaderSize) continue;
            auto primary_class = read_u64(s, *primary - kUnwindHeaderSize);
            if (primary_class && *primary_class == kPrimaryClass) return *primary;
        }
    }
    return std::nullopt;
}

// what() of a std::runtime_error or std::logic_error (or a class derived from one through single
// inheritance): their one member is a reference-counted string, a pointer to its characters, just
// after the vtable pointer.
std::string what_of(analysis::DumpAnalysis& dump, uint64_t object, uint64_t type_info) {
    const Snapshot& s = dump.snapshot();
    uint64_t type = type_info;
    for (int depth = 0; depth < kMaxBaseDepth; ++depth) {
        const std::string name = type_name(dump, type);
        if (name == "std::runtime_error" || name == "std::logic_error") {
            auto text = read_u64(s, object + 8);
            if (!text) return {};
            std::string what = read_text(s, *text, kMaxWhat);
            return printable(what) ? what : std::string();
        }
        auto vtable = read_u64(s, type);
        if (!vtable) return {};
        // Only a __si_class_type_info has a single base, at +16.
        if (symbol_at(dump, *vtable).rfind("vtable for __cxxabiv1::__si_class_type_info", 0) != 0)
            return {};
        auto base = read_u64(s, type + 16);
        if (!base) return {};
        type = *base;
    }
    return {};
}

std::optional<ThrownException> exception_from(analysis::DumpAnalysis& dump, uint64_t word) {
    auto object = thrown_object_at(dump.snapshot(), word);
    if (!object) return std::nullopt;
    auto type_info = read_u64(dump.snapshot(), *object - kUnwindHeaderSize - kHeaderFirstField);
    if (!type_info || dump.snapshot().module_at(*type_info) == nullptr) return std::nullopt;
    ThrownException e;
    e.object = *object;
    e.type_info = *type_info;
    e.type = type_name(dump, *type_info);
    if (e.type.empty()) return std::nullopt;
    e.what = what_of(dump, *object, *type_info);
    return e;
}

}  // namespace

std::optional<ThrownException> find_thrown_exception(analysis::DumpAnalysis& dump,
                                                     const CpuContext& context) {
    for (const arch::NamedRegister& reg : arch::general_registers(context))
        if (auto e = exception_from(dump, reg.value)) return e;
    for (uint64_t offset = 0; offset < kStackScanBytes; offset += 8) {
        auto word = read_u64(dump.snapshot(), context.sp() + offset);
        if (!word) break;
        if (auto e = exception_from(dump, *word)) return e;
    }
    return std::nullopt;
}

}  // namespace dumpscope::diagnosis
