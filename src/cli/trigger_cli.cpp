#include "cli/trigger_cli.h"

#include <fmt/format.h>

#include "monitor/monitor_job.h"
#include "monitor/trigger_signals.h"

namespace dumpscope {

void TriggerCli::add_to(CLI::App* cmd) {
    cmd_ = cmd;
    const std::string group = "Triggers (dump when one holds; none: dump at once)";
    cmd->add_option("--cpu", cpu_, "CPU use at or above PCT (100 per core) for -s seconds (-c)")
        ->group(group);
    cmd->add_option("--cpu-below", cpu_below_, "CPU use below PCT for -s seconds (-cl)")
        ->group(group);
    cmd->add_option("--mem", mem_,
                    "Resident memory at or above MB; a list dumps once per "
                    "threshold, in order (-m)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->group(group);
    cmd->add_option("--mem-below", mem_below_, "Resident memory below MB (-ml)")->group(group);
    cmd->add_option("--threads", threads_, "N or more threads (-tc)")->group(group);
    cmd->add_option("--fds", fds_, "N or more open file descriptors (-fc)")->group(group);
    cmd->add_option("--signal", signals_,
                    "When the process receives SIG (name or number; a list allowed), dump, then "
                    "deliver it (-sig)")
        ->delimiter(',')
        ->allow_extra_args(false)
        ->group(group);
    cmd->add_flag("--crash", crash_,
                  "Stay attached; on SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS or SIGTRAP "
                  "that would kill it, dump with the exception, then let it die")
        ->group(group);
    cmd->add_flag("--crash-continue", crash_continue_,
                  "With --crash: also dump those signals when the process handles them")
        ->group(group);
    cmd->add_flag("--exit", exit_, "Dump when the process is about to exit (exit code recorded)")
        ->group(group);
    cmd->add_option("--hang", hang_, "No CPU time used and every thread blocked for SECONDS")
        ->group(group);
    cmd->add_option("--hang-thread", hang_thread_,
                    "With --hang: thread TID stuck in the same system call instead")
        ->group(group);
    cmd->add_option("--count", count_, "Dumps to write before exiting (default 1) (-n)")
        ->group(group);
    cmd->add_option("--seconds", seconds_,
                    "Seconds a CPU condition must hold and between dumps (default 10) (-s)")
        ->group(group);
    cmd->add_option("--poll", poll_ms_, "Milliseconds between /proc samples (default 1000) (-pf)")
        ->group(group);
    cmd->add_flag("--wait", wait_, "TARGET is a name: wait for the process to start (-w)")
        ->group(group);
    cmd->add_flag("--all", all_,
                  "Monitor every process named TARGET, including ones that start later")
        ->group(group);
    cmd->add_flag("--pgid", pgid_, "TARGET is a process group id: monitor all its processes")
        ->group(group);
}

bool TriggerCli::monitoring() const {
    return cpu_ >= 0 || cpu_below_ >= 0 || !mem_.empty() || mem_below_ >= 0 || threads_ >= 0 ||
           fds_ >= 0 || !signals_.empty() || crash_ || crash_continue_ || exit_ || hang_ >= 0 ||
           hang_thread_ != 0 || wait_ || all_ || pgid_;
}

Result<TriggerOptions> TriggerCli::triggers() const {
    TriggerOptions t;
    if (cpu_ >= 0) t.cpu_above = cpu_;
    if (cpu_below_ >= 0) t.cpu_below = cpu_below_;
    t.mem_above_mb = mem_;
    if (mem_below_ >= 0) t.mem_below_mb = static_cast<uint64_t>(mem_below_);
    if (threads_ >= 0) t.threads = threads_;
    if (fds_ >= 0) t.fds = fds_;
    if (hang_ >= 0) t.hang_seconds = hang_;
    if (hang_thread_ != 0) t.hang_thread = hang_thread_;
    auto signals = parse_signal_list(signals_);
    if (!signals) return signals.error();
    t.signals = *signals;
    t.crash = crash_ || crash_continue_;
    t.crash_continue = crash_continue_;
    t.exit = exit_;
    t.count = count_;
    t.count_given = cmd_ != nullptr && cmd_->count("--count") > 0;
    t.seconds = seconds_;
    t.poll_ms = poll_ms_;
    DS_TRY(t.validate());
    return t;
}

DiscoveryOptions TriggerCli::discovery(const std::string& target) const {
    DiscoveryOptions d;
    d.target = target;
    d.wait = wait_;
    d.all = all_;
    d.pgid = pgid_;
    return d;
}

int TriggerCli::run(const CollectRequest& base, bool quiet, bool verbose) const {
    auto triggers = this->triggers();
    if (!triggers) {
        fmt::print(stderr, "dumpscope collect: {}\n", triggers.error().message);
        return 2;
    }
    MonitorRequest request;
    request.collect = base;
    request.triggers = *triggers;
    request.discovery = discovery(base.target);
    request.verbose = verbose && !quiet;
    request.print = [quiet](const std::string& line) {
        if (quiet) return;
        fmt::print("{}\n", line);
        std::fflush(stdout);
    };
    auto summary = run_monitor(request);
    if (!summary) {
        fmt::print(stderr, "dumpscope collect: {}\n", summary.error().message);
        return 1;
    }
    if (!summary->first_error.empty())
        fmt::print(stderr, "dumpscope collect: {}\n", summary->first_error);
    if (summary->interrupted) {
        if (!quiet) fmt::print("interrupted; {} dump(s) written\n", summary->dumps);
        return 130;
    }
    return summary->all_completed ? 0 : 1;
}

}  // namespace dumpscope
