// A one-line progress bar on stderr for dumps that take more than a second; silent when
// stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>

namespace dumpscope {

class ProgressBar {
public:
    explicit ProgressBar(bool enabled);
    ~ProgressBar();  // finish()
    // Ends the bar's line if anything was drawn, so the next output starts on its own line.
    void finish();
    void update(uint64_t done, uint64_t total);

private:
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point started_;
    std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace dumpscope
