// `dumpscope server`: the dump service in its single-process mode (service/server.h,
// docs/service.md).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "service/ingest_load.h"

namespace dumpscope {

class ServerCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return command_ != nullptr && command_->parsed(); }
    int run() const;

private:
    CLI::App* command_ = nullptr;
    std::string listen_ = "127.0.0.1:8470";
    std::string data_ = "./dumpscope-data";
    std::string store_;
    std::string token_;
    std::string database_;
    uint64_t lease_seconds_ = 60;
    uint64_t max_upload_mb_ = 256;
    uint64_t max_symbol_mb_ = 1024;
    uint64_t uploads_per_minute_ = 0;
    unsigned workers_ = 2;
    uint64_t quota_mb_ = 0;
    uint64_t max_per_signature_ = 0;
    uint64_t keep_first_ = 2;
    uint64_t keep_last_ = 2;
    std::vector<std::string> symbol_dirs_;
    bool no_cache_ = false;
    unsigned analysis_timeout_ = 120;
    uint64_t analysis_memory_mb_ = 4096;
    int analysis_attempts_ = 3;
    int defer_analyses_at_ = service::IngestLoad::default_busy_at();
};

}  // namespace dumpscope
