#include "minidump/page_protection.h"

#include "minidump/minidump_format.h"

namespace dumpscope::minidump {

namespace {

struct Protection {
    uint32_t value;
    PageAccess access;
};

constexpr Protection kProtections[] = {
#define DS_PAGE_PROTECTION(identifier, value, name, r, w, x, cow) {value, {r, w, x, cow}},
#define DS_PAGE_MODIFIER(identifier, value, name)
#include "minidump/page_protections.def"
#undef DS_PAGE_PROTECTION
#undef DS_PAGE_MODIFIER
};

}  // namespace

uint32_t page_protection(const Mapping& mapping) {
    const bool write = mapping.write;
    const PageAccess wanted{mapping.read || write, write, mapping.exec,
                            write && !mapping.shared && mapping.file_backed()};
    for (const Protection& p : kProtections) {
        if (p.access.read == wanted.read && p.access.write == wanted.write &&
            p.access.execute == wanted.execute && p.access.copy_on_write == wanted.copy_on_write) {
            return p.value;
        }
    }
    return kPageNoAccess;  // not reached: the table has every combination
}

PageAccess page_access(uint32_t protect) {
    PageAccess access;
    for (const Protection& p : kProtections) {
        if ((protect & p.value) == 0) continue;
        access.read |= p.access.read;
        access.write |= p.access.write;
        access.execute |= p.access.execute;
        access.copy_on_write |= p.access.copy_on_write;
    }
    return access;
}

}  // namespace dumpscope::minidump
