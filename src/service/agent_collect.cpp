#include "service/agent_collect.h"

#include <dirent.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "capture/collect_job.h"
#include "compress/seekable_writer.h"
#include "live/target_lookup.h"
#include "monitor/monitor_job.h"
#include "plan/plan.h"
#include "service/agent_processes.h"
#include "service/agent_request.h"

namespace dumpscope::service {

namespace {

// The one regular file the monitor wrote into dir.
Result<std::string> only_file_in(const std::string& dir) {
    DIR* listing = ::opendir(dir.c_str());
    if (listing == nullptr) return errno_error("cannot list " + dir);
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(listing))
        if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
    ::closedir(listing);
    if (names.size() != 1)
        return Error{fmt::format("{} holds {} dumps, expected one", dir, names.size())};
    return dir + "/" + names[0];
}

}  // namespace

Result<CollectedDump> collect_for_server(const CollectionRecord& collection,
                                         const std::vector<std::string>& allow,
                                         const std::string& dir) {
    // The server checked all of this; the agent checks again what it is about to act on.
    auto target = check_target(nlohmann::json(collection.target));
    if (!target.ok()) return target.error();
    if (!is_collection_type(collection.type))
        return Error{fmt::format("unknown dump type '{}'", collection.type)};
    const nlohmann::json trigger_json =
        nlohmann::json::parse(collection.trigger_json, nullptr, false);
    if (trigger_json.is_discarded()) return Error{"the trigger is not JSON"};
    auto triggers = trigger_options_from_json(trigger_json);
    if (!triggers.ok()) return triggers.error();

    auto pid = resolve_target(*target);
    if (!pid.ok()) return pid.error();
    auto names = process_names(*pid);
    if (!names.ok()) return names.error();
    if (!allowed_by(allow, *names))
        return Error{fmt::format("process {} ({}) is not on this agent's allow-list ({})", *pid,
                                 (*names)[0], fmt::join(allow, ", "))};

    CollectRequest request;
    request.target = std::to_string(*pid);
    request.output = dir;
    auto plan = preset_options(collection.type);
    if (!plan.ok()) return plan.error();
    request.plan = *plan;
    if (collection.compress) request.compress_level = compress::kDefaultCompressionLevel;

    if (!triggers->any()) {
        auto result = collect_dump(request);
        if (!result.ok()) return result.error();
        return CollectedDump{result->path, *pid, "manual"};
    }
    MonitorRequest monitor;
    monitor.collect = request;
    monitor.triggers = *triggers;
    monitor.discovery.target = request.target;
    monitor.print = [pid = *pid](const std::string& line) {
        fmt::print(stderr, "dumpscope agent: {}: {}\n", pid, line);
    };
    auto summary = run_monitor(monitor);
    if (!summary.ok()) return summary.error();
    if (summary->dumps == 0) {
        if (!summary->first_error.empty()) return Error{summary->first_error};
        if (summary->interrupted) return Error{"the agent was stopped before the trigger fired"};
        return Error{fmt::format("process {} ended before the trigger fired", *pid)};
    }
    auto path = only_file_in(dir);
    if (!path.ok()) return path.error();
    return CollectedDump{*path, *pid, triggers->describe()};
}

}  // namespace dumpscope::service
