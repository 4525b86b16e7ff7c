// The fuzz targets' input as a file: the readers take a path and map it, so each input is
// written to an in-memory file (memfd) and read through /proc/self/fd/N. No disk is touched.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "snapshot/snapshot.h"

namespace dumpscope::fuzz {

class InputFile {
public:
    InputFile() : fd_(::memfd_create("dumpscope-fuzz", MFD_CLOEXEC)) {}
    ~InputFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    // The path of a file holding exactly these bytes.
    std::string hold(const uint8_t* data, size_t size) {
        if (::ftruncate(fd_, 0) != 0 ||
            ::pwrite(fd_, data, size, 0) != static_cast<ssize_t>(size)) {
            ::abort();
        }
        return "/proc/self/fd/" + std::to_string(fd_);
    }

private:
    int fd_;
};

// Touches what a reader produced the way the analysis does: every mapping's and thread's memory
// through the MemorySource (short reads included) and the lookups over the model.
inline void exercise(const Snapshot& s) {
    uint8_t buffer[256];
    for (const Mapping& m : s.mappings) {
        if (s.memory) {
            (void)s.memory->read(m.start, buffer);
            (void)s.memory->bytes_present(m.start, m.size());
        }
        (void)s.module_at(m.start);
    }
    for (const Thread& t : s.threads) {
        if (s.memory) (void)s.memory->read(t.regs.sp(), buffer);
        (void)s.mapping_at(t.regs.pc());
    }
}

}  // namespace dumpscope::fuzz
