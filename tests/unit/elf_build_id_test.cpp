// Finding the GNU build-id among an ELF object's notes.
#include "elf/elf_build_id.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace dumpscope {
namespace {

TEST(ElfBuildIdNote, FindsTheGnuBuildIdAmongNotes) {
    // An ABI-tag note, then the build-id note (4-byte alignment).
    // clang-format off
    std::vector<uint8_t> notes = {
        4, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 'G', 'N', 'U', 0,  // NT_GNU_ABI_TAG
        0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
        4, 0, 0, 0, 5, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0,  // NT_GNU_BUILD_ID, 5 bytes
        0xde, 0xad, 0xbe, 0xef, 0x42, 0, 0, 0};
    // clang-format on
    EXPECT_EQ(find_build_id_note(notes, 4), (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef, 0x42}));
    notes.resize(notes.size() - 6);  // truncated descriptor
    EXPECT_TRUE(find_build_id_note(notes, 4).empty());
}

}  // namespace
}  // namespace dumpscope
