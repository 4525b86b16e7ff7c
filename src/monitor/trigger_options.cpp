#include "monitor/trigger_options.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>

#include "procfs/signal_names.h"

namespace dumpscope {

bool TriggerOptions::any() const { return needs_ptrace() || needs_sampling(); }

bool TriggerOptions::needs_ptrace() const { return !signals.empty() || crash || exit; }

bool TriggerOptions::needs_sampling() const {
    return cpu_above || cpu_below || !mem_above_mb.empty() || mem_below_mb || threads || fds ||
           hang_seconds;
}

uint32_t TriggerOptions::dumps_wanted() const {
    if (!count_given && mem_above_mb.size() > 1) return static_cast<uint32_t>(mem_above_mb.size());
    return count;
}

Status TriggerOptions::validate() const {
    for (auto pct : {cpu_above, cpu_below})
        if (pct && (*pct < 0 || *pct > 100000))
            return Error{fmt::format("CPU threshold {} is out of range (0 to 100 per core)", *pct)};
    if (!std::is_sorted(mem_above_mb.begin(), mem_above_mb.end()) ||
        std::adjacent_find(mem_above_mb.begin(), mem_above_mb.end()) != mem_above_mb.end())
        return Error{"--mem thresholds must be given in increasing order"};
    if (threads && *threads < 1) return Error{"--threads must be at least 1"};
    if (fds && *fds < 1) return Error{"--fds must be at least 1"};
    if (hang_seconds && *hang_seconds <= 0) return Error{"--hang needs a number of seconds > 0"};
    if (hang_thread && !hang_seconds) return Error{"--hang-thread needs --hang SECONDS"};
    if (crash_continue && !crash) return Error{"--crash-continue needs --crash"};
    if (count == 0) return Error{"-n must be at least 1"};
    if (seconds < 0) return Error{"-s must not be negative"};
    if (poll_ms < 10) return Error{"--poll must be at least 10 ms"};
    for (int signo : signals)
        if (crash && is_crash_signal(signo))
            return Error{signal_name(signo) + " is both a --signal and a --crash signal"};
    return Status::success();
}

std::string TriggerOptions::describe() const {
    std::vector<std::string> parts;
    const std::string hold = fmt::format(" for {:g} s", seconds);
    if (cpu_above) parts.push_back(fmt::format("cpu >= {:g}%{}", *cpu_above, hold));
    if (cpu_below) parts.push_back(fmt::format("cpu < {:g}%{}", *cpu_below, hold));
    if (!mem_above_mb.empty())
        parts.push_back(fmt::format("memory >= {} MB", fmt::join(mem_above_mb, ", ")));
    if (mem_below_mb) parts.push_back(fmt::format("memory < {} MB", *mem_below_mb));
    if (threads) parts.push_back(fmt::format("threads >= {}", *threads));
    if (fds) parts.push_back(fmt::format("fds >= {}", *fds));
    if (hang_seconds && hang_thread)
        parts.push_back(fmt::format("thread {} stuck {:g} s", *hang_thread, *hang_seconds));
    else if (hang_seconds)
        parts.push_back(fmt::format("hang {:g} s", *hang_seconds));
    if (!signals.empty()) {
        std::vector<std::string> names;
        for (int s : signals) names.push_back(signal_name(s));
        parts.push_back(fmt::format("signal {}", fmt::join(names, ", ")));
    }
    if (crash) parts.emplace_back(crash_continue ? "crash (handled ones too)" : "crash");
    if (exit) parts.emplace_back("exit");
    return fmt::format("{}", fmt::join(parts, ", "));
}

bool is_crash_signal(int signo) {
    switch (signo) {
        case SIGSEGV:
        case SIGBUS:
        case SIGFPE:
        case SIGILL:
        case SIGABRT:
        case SIGSYS:
        case SIGTRAP:
            return true;
        default:
            return false;
    }
}

}  // namespace dumpscope
