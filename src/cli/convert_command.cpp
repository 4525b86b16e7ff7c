#include "cli/convert_command.h"

#include <fmt/format.h>

#include "capture/convert_job.h"
#include "common/units.h"
#include "compress/seekable_writer.h"
#include "plan/dump_flags.h"

namespace dumpscope {

void ConvertCommand::add_to(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand(
        "convert", "Convert a minidump into an ELF core or back (a reader, then a writer)");
    cmd->add_option("IN", input_, "A minidump or an ELF core file")->required();
    cmd->add_option("OUT", output_, "The file to write")->required();
    cmd->add_option("--format", format_,
                    "minidump or core (default: from OUT's extension, else the other format)")
        ->check(CLI::IsMember({"minidump", "core"}));
    cmd->add_option("--type", type_,
                    "tiny, mini, midi, maxi or full (default full: all memory IN holds)");
    cmd->add_option("--flags", flags_, "MINIDUMP_TYPE flags added to --type's, comma-separated");
    cmd->add_flag("--compress{" + std::to_string(compress::kDefaultCompressionLevel) + "}",
                  compress_,
                  "Write OUT zstd-compressed (the seekable format; also when OUT ends in .zst); "
                  "--compress=LEVEL: zstd level 1-19");
    cmd->add_flag("--overwrite", overwrite_, "Replace an existing output file");
    cmd->add_flag("--quiet,-q", quiet_, "Print nothing but errors");
    cmd->callback([this] { run_requested_ = true; });
}

int ConvertCommand::run() const {
    ConvertRequest request;
    request.input = input_;
    request.output = output_;
    request.overwrite = overwrite_;
    if (!compress_.empty()) {
        auto level = compress::parse_compression_level(compress_);
        if (!level.ok()) {
            fmt::print(stderr, "dumpscope convert: --compress: {}\n", level.error().message);
            return 2;
        }
        request.compress_level = *level;
    }
    if (format_ == "core") request.format = DumpFormat::ElfCore;
    if (format_ == "minidump") request.format = DumpFormat::Minidump;
    auto options = preset_options(type_);
    if (!options.ok()) {
        fmt::print(stderr, "dumpscope convert: {}\n", options.error().message);
        return 2;
    }
    request.plan = *options;
    if (!flags_.empty()) {
        auto bits = parse_dump_flags(flags_);
        if (!bits.ok()) {
            fmt::print(stderr, "dumpscope convert: {}\n", bits.error().message);
            return 2;
        }
        request.plan.flags |= *bits;
    }
    auto result = convert_dump(request);
    if (!result.ok()) {
        fmt::print(stderr, "dumpscope convert: {}\n", result.error().message);
        return 1;
    }
    for (const std::string& warning : result->warnings) {
        fmt::print(stderr, "dumpscope convert: warning: {}\n", warning);
    }
    if (!quiet_) {
        fmt::print("{}: {} from {}: {} threads, {} modules, {} of memory, {}\n", result->path,
                   result->format == DumpFormat::ElfCore ? "ELF core" : "minidump",
                   result->input_format, result->threads, result->modules,
                   human_bytes(result->memory_bytes), human_bytes(result->file_size));
    }
    return 0;
}

}  // namespace dumpscope
