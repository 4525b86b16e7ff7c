#include "snapshot/cpu_context.h"

namespace dumpscope {

namespace {

template <typename F>
uint64_t read_or_zero(const std::variant<std::monostate, X86_64Registers>& regs, F get) {
    return std::visit(
        [&](const auto& r) -> uint64_t {
            if constexpr (std::is_same_v<std::decay_t<decltype(r)>, std::monostate>) {
                return 0;
            } else {
                return get(r);
            }
        },
        regs);
}

}  // namespace

CpuContext CpuContext::zeroed(Architecture arch) {
    switch (arch) {
        case Architecture::kX86_64:
            return CpuContext(X86_64Registers{});
        case Architecture::kNone:
            break;
    }
    return {};
}

Architecture CpuContext::architecture() const {
    return std::visit(
        [](const auto& r) {
            if constexpr (std::is_same_v<std::decay_t<decltype(r)>, std::monostate>) {
                return Architecture::kNone;
            } else {
                return std::decay_t<decltype(r)>::kArchitecture;
            }
        },
        regs_);
}

uint64_t CpuContext::pc() const {
    return read_or_zero(regs_, [](const auto& r) { return r.pc(); });
}
uint64_t CpuContext::sp() const {
    return read_or_zero(regs_, [](const auto& r) { return r.sp(); });
}
uint64_t CpuContext::frame() const {
    return read_or_zero(regs_, [](const auto& r) { return r.frame(); });
}
uint64_t CpuContext::tls() const {
    return read_or_zero(regs_, [](const auto& r) { return r.tls(); });
}

namespace {

template <typename F>
void write_if_known(std::variant<std::monostate, X86_64Registers>& regs, F set) {
    std::visit(
        [&](auto& r) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(r)>, std::monostate>) set(r);
        },
        regs);
}

}  // namespace

void CpuContext::set_pc(uint64_t value) {
    write_if_known(regs_, [&](auto& r) { r.set_pc(value); });
}
void CpuContext::set_sp(uint64_t value) {
    write_if_known(regs_, [&](auto& r) { r.set_sp(value); });
}
void CpuContext::set_frame(uint64_t value) {
    write_if_known(regs_, [&](auto& r) { r.set_frame(value); });
}

X86_64Registers& CpuContext::edit_x86_64() {
    if (auto* r = std::get_if<X86_64Registers>(&regs_)) return *r;
    return regs_.emplace<X86_64Registers>();
}

}  // namespace dumpscope
