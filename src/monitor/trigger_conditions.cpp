#include "monitor/trigger_conditions.h"

#include <fmt/format.h>

namespace dumpscope {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

std::string mb(uint64_t bytes) { return fmt::format("{} MB", bytes / kMiB); }

}  // namespace

ConditionTracker::ConditionTracker(const TriggerOptions& options) : options_(options) {
    if (options.hang_seconds) hang_.emplace(*options.hang_seconds, options.hang_thread.value_or(0));
}

std::optional<std::string> ConditionTracker::track(Held& held, bool holds, const std::string& what,
                                                   double hold_s,
                                                   std::chrono::steady_clock::time_point now,
                                                   std::vector<std::string>& changes) {
    if (!holds) {
        if (held.holding) changes.push_back(what + ": no longer");
        held.holding = false;
        return std::nullopt;
    }
    if (!held.holding) {
        held.holding = true;
        held.since = now;
        changes.push_back(hold_s > 0 ? fmt::format("{}: holding, needs {:g} s", what, hold_s)
                                     : what);
    }
    const double for_s = std::chrono::duration<double>(now - held.since).count();
    if (for_s + 1e-9 < hold_s) return std::nullopt;
    return hold_s > 0 ? fmt::format("{} for {:.1f} s", what, for_s) : what;
}

std::optional<Firing> ConditionTracker::update(const ProcessSample& sample,
                                               std::vector<std::string>& changes) {
    std::optional<Firing> first;
    auto consider = [&](const char* trigger, std::optional<std::string> detail) {
        if (detail && !first) first = Firing{trigger, *detail};
    };
    const auto now = sample.when;
    if ((options_.cpu_above || options_.cpu_below) && previous_) {
        const double pct = cpu_percent(*previous_, sample);
        if (options_.cpu_above) {
            const bool holds = pct >= *options_.cpu_above;
            consider("cpu", track(cpu_above_, holds,
                                  fmt::format("cpu {:.0f}% {} {:g}%", pct, holds ? ">=" : "<",
                                              *options_.cpu_above),
                                  options_.seconds, now, changes));
        }
        if (options_.cpu_below) {
            const bool holds = pct < *options_.cpu_below;
            consider("cpu-below", track(cpu_below_, holds,
                                        fmt::format("cpu {:.0f}% {} {:g}%", pct,
                                                    holds ? "<" : ">=", *options_.cpu_below),
                                        options_.seconds, now, changes));
        }
    }
    if (next_mem_ < options_.mem_above_mb.size()) {
        const uint64_t limit = options_.mem_above_mb[next_mem_];
        const bool holds = sample.rss_bytes >= limit * kMiB;
        consider("mem", track(mem_above_, holds,
                              fmt::format("memory {} {} {} MB", mb(sample.rss_bytes),
                                          holds ? ">=" : "<", limit),
                              0, now, changes));
    }
    if (options_.mem_below_mb) {
        const bool holds = sample.rss_bytes < *options_.mem_below_mb * kMiB;
        consider("mem-below", track(mem_below_, holds,
                                    fmt::format("memory {} {} {} MB", mb(sample.rss_bytes),
                                                holds ? "<" : ">=", *options_.mem_below_mb),
                                    0, now, changes));
    }
    if (options_.threads) {
        const bool holds = sample.threads >= *options_.threads;
        consider("threads", track(threads_, holds,
                                  fmt::format("threads {} {} {}", sample.threads,
                                              holds ? ">=" : "<", *options_.threads),
                                  0, now, changes));
    }
    if (options_.fds && sample.fds >= 0) {
        const bool holds = sample.fds >= *options_.fds;
        consider("fds",
                 track(fds_, holds,
                       fmt::format("fds {} {} {}", sample.fds, holds ? ">=" : "<", *options_.fds),
                       0, now, changes));
    }
    if (hang_) {
        std::string change;
        auto detail = hang_->update(sample, change);
        if (!change.empty()) changes.push_back(change);
        consider("hang", detail);
    }
    previous_ = sample;
    return first;
}

void ConditionTracker::dumped(const Firing& firing, std::chrono::steady_clock::time_point when) {
    if (firing.trigger == "mem") {
        ++next_mem_;
        mem_above_.holding = false;  // the next threshold announces itself
    }
    for (Held* held : {&cpu_above_, &cpu_below_, &mem_below_, &threads_, &fds_})
        if (held->holding) held->since = when;
    if (hang_) hang_->restart(when);
}

bool ConditionTracker::exhausted() const {
    const bool others = options_.cpu_above || options_.cpu_below || options_.mem_below_mb ||
                        options_.threads || options_.fds || options_.hang_seconds;
    return !others && next_mem_ >= options_.mem_above_mb.size();
}

}  // namespace dumpscope
