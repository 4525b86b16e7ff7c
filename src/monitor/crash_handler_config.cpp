#include "monitor/crash_handler_config.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "live/proc_files.h"
#include "plan/plan.h"

namespace dumpscope {

namespace {

std::string trim(const std::string& text) {
    const size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

Status make_directories(const std::string& dir) {
    for (size_t slash = 1; slash != std::string::npos; slash = dir.find('/', slash + 1)) {
        const std::string prefix = dir.substr(0, slash);
        if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
            return errno_error("cannot create " + prefix);
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return errno_error("cannot create " + dir);
    return Status::success();
}

Status CrashHandlerConfig::validate() const {
    if (output_dir.empty() || output_dir[0] != '/')
        return Error{"the output directory must be an absolute path: '" + output_dir + "'"};
    auto preset = preset_options(dump_type);
    if (!preset) return preset.error();
    if (quota_mb == 0) return Error{"the quota must be at least 1 MB"};
    if (compress_level < 0 || compress_level > 19)
        return Error{fmt::format("compress_level {} is not 0 (plain dumps) or a zstd level 1-19",
                                 compress_level)};
    if (!upload_url.empty() && upload_url.rfind("http://", 0) != 0)
        return Error{"upload URL '" + upload_url + "': only http:// is supported"};
    return Status::success();
}

Result<CrashHandlerConfig> read_crash_config(const std::string& path) {
    int err = 0;
    auto text = read_file_whole(path, &err);
    if (!text) return text.error();
    CrashHandlerConfig config;
    std::istringstream lines(*text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        const size_t equals = line.find('=');
        auto bad = [&](const std::string& why) {
            return Error{fmt::format("{}:{}: {}", path, number, why)};
        };
        if (equals == std::string::npos) return bad("expected key = value");
        const std::string key = trim(line.substr(0, equals));
        const std::string value = trim(line.substr(equals + 1));
        if (key == "output_dir") {
            config.output_dir = value;
        } else if (key == "dump_type") {
            config.dump_type = value;
        } else if (key == "keep_core") {
            if (value != "yes" && value != "no") return bad("keep_core must be yes or no");
            config.keep_core = value == "yes";
        } else if (key == "quota_mb") {
            if (!parse_u64(value, config.quota_mb)) return bad("quota_mb must be a number");
        } else if (key == "compress_level") {
            uint64_t level = 0;
            if (!parse_u64(value, level) || level > 19)
                return bad("compress_level must be 0 (plain dumps) or a zstd level 1-19");
            config.compress_level = static_cast<int>(level);
        } else if (key == "upload_url") {
            if (!value.empty() && value.rfind("http://", 0) != 0)
                return bad("upload_url must be an http:// URL (or empty)");
            config.upload_url = value;
        } else if (key == "previous_core_pattern") {
            config.previous_core_pattern = value;
        } else {
            return bad("unknown key '" + key + "'");
        }
    }
    auto valid = config.validate();
    if (!valid) return Error{path + ": " + valid.error().message};
    return config;
}

Status write_crash_config(const std::string& path, const CrashHandlerConfig& config) {
    DS_TRY(config.validate());
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) DS_TRY(make_directories(path.substr(0, slash)));
    const std::string temp = path + ".new";
    {
        std::ofstream out(temp, std::ios::trunc);
        if (!out) return errno_error("cannot write " + temp);
        out << "# dumpscope crash handler (dumpscope crash-handler install writes this file)\n"
            << "output_dir = " << config.output_dir << "\n"
            << "dump_type = " << config.dump_type << "\n"
            << "keep_core = " << (config.keep_core ? "yes" : "no") << "\n"
            << "quota_mb = " << config.quota_mb << "\n"
            << "# 1-19: dumps written zstd-compressed (.dmp.zst, .core.zst); 0: plain\n"
            << "compress_level = " << config.compress_level << "\n"
            << "# each minidump is posted there (the dump service's /submit); empty: none\n"
            << "upload_url = " << config.upload_url << "\n"
            << "# restored by dumpscope crash-handler uninstall\n"
            << "previous_core_pattern = " << config.previous_core_pattern << "\n";
        if (!out.flush()) return errno_error("cannot write " + temp);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) return errno_error("cannot replace " + path);
    return Status::success();
}

}  // namespace dumpscope
