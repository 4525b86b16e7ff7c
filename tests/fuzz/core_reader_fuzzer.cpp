// libFuzzer target: read_elf_core on arbitrary bytes must return a snapshot or an Error, never
// crash, hang or read outside the file (AddressSanitizer, UndefinedBehaviorSanitizer).
#include "elfcore/core_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static dumpscope::fuzz::InputFile file;
    auto snapshot = dumpscope::read_elf_core(file.hold(data, size));
    if (snapshot.ok()) dumpscope::fuzz::exercise(*snapshot);
    return 0;
}
