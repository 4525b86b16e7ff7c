// !handle / handles: the file descriptors the dump records, with type and target.
#include <fcntl.h>
#include <fmt/format.h>

#include "analysis/command.h"
#include "common/printable_bytes.h"

namespace dumpscope::analysis {

namespace {

std::string open_flags(uint32_t flags) {
    std::string out;
    switch (flags & O_ACCMODE) {
        case O_RDONLY:
            out = "O_RDONLY";
            break;
        case O_WRONLY:
            out = "O_WRONLY";
            break;
        default:
            out = "O_RDWR";
            break;
    }
    const std::pair<uint32_t, const char*> bits[] = {
        {O_APPEND, "O_APPEND"},      {O_NONBLOCK, "O_NONBLOCK"}, {O_CLOEXEC, "O_CLOEXEC"},
        {O_DIRECT, "O_DIRECT"},      {O_SYNC, "O_SYNC"},         {O_PATH, "O_PATH"},
        {O_DIRECTORY, "O_DIRECTORY"}};
    for (const auto& [bit, name] : bits) {
        if ((flags & bit) == bit) out += std::string("|") + name;
    }
    return out;
}

}  // namespace

Result<CommandOutput> command_handles(DumpAnalysis& dump, const CommandArgs& args) {
    if (!args.empty()) return Error{"!handle takes no arguments"};
    const Snapshot& s = dump.snapshot();
    CommandOutput out;
    out.json = nlohmann::json::array();
    if (s.fds.empty()) {
        out.text =
            "The dump records no file descriptors (collect with --type midi or full, or --flags "
            "WithHandleData).\n";
        return out;
    }
    out.text = fmt::format("{:>5}  {:<11} {:<28} {}\n", "fd", "type", "flags", "target");
    for (const FileDescriptor& fd : s.fds) {
        out.text += fmt::format("{:>5}  {:<11} {:<28} {}\n", fd.fd, fd.type, open_flags(fd.flags),
                                printable_bytes(fd.target));
        out.json.push_back({{"fd", fd.fd},
                            {"type", fd.type},
                            {"target", printable_bytes(fd.target)},
                            {"flags", fd.flags},
                            {"flag_names", open_flags(fd.flags)},
                            {"position", fd.position}});
    }
    out.text += fmt::format("{} descriptors\n", s.fds.size());
    return out;
}

}  // namespace dumpscope::analysis
