// The /proc triggers (--cpu, --cpu-below, --mem, --mem-below, --threads, --fds, --hang) over a
// stream of samples: which holds now, for how long, and what to print when one starts or stops
// holding. Pure logic: no I/O, testable with made-up samples.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "monitor/hang_detector.h"
#include "monitor/process_sample.h"
#include "monitor/trigger_options.h"

namespace dumpscope {

struct Firing {
    std::string trigger;  // file-name word: cpu, cpu-below, mem, mem-below, threads, fds, hang,
                          // signal, crash, exit
    std::string detail;   // "cpu 97% >= 90% for 10 s"
};

class ConditionTracker {
public:
    explicit ConditionTracker(const TriggerOptions& options);

    // Feeds one sample. Appends a line to `changes` for every condition that starts or stops
    // holding; returns the first condition (in option order) that holds long enough now.
    std::optional<Firing> update(const ProcessSample& sample, std::vector<std::string>& changes);

    // A dump was written for `firing`: a --mem threshold is used up, held conditions must hold
    // again for their full time before the next dump.
    void dumped(const Firing& firing, std::chrono::steady_clock::time_point when);

    // Nothing left that could fire (every --mem threshold used and no other condition).
    bool exhausted() const;

private:
    struct Held {
        bool holding = false;
        std::chrono::steady_clock::time_point since;
    };
    // Tracks one condition; returns the detail when it has held for `hold_s`.
    std::optional<std::string> track(Held& held, bool holds, const std::string& what, double hold_s,
                                     std::chrono::steady_clock::time_point now,
                                     std::vector<std::string>& changes);

    TriggerOptions options_;
    std::optional<ProcessSample> previous_;
    size_t next_mem_ = 0;
    Held cpu_above_, cpu_below_, mem_above_, mem_below_, threads_, fds_;
    std::optional<HangDetector> hang_;
};

}  // namespace dumpscope
