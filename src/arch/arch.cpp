#include "arch/arch.h"

#include <fmt/format.h>

#include "arch/x86_64.h"

namespace dumpscope::arch {

namespace {

// Every architecture dumpscope knows: one line per arch/<name>.cpp.
const ArchOps* const kAll[] = {
    &x86_64::kOps,
};

}  // namespace

const ArchOps* ops(Architecture architecture) {
    for (const ArchOps* o : kAll) {
        if (o->architecture == architecture) return o;
    }
    return nullptr;
}

const ArchOps* ops_for_elf_machine(uint16_t machine) {
    for (const ArchOps* o : kAll) {
        if (o->elf_machine == machine) return o;
    }
    return nullptr;
}

const ArchOps* ops_for_minidump_processor(uint16_t processor) {
    for (const ArchOps* o : kAll) {
        if (o->minidump_processor == processor) return o;
    }
    return nullptr;
}

const ArchOps& ops_or_first(const CpuContext& context) {
    const ArchOps* o = ops(context.architecture());
    return o != nullptr ? *o : *kAll[0];
}

Result<const ArchOps*> ops_of(const CpuContext& context, std::string_view what) {
    const ArchOps* o = ops(context.architecture());
    if (o == nullptr) return Error{fmt::format("{} has no registers", what)};
    return o;
}

std::vector<NamedRegister> general_registers(const CpuContext& context) {
    const ArchOps* o = ops(context.architecture());
    return o != nullptr ? o->general_registers(context) : std::vector<NamedRegister>{};
}

std::vector<VectorRegister> vector_registers(const CpuContext& context) {
    const ArchOps* o = ops(context.architecture());
    return o != nullptr ? o->vector_registers(context) : std::vector<VectorRegister>{};
}

std::string registers_text(const CpuContext& context) {
    const ArchOps* o = ops(context.architecture());
    return o != nullptr ? o->registers_text(context) : std::string{};
}

SyscallState syscall_from_context(const CpuContext& context) {
    const ArchOps* o = ops(context.architecture());
    return o != nullptr ? o->syscall(context) : SyscallState{};
}

}  // namespace dumpscope::arch
