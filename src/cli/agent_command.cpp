#include "cli/agent_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "output/write_context.h"
#include "service/agent_client.h"

namespace dumpscope {

namespace {

// The host name's first label, if it is a valid agent name.
std::string default_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return "";
    std::string name(host);
    return name.substr(0, name.find('.'));
}

}  // namespace

void AgentCommand::add_to(CLI::App& app) {
    command_ = app.add_subcommand(
        "agent", "Collect dumps on this machine for a dumpscope server (connects out only)");
    command_->add_option("--server", server_, "The server: http://HOST:PORT")->required();
    command_->add_option("--token", token_,
                         "The server's API token (default: $DUMPSCOPE_TOKEN; one is required)");
    command_->add_option("--name", name_,
                         "This agent's name, [A-Za-z0-9._-]{1,64} (default: the host name)");
    command_
        ->add_option("--allow", allow_,
                     "Collect only processes with this name (comm or argv[0]); repeatable or "
                     "comma-separated; default: any process")
        ->delimiter(',')
        ->allow_extra_args(false);
    command_->add_option("--work-dir", work_dir_,
                         "Where dumps are written before their upload (default: $TMPDIR or /tmp)");
    command_->add_option("--chunk-kb", chunk_kb_, "KiB per upload request")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{4}, uint64_t{1} << 20));
}

int AgentCommand::run() const {
    service::AgentOptions options;
    options.server = server_;
    options.token = token_;
    if (options.token.empty()) {
        if (const char* env = std::getenv("DUMPSCOPE_TOKEN")) options.token = env;
    }
    options.name = name_.empty() ? default_name() : name_;
    options.allow = allow_;
    options.work_dir = work_dir_;
    if (options.work_dir.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        options.work_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    }
    options.chunk_bytes = chunk_kb_ * 1024;
    // SIGINT, SIGTERM and SIGHUP set the cancel flag (main.cpp): the agent stops, a running
    // collection is cancelled as `collect` cancels it.
    const Status ran = service::run_agent(options, cancel_requested());
    if (!ran.ok()) {
        fmt::print(stderr, "dumpscope agent: {}\n", ran.error().message);
        return 2;
    }
    return 0;
}

}  // namespace dumpscope
