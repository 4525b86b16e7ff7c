// `dumpscope collect [OPTIONS] TARGET [OUTPUT]`: options -> CollectRequest -> collect_dump.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "cli/trigger_cli.h"
#include "cli/user_stream_file.h"

namespace dumpscope {

class CollectCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return run_requested_; }
    int run() const;

private:
    Result<CollectRequest> build_request() const;

    CLI::App* command_ = nullptr;
    bool run_requested_ = false;
    std::string target_, output_, format_ = "minidump", type_, flags_;
    std::vector<int32_t> only_threads_;
    std::vector<std::string> exclude_modules_, data_seg_modules_, code_seg_modules_;
    std::vector<std::string> extra_memory_, user_streams_;
    uint64_t max_stack_kib_ = 0;
    uint64_t max_user_stream_mib_ = kDefaultUserStreamLimitMib;
    std::string compress_;  // "" or a zstd level (--compress alone: the default level)
    std::string clone_;     // "", "preferred" (--clone) or "required" (--clone=required)
    bool overwrite_ = false, quiet_ = false, verbose_ = false, list_flags_ = false;
    TriggerCli triggers_;  // --cpu, --crash, --signal, ... (the monitor)
};

}  // namespace dumpscope
