// --hang: a process (or one chosen thread) that makes no progress. Pure logic over samples.
//
// Whole process: no CPU time consumed by any thread and every thread blocked (state S or D)
// in every sample for `seconds`; a thread that runs, appears or vanishes restarts the clock. A
// process stopped by job control (T) is not hung. One thread (--hang-thread TID): it stays in
// the same system call (same number, arguments, stack and instruction pointers) without
// consuming CPU time for `seconds`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "monitor/process_sample.h"

namespace dumpscope {

class HangDetector {
public:
    HangDetector(double seconds, int32_t thread);  // thread 0 = the whole process

    // Feeds one sample (with thread_samples). Returns a description when the hang has lasted
    // `seconds`; `change` gets a line when the process starts or stops looking stuck.
    std::optional<std::string> update(const ProcessSample& sample, std::string& change);
    // A dump was written: the next one needs another full period.
    void restart(std::chrono::steady_clock::time_point when);

private:
    // A fingerprint of what progress would change; empty when something is running now.
    std::string fingerprint(const ProcessSample& sample, std::string& why_not) const;

    double seconds_;
    int32_t thread_;
    std::string last_;
    std::optional<std::chrono::steady_clock::time_point> since_;
    bool reported_stuck_ = false;
};

}  // namespace dumpscope
