#include "monitor/hang_detector.h"

#include <fmt/format.h>

namespace dumpscope {

namespace {

bool blocked(char state) { return state == 'S' || state == 'D'; }

const ThreadSample* find_thread(const ProcessSample& sample, int32_t tid) {
    for (const ThreadSample& t : sample.thread_samples)
        if (t.tid == tid) return &t;
    return nullptr;
}

// "202 0x7f.. ..." -> "system call 202" for messages.
std::string syscall_label(const std::string& text) {
    return "system call " + text.substr(0, text.find(' '));
}

}  // namespace

HangDetector::HangDetector(double seconds, int32_t thread) : seconds_(seconds), thread_(thread) {}

std::string HangDetector::fingerprint(const ProcessSample& sample, std::string& why_not) const {
    if (thread_ != 0) {
        const ThreadSample* t = find_thread(sample, thread_);
        if (t == nullptr) {
            why_not = fmt::format("thread {} is gone", thread_);
            return "";
        }
        if (!blocked(t->state) || t->syscall.empty() || t->syscall == "running" ||
            t->syscall.rfind("-1", 0) == 0) {
            why_not = fmt::format("thread {} is running", thread_);
            return "";
        }
        return fmt::format("{}|{}", t->syscall, t->runtime_ns);
    }
    if (sample.state == 'T' || sample.state == 't') {
        why_not = "stopped (job control)";
        return "";
    }
    std::string print = fmt::format("{}", sample.cpu_ns);
    for (const ThreadSample& t : sample.thread_samples) {
        if (!blocked(t.state)) {
            why_not =
                fmt::format("thread {} is {}", t.tid, t.state == 'R' ? "running" : "not blocked");
            return "";
        }
        print += fmt::format("|{}:{}", t.tid, t.runtime_ns);
    }
    return print;
}

std::optional<std::string> HangDetector::update(const ProcessSample& sample, std::string& change) {
    std::string why_not;
    const std::string print = fingerprint(sample, why_not);
    if (print.empty() || print != last_) {
        if (reported_stuck_)
            change = "making progress again" + (why_not.empty() ? "" : ": " + why_not);
        reported_stuck_ = false;
        last_ = print;
        since_.reset();
        if (!print.empty()) since_ = sample.when;
        return std::nullopt;
    }
    const double held = std::chrono::duration<double>(sample.when - *since_).count();
    if (!reported_stuck_) {
        reported_stuck_ = true;
        change = thread_ != 0 ? fmt::format("thread {} has not moved for {:.1f} s", thread_, held)
                              : fmt::format("no progress for {:.1f} s", held);
    }
    if (held < seconds_) return std::nullopt;
    if (thread_ != 0) {
        const ThreadSample* t = find_thread(sample, thread_);
        return fmt::format("thread {} in the same {} for {:.1f} s", thread_,
                           syscall_label(t->syscall), held);
    }
    return fmt::format("no CPU time used and all {} threads blocked for {:.1f} s",
                       sample.thread_samples.size(), held);
}

void HangDetector::restart(std::chrono::steady_clock::time_point when) {
    if (since_) since_ = when;
}

}  // namespace dumpscope
