// `dumpscope info DUMP [--json]`: what a dump holds, without a debugger.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace dumpscope {

class InfoCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return run_requested_; }
    int run() const;

private:
    bool run_requested_ = false;
    std::string path_;
    bool json_ = false;
    bool all_ranges_ = false;
};

}  // namespace dumpscope
