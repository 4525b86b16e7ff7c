#include "cli/collect_command.h"

#include <fmt/format.h>

#include "cli/progress_bar.h"
#include "cli/user_stream_file.h"
#include "common/units.h"
#include "compress/seekable_writer.h"
#include "plan/dump_flags.h"

namespace dumpscope {

namespace {

// The end of user space with 5-level paging (x86-64 TASK_SIZE, 57 bits; 47 bits with 4 levels).
constexpr uint64_t kUserSpaceEnd = 0x00fffffffffff000;

Result<uint64_t> parse_number(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), &end, 0);
    if (text.empty() || *end != '\0' || errno != 0) return Error{"not a number: " + text};
    return static_cast<uint64_t>(value);
}

// "0x7f0000:4096" or "0x7f0000-0x7f1000".
Result<MemoryRange> parse_range(const std::string& text) {
    const size_t colon = text.find(':');
    const size_t dash = text.find('-');
    const size_t sep = colon != std::string::npos ? colon : dash;
    if (sep == std::string::npos)
        return Error{"memory range must be ADDR:LEN or START-END: " + text};
    auto start = parse_number(text.substr(0, sep));
    auto second = parse_number(text.substr(sep + 1));
    if (!start.ok()) return start.error();
    if (!second.ok()) return second.error();
    if (sep == dash && *second <= *start)
        return Error{"memory range ends before it starts: " + text};
    const MemoryRange range =
        sep == colon ? MemoryRange{*start, *second} : MemoryRange{*start, *second - *start};
    // Ranges that cannot describe user memory are refused alike, whatever their size; one
    // that covers unmapped space is clipped to what is readable when the target is planned.
    if (range.size == 0) return Error{"memory range is empty: " + text};
    if (range.start > kUserSpaceEnd || range.size > kUserSpaceEnd - range.start)
        return Error{fmt::format("memory range {} ends past the user address space ({:#x})", text,
                                 kUserSpaceEnd)};
    return range;
}

Result<UserStream> parse_user_stream(const std::string& text, uint64_t limit_bytes) {
    const size_t colon = text.find(':');
    if (colon == std::string::npos) return Error{"user stream must be TYPE:FILE: " + text};
    auto type = parse_number(text.substr(0, colon));
    if (!type.ok()) return type.error();
    if (*type <= 0xffff || *type > 0xffffffff)
        return Error{
            fmt::format("user stream type {:#x} must be above 0xffff (LastReservedStream)", *type)};
    const std::string path = text.substr(colon + 1);
    auto bytes = read_user_stream_file(path, limit_bytes);
    if (!bytes.ok()) return bytes.error();
    return UserStream::of(static_cast<uint32_t>(*type), std::move(*bytes));
}

void print_flag_table() {
    for (const auto& f : all_dump_flags()) {
        fmt::print("{:<32} {:#010x}  {}\n", f.name, f.value, f.description);
    }
}

}  // namespace

void CollectCommand::add_to(CLI::App& app) {
    CLI::App* cmd =
        app.add_subcommand("collect", "Dump a live process (hang mode: freeze, copy, resume)");
    cmd->add_option("TARGET", target_, "PID or process name");
    cmd->add_option("OUTPUT", output_, "Output file or directory (default: current directory)");
    cmd->add_option("--format", format_, "minidump (default) or core")
        ->check(CLI::IsMember({"minidump", "core"}));
    cmd->add_option("--type", type_, "tiny, mini (default), midi, maxi or full (-mm, -mp, -ma)");
    cmd->add_option("--flags", flags_,
                    "MINIDUMP_TYPE flags without the MiniDump prefix, comma-separated "
                    "(added to --type's; alone, they replace it)");
    // Repeatable options take one value per occurrence, so they never swallow TARGET.
    cmd->add_option("--only-threads", only_threads_, "Include only these thread ids")
        ->delimiter(',')
        ->allow_extra_args(false);
    cmd->add_option("--exclude-module", exclude_modules_, "Leave out modules matching this glob")
        ->allow_extra_args(false);
    cmd->add_option("--data-segs-for", data_seg_modules_,
                    "Keep data segments only for modules matching this glob (<main> = executable)")
        ->allow_extra_args(false);
    cmd->add_option("--code-segs-for", code_seg_modules_,
                    "Keep code segments only for modules matching this glob")
        ->allow_extra_args(false);
    cmd->add_option("--add-memory", extra_memory_, "Add a memory range: ADDR:LEN or START-END")
        ->allow_extra_args(false);
    cmd->add_option("--user-stream", user_streams_,
                    "Add a user stream: TYPE:FILE, TYPE > 0xffff (read before the target is "
                    "touched)")
        ->allow_extra_args(false);
    cmd->add_option("--max-user-stream", max_user_stream_mib_,
                    "Largest --user-stream file, in MiB (default 16)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{4095}));
    cmd->add_option("--max-stack", max_stack_kib_,
                    "Stack bytes per thread from the stack pointer up, in KiB (default 8192; "
                    "at least 1)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
    cmd->add_flag("--clone{preferred}", clone_,
                  "Write the dump from a copy-on-write clone: the target stops only while it is "
                  "made (--clone=required: fail instead of falling back to a ptrace dump)")
        ->check(CLI::IsMember({"preferred", "required"}));
    cmd->add_flag("--compress{" + std::to_string(compress::kDefaultCompressionLevel) + "}",
                  compress_,
                  "Write the dump zstd-compressed while it is written (the seekable format: every "
                  "dumpscope command reads it in place, `zstd -d` gives the plain file); "
                  "--compress=LEVEL: zstd level 1-19");
    cmd->add_flag("--overwrite", overwrite_, "Replace an existing output file (-o)");
    cmd->add_flag("--quiet,-q", quiet_, "Print nothing but errors");
    cmd->add_flag(
        "--verbose,-v", verbose_,
        "Print each step with its timing; with a trigger, also each /proc sample and each "
        "signal passed on");
    cmd->add_flag("--list-flags", list_flags_, "List the dump flags and their Linux meaning");
    triggers_.add_to(cmd);
    cmd->callback([this] { run_requested_ = true; });
    command_ = cmd;
}

Result<CollectRequest> CollectCommand::build_request() const {
    CollectRequest request;
    request.target = target_;
    request.output = output_;
    request.overwrite = overwrite_;
    if (command_ != nullptr && command_->count("--compress") > 0) {
        auto level = compress::parse_compression_level(compress_);
        if (!level.ok()) return Error{"--compress: " + level.error().message};
        request.compress_level = *level;
    }
    request.format = format_ == "core" ? DumpFormat::ElfCore : DumpFormat::Minidump;
    if (clone_ == "preferred") request.clone = CloneMode::kPreferred;
    if (clone_ == "required") request.clone = CloneMode::kRequired;

    // An empty --type or --flags is a mistake (an unset shell variable), not "the default".
    const bool type_given = command_ != nullptr && command_->count("--type") > 0;
    if (type_given && type_.empty())
        return Error{"--type needs a value: tiny, mini, midi, maxi or full"};
    if (command_ != nullptr && command_->count("--flags") > 0 &&
        flags_.find_first_not_of(" ,|+") == std::string::npos)
        return Error{"--flags needs at least one flag name (see --list-flags); Normal for none"};
    auto options = preset_options(type_given ? type_ : "mini");
    if (!options.ok()) return options.error();
    request.plan = *options;
    if (!flags_.empty()) {
        auto bits = parse_dump_flags(flags_);
        if (!bits.ok()) return bits.error();
        if (type_given) {
            request.plan.flags |= *bits;
        } else {
            request.plan = PlanOptions{};
            request.plan.type_name = "custom";
            request.plan.flags = *bits;
        }
    }
    request.plan.only_threads = only_threads_;
    request.plan.exclude_module_globs = exclude_modules_;
    if (!data_seg_modules_.empty()) request.plan.data_seg_modules = data_seg_modules_;
    if (!code_seg_modules_.empty()) request.plan.code_seg_modules = code_seg_modules_;
    if (command_ != nullptr && command_->count("--max-stack") > 0)
        request.plan.max_stack_bytes = max_stack_kib_ * 1024;
    for (const std::string& text : extra_memory_) {
        auto range = parse_range(text);
        if (!range.ok()) return range.error();
        request.plan.extra_memory.push_back(*range);
    }
    for (const std::string& text : user_streams_) {
        auto stream = parse_user_stream(text, max_user_stream_mib_ << 20);
        if (!stream.ok()) return stream.error();
        request.plan.user_streams.push_back(std::move(*stream));
    }
    return request;
}

int CollectCommand::run() const {
    if (list_flags_) {
        print_flag_table();
        return 0;
    }
    if (target_.empty()) {
        fmt::print(stderr, "dumpscope collect: a TARGET (PID or process name) is required\n");
        return 2;
    }
    auto request = build_request();
    if (!request.ok()) {
        fmt::print(stderr, "dumpscope collect: {}\n", request.error().message);
        return 2;
    }
    if (triggers_.monitoring()) {
        if (verbose_ && !quiet_)
            request->log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
        return triggers_.run(*request, quiet_, verbose_);
    }
    ProgressBar bar(!quiet_);
    request->progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
    if (verbose_ && !quiet_)
        request->log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };

    auto result = collect_dump(*request);
    bar.finish();
    if (!result.ok()) {
        fmt::print(stderr, "dumpscope collect: {}\n", result.error().message);
        return 1;
    }
    if (!result->clone_fallback.empty() && !quiet_) {
        fmt::print(stderr, "dumpscope collect: no clone ({}); wrote a ptrace dump\n",
                   result->clone_fallback);
    }
    if (!quiet_) {
        for (const std::string& warning : result->clone_warnings) {
            fmt::print(stderr, "dumpscope collect: {}\n", warning);
        }
    }
    if (!quiet_) {
        fmt::print("{}: {} threads, {} modules, {} of memory; {} on disk\n", result->path,
                   result->threads, result->modules, human_bytes(result->memory_bytes),
                   human_bytes(result->disk_usage));
        fmt::print("target paused {} ({}), dump written in {}\n",
                   human_duration_ms(result->pause_ms), result->method,
                   human_duration_ms(result->total_ms));
    }
    return 0;
}

}  // namespace dumpscope
