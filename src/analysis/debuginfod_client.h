// debuginfod through libdebuginfod, loaded at run time (libdebuginfod1 is a dependency of libdw;
// no header needed at build time). Used only when DEBUGINFOD_URLS is set and not empty: without
// it nothing ever reaches the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dumpscope::analysis {

class DebuginfodClient {
public:
    // An unusable client (no URLs, or the library cannot be loaded) answers nullopt.
    DebuginfodClient();
    ~DebuginfodClient();
    DebuginfodClient(const DebuginfodClient&) = delete;
    DebuginfodClient& operator=(const DebuginfodClient&) = delete;

    bool enabled() const { return client_ != nullptr; }
    // The path of the downloaded (cached) file, or nullopt.
    std::optional<std::string> find_executable(const std::vector<uint8_t>& build_id) const;
    std::optional<std::string> find_debuginfo(const std::vector<uint8_t>& build_id) const;

private:
    using FindFn = int (*)(void*, const unsigned char*, int, char**);
    std::optional<std::string> find(FindFn fn, const std::vector<uint8_t>& build_id) const;

    void* library_ = nullptr;
    void* client_ = nullptr;
    FindFn find_executable_ = nullptr;
    FindFn find_debuginfo_ = nullptr;
    void (*end_)(void*) = nullptr;
};

}  // namespace dumpscope::analysis
