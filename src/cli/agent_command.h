// `dumpscope agent`: remote collection on this machine for a `dumpscope server`
// (service/agent_client.h, docs/service.md "Agents").
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace dumpscope {

class AgentCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return command_ != nullptr && command_->parsed(); }
    int run() const;

private:
    CLI::App* command_ = nullptr;
    std::string server_;
    std::string token_;
    std::string name_;
    std::vector<std::string> allow_;
    std::string work_dir_;
    uint64_t chunk_kb_ = 1024;
};

}  // namespace dumpscope
