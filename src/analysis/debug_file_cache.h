// Debian's debug files (/usr/lib/debug) keep their DWARF sections zlib-compressed, and libdw
// inflates every one of them each time a file is opened: for libc that is about 90 % of the
// time `stack` takes. The cache keeps an uncompressed copy per build-id (made once with
// eu-elfcompress from elfutils), checked against the build-id on every use, so later runs read
// DWARF straight from the mapped file. Files whose sections are not compressed are used as they
// are; when the cache cannot be written the original file is used.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dumpscope::analysis {

class DebugFileCache {
public:
    // "" disables the cache.
    explicit DebugFileCache(std::string directory) : directory_(std::move(directory)) {}

    // $DUMPSCOPE_CACHE_DIR, else $XDG_CACHE_HOME/dumpscope, else $HOME/.cache/dumpscope; ""
    // when none is set or DUMPSCOPE_CACHE_DIR is "off".
    static std::string default_directory();

    // The file to give libdw for the debug file `path` of this build-id: the uncompressed copy
    // (made now if missing), or `path` itself.
    std::string usable(const std::string& path, const std::vector<uint8_t>& build_id) const;

    const std::string& directory() const { return directory_; }

private:
    std::string directory_;
};

// True if the ELF file has a compressed section (SHF_COMPRESSED or .zdebug*).
bool has_compressed_sections(const std::string& path);

}  // namespace dumpscope::analysis
