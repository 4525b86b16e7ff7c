#include "service/analysis_answer.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace dumpscope::service {

namespace {

void put(std::string& out, std::string_view name, std::string_view value) {
    out += fmt::format("{} {}\n", name, value.size());
    out += value;
    out += '\n';
}

// The records of a result, in order, and the field each one is. A new field of ProcessedCrash is
// one more line here (and one more in the count).
template <typename Crash>
auto crash_records(Crash& crash) {
    return std::array<std::pair<std::string_view, decltype(&crash.format)>, 6>{{
        {"format", &crash.format},
        {"crash_class", &crash.crash_class},
        {"signature", &crash.signature},
        {"program", &crash.program},
        {"json", &crash.json},
        {"html", &crash.html},
    }};
}

// The field of `crash` a record fills; nullptr for another name.
std::string* crash_field(ProcessedCrash& crash, std::string_view name) {
    for (const auto& [field, target] : crash_records(crash))
        if (field == name) return target;
    return nullptr;
}

// The modules record: a JSON array of [build_id, name, symbols] (a module's name is a path and
// may hold any byte but NUL).
std::string encode_modules(const std::vector<CrashModule>& modules) {
    nlohmann::json array = nlohmann::json::array();
    for (const CrashModule& m : modules) array.push_back({m.build_id, m.name, m.symbols});
    return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status decode_modules(std::string_view text, std::vector<CrashModule>& out) {
    const nlohmann::json array = nlohmann::json::parse(text, nullptr, false);
    if (!array.is_array()) return Error{"the analysis answer's modules record is not a JSON array"};
    for (const nlohmann::json& m : array) {
        if (!m.is_array() || m.size() != 3 || !m[0].is_string() || !m[1].is_string() ||
            !m[2].is_string())
            return Error{"the analysis answer's modules record has a malformed module"};
        out.push_back({m[0].get<std::string>(), m[1].get<std::string>(), m[2].get<std::string>()});
    }
    return {};
}

}  // namespace

std::string encode_analysis_answer(const AnalysisAnswer& answer) {
    std::string out;
    if (answer.crash) {
        for (const auto& [name, value] : crash_records(*answer.crash)) put(out, name, *value);
        put(out, "modules", encode_modules(answer.crash->modules));
    } else {
        put(out, "error", answer.error);
    }
    put(out, "end", "");
    return out;
}

Result<AnalysisAnswer> decode_analysis_answer(std::string_view bytes) {
    ProcessedCrash crash;
    std::optional<std::string> error;
    std::set<std::string, std::less<>> seen;
    size_t pos = 0;
    for (;;) {
        const size_t eol = bytes.find('\n', pos);
        if (eol == std::string_view::npos)
            return Error{fmt::format("the analysis answer ends at byte {} without its end record",
                                     bytes.size())};
        const std::string_view header = bytes.substr(pos, eol - pos);
        const size_t space = header.find(' ');
        if (space == std::string_view::npos)
            return Error{
                fmt::format("the analysis answer has a malformed record header at byte {}", pos)};
        const std::string_view name = header.substr(0, space);
        const std::string_view size_text = header.substr(space + 1);
        uint64_t size = 0;
        const auto [end, ec] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
        if (ec != std::errc() || end != size_text.data() + size_text.size() || size_text.empty())
            return Error{
                fmt::format("the analysis answer's record '{}' at byte {} has no size", name, pos)};
        const size_t body = eol + 1;
        if (size > bytes.size() - body || bytes.size() - body - size < 1 ||
            bytes[body + size] != '\n')
            return Error{fmt::format(
                "the analysis answer's record '{}' at byte {} is truncated ({} bytes announced, "
                "{} left)",
                name, pos, size, bytes.size() - body)};
        const std::string_view value = bytes.substr(body, size);
        pos = body + size + 1;
        if (!seen.emplace(name).second)
            return Error{fmt::format("the analysis answer repeats the record '{}'", name)};
        if (name == "end") {
            if (pos != bytes.size())
                return Error{fmt::format("the analysis answer has {} bytes after its end record",
                                         bytes.size() - pos)};
            break;
        }
        if (name == "error") {
            error = std::string(value);
        } else if (name == "modules") {
            DS_TRY(decode_modules(value, crash.modules));
        } else if (std::string* field = crash_field(crash, name)) {
            *field = std::string(value);
        } else {
            return Error{fmt::format("the analysis answer has an unknown record '{}'", name)};
        }
    }
    const size_t results = seen.size() - 1 - (error ? 1 : 0);
    if (error) {
        if (results != 0) return Error{"the analysis answer has both an error and a result"};
        return AnalysisAnswer{std::nullopt, std::move(*error)};
    }
    const size_t all = crash_records(crash).size() + 1;  // and modules
    if (results != all)
        return Error{
            fmt::format("the analysis answer has {} of the {} result records", results, all)};
    return AnalysisAnswer{std::move(crash), ""};
}

}  // namespace dumpscope::service
