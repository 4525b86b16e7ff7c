// The trigger options of `dumpscope collect` (--cpu, --mem, --signal, --crash, --hang, -n, -s,
// --wait, ...): registered on the collect subcommand, turned into TriggerOptions and
// DiscoveryOptions. ProcDump's single-dash spellings are translated in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "capture/collect_job.h"
#include "common/result.h"
#include "monitor/process_discovery.h"
#include "monitor/trigger_options.h"

namespace dumpscope {

class TriggerCli {
public:
    void add_to(CLI::App* cmd);
    // True when the monitor must run: a trigger, --wait, --all or --pgid.
    bool monitoring() const;
    Result<TriggerOptions> triggers() const;
    DiscoveryOptions discovery(const std::string& target) const;
    // Runs the monitor for `base` (target, output, format, plan). Exit code: 0 when every
    // process got its dumps, 1 on an error or when a process ended first, 130 on Ctrl-C.
    // `verbose`: a line per sample and per signal passed on (SessionSettings::verbose).
    int run(const CollectRequest& base, bool quiet, bool verbose) const;

private:
    CLI::App* cmd_ = nullptr;
    double cpu_ = -1, cpu_below_ = -1, hang_ = -1, seconds_ = 10;
    std::vector<uint64_t> mem_;
    int64_t mem_below_ = -1, threads_ = -1, fds_ = -1;
    int32_t hang_thread_ = 0;
    std::vector<std::string> signals_;
    bool crash_ = false, crash_continue_ = false, exit_ = false;
    uint32_t count_ = 1, poll_ms_ = 1000;
    bool wait_ = false, all_ = false, pgid_ = false;
};

}  // namespace dumpscope
