// `dumpscope convert IN OUT [--format minidump|core] [--type ...]`: read a dump, write another.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace dumpscope {

class ConvertCommand {
public:
    void add_to(CLI::App& app);
    bool requested() const { return run_requested_; }
    int run() const;

private:
    bool run_requested_ = false;
    std::string input_, output_, format_, type_ = "full", flags_;
    std::string compress_;  // "" or a zstd level
    bool overwrite_ = false, quiet_ = false;
};

}  // namespace dumpscope
