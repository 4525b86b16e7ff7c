// `dumpscope crash-handler install|uninstall|status`, and the hidden `collect` the kernel runs
// for every crash through core_pattern (monitor/crash_collect.h).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "monitor/crash_handler_config.h"

namespace dumpscope {

class CrashHandlerCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return command_ != nullptr && command_->parsed(); }
    int run() const;

private:
    int install() const;
    int uninstall() const;
    int status() const;
    int collect() const;

    CLI::App* command_ = nullptr;
    CLI::App* install_ = nullptr;
    CLI::App* uninstall_ = nullptr;
    CLI::App* status_ = nullptr;
    CLI::App* collect_ = nullptr;
    std::string config_path_ = kDefaultCrashConfig;
    std::string dir_, type_ = "mini";
    bool keep_core_ = false;
    uint64_t quota_mb_ = 1024;
    std::string compress_;             // --compress[=LEVEL]
    std::string upload_url_;           // --upload URL
    std::vector<std::string> report_;  // collect: PID SIGNAL TIME COMM...
};

}  // namespace dumpscope
