// libFuzzer target: read_minidump on arbitrary bytes must return a snapshot or an Error, never
// crash, hang or read outside the file (AddressSanitizer, UndefinedBehaviorSanitizer).
#include "fuzz_input.h"
#include "minidump/minidump_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static dumpscope::fuzz::InputFile file;
    auto snapshot = dumpscope::read_minidump(file.hold(data, size));
    if (snapshot.ok()) dumpscope::fuzz::exercise(*snapshot);
    return 0;
}
