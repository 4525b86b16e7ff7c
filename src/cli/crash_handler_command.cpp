#include "cli/crash_handler_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "common/units.h"
#include "compress/seekable_writer.h"
#include "live/proc_files.h"
#include "monitor/core_pattern.h"
#include "monitor/crash_collect.h"
#include "monitor/crash_handler_config.h"
#include "monitor/dump_quota.h"
#include "monitor/dump_upload.h"
#include "procfs/signal_names.h"

namespace dumpscope {

namespace {

void fail(const std::string& message) {
    fmt::print(stderr, "dumpscope crash-handler: {}\n", message);
}

std::string own_binary() {
    char path[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

// The kernel starts the collector without standard streams: keep 0-2 taken so no file we open
// becomes "stdout".
void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd)
        if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
}

Result<CrashReport> parse_report(const std::vector<std::string>& args) {
    if (args.size() < 4)
        return Error{"collect needs PID SIGNAL TIME COMM (core_pattern %P %s %t %e)"};
    CrashReport report;
    uint64_t pid = 0, signo = 0, when = 0;
    if (!parse_u64(args[0], pid) || !parse_u64(args[1], signo) || !parse_u64(args[2], when))
        return Error{"collect: PID, SIGNAL and TIME must be numbers"};
    report.pid = static_cast<int32_t>(pid);
    report.signo = static_cast<int>(signo);
    report.when = static_cast<time_t>(when);
    for (size_t i = 3; i < args.size(); ++i) report.comm += (i > 3 ? " " : "") + args[i];
    return report;
}

}  // namespace

void CrashHandlerCommand::add_to(CLI::App& app) {
    command_ = app.add_subcommand("crash-handler",
                                  "System-wide crash collector: the kernel pipes every core "
                                  "into dumpscope (core_pattern)");
    command_->require_subcommand(1);
    command_->add_option("--config", config_path_,
                         std::string("Configuration file (default ") + kDefaultCrashConfig + ")");

    install_ = command_->add_subcommand("install", "Point core_pattern at dumpscope (root)");
    install_->add_option("--dir", dir_, "Where dumps go (default /var/lib/dumpscope/crashes)");
    install_->add_option("--type", type_, "Minidump preset: tiny, mini (default), midi, full");
    install_->add_flag("--keep-core", keep_core_, "Keep the kernel's ELF core too");
    install_->add_flag("--compress{" + std::to_string(compress::kDefaultCompressionLevel) + "}",
                       compress_,
                       "Write the dumps zstd-compressed while they are written (.dmp.zst, "
                       ".core.zst; --compress=LEVEL: zstd level 1-19)");
    install_
        ->add_option("--upload", upload_url_,
                     "Post each minidump to this URL (http://HOST:PORT/submit of `dumpscope "
                     "server`, or any Breakpad/Crashpad collector)")
        ->option_text("URL");
    install_->add_option("--quota", quota_mb_,
                         "MB of dumps to keep; the oldest go first (default 1024)");
    uninstall_ = command_->add_subcommand("uninstall", "Put back the previous core_pattern");
    status_ = command_->add_subcommand("status", "Show core_pattern, the settings and the dumps");
    collect_ = command_->add_subcommand("collect", "(run by the kernel) read a core on stdin");
    collect_->group("");  // hidden: not for people
    collect_->add_option("REPORT", report_, "PID SIGNAL TIME COMM (core_pattern %P %s %t %e)");
    // --config may also follow the action ("crash-handler collect --config X ...").
    for (CLI::App* sub : {install_, uninstall_, status_, collect_})
        sub->add_option("--config", config_path_, "Configuration file");
}

int CrashHandlerCommand::run() const {
    if (install_->parsed()) return install();
    if (uninstall_->parsed()) return uninstall();
    if (status_->parsed()) return status();
    if (collect_->parsed()) return collect();
    return 2;
}

int CrashHandlerCommand::install() const {
    auto current = read_core_pattern();
    if (!current) {
        fail(current.error().message);
        return 1;
    }
    CrashHandlerConfig config;
    if (!dir_.empty()) config.output_dir = dir_;
    config.dump_type = type_;
    config.keep_core = keep_core_;
    config.quota_mb = quota_mb_;
    config.upload_url = upload_url_;
    if (!upload_url_.empty() && upload_url_.rfind("http://", 0) != 0) {
        fail("--upload " + upload_url_ + ": only http:// URLs are supported");
        return 2;
    }
    if (install_->count("--compress") > 0) {
        auto level = compress::parse_compression_level(compress_);
        if (!level.ok()) {
            fail("--compress: " + level.error().message);
            return 2;
        }
        config.compress_level = *level;
    }
    config.previous_core_pattern = *current;
    if (is_crash_handler_pattern(*current)) {
        // Installed before: keep what was there before the first install.
        auto old = read_crash_config(config_path_);
        config.previous_core_pattern = old ? old->previous_core_pattern : "core";
    }
    auto pattern = crash_handler_pattern(own_binary(), config_path_);
    if (!pattern) {
        fail(pattern.error().message);
        return 1;
    }
    // The configuration is written only once its directories exist.
    Status step = make_directories(config.output_dir);
    if (step) step = write_crash_config(config_path_, config);
    if (!step) {
        fail(step.error().message);
        return 1;
    }
    if (auto written = write_core_pattern(*pattern); !written) {
        fail(written.error().message + " (root needed)");
        return 1;
    }
    fmt::print("installed: core_pattern = {}\n", *pattern);
    fmt::print(
        "dumps: {} ({} minidumps{}{}, quota {} MB); previous core_pattern '{}' saved in {}\n",
        config.output_dir, config.dump_type, config.keep_core ? " and ELF cores" : "",
        config.compress_level > 0 ? fmt::format(", zstd level {} (.zst)", config.compress_level)
                                  : std::string(),
        config.quota_mb, config.previous_core_pattern, config_path_);
    return 0;
}

int CrashHandlerCommand::uninstall() const {
    auto current = read_core_pattern();
    if (!current) {
        fail(current.error().message);
        return 1;
    }
    if (!is_crash_handler_pattern(*current)) {
        fmt::print("not installed: core_pattern is '{}'; left as it is\n", *current);
        return 0;
    }
    auto config = read_crash_config(config_path_);
    const std::string previous = config ? config->previous_core_pattern : "core";
    if (!config) fail(config.error().message + "; restoring the kernel's default 'core'");
    if (auto written = write_core_pattern(previous); !written) {
        fail(written.error().message);
        return 1;
    }
    fmt::print("uninstalled: core_pattern = {}\n", previous);
    return 0;
}

int CrashHandlerCommand::status() const {
    auto current = read_core_pattern();
    if (!current) {
        fail(current.error().message);
        return 1;
    }
    const bool installed = is_crash_handler_pattern(*current);
    fmt::print("core_pattern: {}\n", *current);
    fmt::print("crash handler: {}\n", installed ? "installed" : "not installed");
    auto config = read_crash_config(config_path_);
    if (!config) {
        fmt::print("configuration: {}\n", config.error().message);
        return installed ? 1 : 0;
    }
    fmt::print("configuration: {}\n", config_path_);
    fmt::print(
        "  output_dir = {}\n  dump_type = {}\n  keep_core = {}\n  quota_mb = {}\n"
        "  compress_level = {}\n  upload_url = {}\n",
        config->output_dir, config->dump_type, config->keep_core ? "yes" : "no", config->quota_mb,
        config->compress_level, config->upload_url);
    fmt::print("  previous_core_pattern = {}\n", config->previous_core_pattern);
    auto usage = dump_usage(config->output_dir);
    if (usage) fmt::print("dumps: {} on disk\n", human_bytes(*usage));
    return 0;
}

int CrashHandlerCommand::collect() const {
    ensure_standard_fds();
    auto config = read_crash_config(config_path_);
    if (!config) {
        fail(config.error().message);
        return 1;
    }
    auto report = parse_report(report_);
    if (!report) {
        log_crash_line(*config, report.error().message);
        return 1;
    }
    auto result = collect_crash(*config, *report, STDIN_FILENO);
    const std::string who =
        fmt::format("{} ({}) {}", report->pid, report->comm, signal_name(report->signo));
    if (!result) {
        log_crash_line(*config, who + ": " + result.error().message);
        return 1;
    }
    std::string line = who + ":";
    if (!result->minidump.empty()) line += " " + result->minidump;
    if (!result->core.empty()) line += " " + result->core;
    if (!result->conversion_error.empty())
        line += " (no minidump: " + result->conversion_error + ")";
    for (const std::string& removed : result->removed) line += "; quota removed " + removed;
    log_crash_line(*config, line);
    if (!config->upload_url.empty() && !result->minidump.empty()) {
        Status uploaded = upload_dump(config->upload_url, result->minidump);
        log_crash_line(*config, who + ": " +
                                    (uploaded.ok() ? "uploaded " + result->minidump + " to " +
                                                         config->upload_url
                                                   : "upload failed: " + uploaded.error().message));
    }
    return 0;
}

}  // namespace dumpscope
