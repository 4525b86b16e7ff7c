#include "analysis/debug_file_cache.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "analysis/symbol_locator.h"
#include "elf/elf_build_id.h"

extern char** environ;

namespace dumpscope::analysis {

namespace {

struct ElfCloser {
    void operator()(Elf* elf) const { elf_end(elf); }
};

bool matches(const std::string& path, const std::vector<uint8_t>& build_id) {
    auto id = build_id_from_file(path);
    return id.ok() && *id == build_id;
}

// eu-elfcompress -t none -o OUT IN; true on success.
bool decompress(const std::string& in, const std::string& out) {
    const char* argv[] = {"eu-elfcompress", "-q",       "-f",   "-t", "none", "-o",
                          out.c_str(),      in.c_str(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t child = 0;
    const int spawned =
        posix_spawnp(&child, argv[0], &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) return false;
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

std::string DebugFileCache::default_directory() {
    if (const char* dir = std::getenv("DUMPSCOPE_CACHE_DIR")) {
        return std::strcmp(dir, "off") == 0 ? "" : dir;
    }
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
        return std::string(xdg) + "/dumpscope";
    }
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
        return std::string(home) + "/.cache/dumpscope";
    }
    return "";
}

bool has_compressed_sections(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    elf_version(EV_CURRENT);
    std::unique_ptr<Elf, ElfCloser> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr));
    bool compressed = false;
    size_t strings = 0;
    if (elf && elf_getshdrstrndx(elf.get(), &strings) == 0) {
        for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr && !compressed;
             scn = elf_nextscn(elf.get(), scn)) {
            GElf_Shdr shdr;
            if (gelf_getshdr(scn, &shdr) == nullptr) continue;
            const char* name = elf_strptr(elf.get(), strings, shdr.sh_name);
            compressed = (shdr.sh_flags & SHF_COMPRESSED) != 0 ||
                         (name != nullptr && std::strncmp(name, ".zdebug", 7) == 0);
        }
    }
    ::close(fd);
    return compressed;
}

std::string DebugFileCache::usable(const std::string& path,
                                   const std::vector<uint8_t>& build_id) const {
    if (directory_.empty() || build_id.empty()) return path;
    std::string cached = directory_ + "/debug/" + hex_build_id(build_id) + ".debug";
    if (matches(cached, build_id)) return cached;
    if (!has_compressed_sections(path)) return path;
    std::error_code error;
    std::filesystem::create_directories(directory_ + "/debug", error);
    if (error) return path;
    // A private name, then an atomic rename: concurrent runs never see half a file.
    std::string temporary = cached + ".XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) return path;
    ::close(fd);
    if (decompress(path, temporary) && matches(temporary, build_id) &&
        ::rename(temporary.c_str(), cached.c_str()) == 0) {
        return cached;
    }
    ::unlink(temporary.c_str());
    return path;
}

}  // namespace dumpscope::analysis
