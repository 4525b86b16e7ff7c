#include "analysis/debuginfod_client.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace dumpscope::analysis {

DebuginfodClient::DebuginfodClient() {
    const char* urls = std::getenv("DEBUGINFOD_URLS");
    if (urls == nullptr || *urls == '\0') return;
    library_ = ::dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr) return;
    auto begin = reinterpret_cast<void* (*)()>(::dlsym(library_, "debuginfod_begin"));
    find_executable_ = reinterpret_cast<FindFn>(::dlsym(library_, "debuginfod_find_executable"));
    find_debuginfo_ = reinterpret_cast<FindFn>(::dlsym(library_, "debuginfod_find_debuginfo"));
    end_ = reinterpret_cast<void (*)(void*)>(::dlsym(library_, "debuginfod_end"));
    if (begin != nullptr && find_executable_ != nullptr && find_debuginfo_ != nullptr &&
        end_ != nullptr) {
        client_ = begin();
    }
}

DebuginfodClient::~DebuginfodClient() {
    if (client_ != nullptr) end_(client_);
    if (library_ != nullptr) ::dlclose(library_);
}

std::optional<std::string> DebuginfodClient::find(FindFn fn,
                                                  const std::vector<uint8_t>& build_id) const {
    if (client_ == nullptr || build_id.empty()) return std::nullopt;
    char* path = nullptr;
    const int fd = fn(client_, build_id.data(), static_cast<int>(build_id.size()), &path);
    if (fd < 0) return std::nullopt;
    ::close(fd);
    std::optional<std::string> found;
    if (path != nullptr) found = path;
    std::free(path);
    return found;
}

std::optional<std::string> DebuginfodClient::find_executable(
    const std::vector<uint8_t>& build_id) const {
    return find(find_executable_, build_id);
}

std::optional<std::string> DebuginfodClient::find_debuginfo(
    const std::vector<uint8_t>& build_id) const {
    return find(find_debuginfo_, build_id);
}

}  // namespace dumpscope::analysis
