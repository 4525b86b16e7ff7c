// A small synthetic snapshot written with dumpscope's own writers into a temporary directory:
// the input of the reader tests (round trips, malformed variants, fuzz seeds).
#pragma once

#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "elfcore/core_writer.h"
#include "minidump/minidump_writer.h"
#include "output/dump_content.h"
#include "output/dump_file.h"
#include "output/write_context.h"
#include "snapshot/snapshot.h"
#include "synthetic_snapshot.h"

namespace dumpscope::test {
// A temporary directory removed with everything in it.
class ScratchDir {
public:
    ScratchDir() {
        char pattern[] = "/tmp/dumpscope-readers-XXXXXX";
        if (::mkdtemp(pattern) != nullptr) path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Writes a snapshot as a minidump (core = false) or an ELF core; returns the path or "" on
// failure.
inline std::string write_snapshot(const std::string& path, bool core, Snapshot snapshot,
                                  const DumpContent& content = synthetic_content()) {
    auto file = DumpFile::create(path, true);
    if (!file.ok()) return "";
    WriteContext ctx;
    auto size = core ? write_elf_core(snapshot, content, *file, ctx)
                     : write_minidump(snapshot, content, *file, ctx);
    if (!size.ok() || !file->commit(*size).ok()) return "";
    return path;
}

// The synthetic snapshot, written as write_snapshot does.
inline std::string write_synthetic(const std::string& path, bool core,
                                   const DumpContent& content = synthetic_content()) {
    return write_snapshot(path, core, synthetic_snapshot(), content);
}

inline std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
T get(const std::vector<uint8_t>& bytes, uint64_t offset) {
    T value{};
    if (offset + sizeof(T) <= bytes.size()) std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

template <typename T>
void put(std::vector<uint8_t>& bytes, uint64_t offset, T value) {
    if (offset + sizeof(T) <= bytes.size()) std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

}  // namespace dumpscope::test
