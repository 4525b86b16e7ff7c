#include "analysis/stack_scanner.h"

namespace dumpscope::analysis {

bool follows_call(const DwflSession& session, uint64_t address) {
    if (address < 8) return false;
    uint8_t code[7];
    auto got = session.snapshot().memory ? session.snapshot().memory->read(address - 7, code)
                                         : Result<size_t>(size_t{0});
    if (!got.ok() || *got != sizeof(code)) return true;  // cannot tell
    if (code[2] == 0xe8) return true;                    // call rel32
    // call r/m64: FF with ModRM reg field 2, ModRM 1 to 6 bytes before the return address.
    for (int modrm_at = 6; modrm_at >= 1; --modrm_at) {
        const uint8_t modrm = code[modrm_at];
        if (code[modrm_at - 1] == 0xff && ((modrm >> 3) & 7) == 2) {
            const int length = 7 - modrm_at;  // bytes from ModRM to the return address
            const int mod = modrm >> 6;
            const int rm = modrm & 7;
            int expected = 1;                     // ModRM
            if (mod != 3 && rm == 4) ++expected;  // SIB
            if (mod == 1) expected += 1;
            if (mod == 2 || (mod == 0 && rm == 5)) expected += 4;
            if (length == expected) return true;
        }
    }
    return false;
}

std::optional<ScanHit> scan_for_return_address(const DwflSession& session, uint64_t from,
                                               uint64_t limit) {
    const Snapshot& s = session.snapshot();
    for (uint64_t slot = (from + 7) & ~uint64_t{7}; slot + 8 <= limit && slot >= from; slot += 8) {
        uint64_t value = 0;
        if (!session.read_word(slot, value)) continue;
        if (s.module_at(value) == nullptr) continue;
        const Mapping* mapping = s.mapping_at(value);
        if (mapping == nullptr || !mapping->exec) continue;
        if (!follows_call(session, value)) continue;
        return ScanHit{slot, value};
    }
    return std::nullopt;
}

}  // namespace dumpscope::analysis
