#include "cli/progress_bar.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "common/units.h"

namespace dumpscope {

ProgressBar::ProgressBar(bool enabled)
    : enabled_(enabled && ::isatty(STDERR_FILENO)), started_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::finish() {
    if (drawn_) std::fputs("\n", stderr);
    drawn_ = false;
    enabled_ = false;
}

void ProgressBar::update(uint64_t done, uint64_t total) {
    if (!enabled_ || total == 0) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    if (elapsed < 1.0) return;  // quick dumps draw nothing
    if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 30;
    const int filled =
        static_cast<int>(kWidth * static_cast<double>(done) / static_cast<double>(total));
    fmt::print(stderr, "\r[{:=<{}}{: <{}}] {:>10} / {:<10} {:>10}", "", filled, "", kWidth - filled,
               human_bytes(done), human_bytes(total),
               human_rate(static_cast<double>(done) / elapsed));
    std::fflush(stderr);
    drawn_ = true;
}

}  // namespace dumpscope
