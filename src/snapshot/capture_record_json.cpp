#include "snapshot/capture_record_json.h"

#include <nlohmann/json.hpp>

#include "snapshot/json_numbers.h"

namespace dumpscope {

std::string capture_record_to_json(const CaptureRecord& r) {
    nlohmann::json j = {
        {"tool", "dumpscope"},      {"tool_version", r.tool_version},
        {"dump_type", r.dump_type}, {"dump_flags", r.dump_flags},
        {"trigger", r.trigger},     {"trigger_detail", r.trigger_detail},
        {"method", r.method},       {"capture_time_unix", r.capture_time_unix},
        {"pause_ms", r.pause_ms},   {"write_ms", r.write_ms},
        {"notes", r.notes},
    };
    return j.dump(-1, ' ', false,
                  nlohmann::json::error_handler_t::replace);  // paths may not be UTF-8
}

Result<CaptureRecord> capture_record_from_json(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Error{"capture record is not valid JSON"};
    if (has_unexpected_float(j, {"pause_ms", "write_ms"})) {
        return Error{
            "capture record has a fractional number in an integer field or nests too deep"};
    }
    CaptureRecord r;
    try {
        r.tool_version = j.value("tool_version", "");
        r.dump_type = j.value("dump_type", "");
        r.dump_flags = j.value("dump_flags", 0u);
        r.trigger = j.value("trigger", "");
        r.trigger_detail = j.value("trigger_detail", "");
        r.method = j.value("method", "");
        r.capture_time_unix = j.value("capture_time_unix", uint64_t{0});
        r.pause_ms = j.value("pause_ms", 0.0);
        r.write_ms = j.value("write_ms", 0.0);
        r.notes = j.value("notes", std::vector<std::string>{});
    } catch (const nlohmann::json::exception& e) {
        return Error{std::string("capture record has a field of the wrong type: ") + e.what()};
    }
    return r;
}

}  // namespace dumpscope
