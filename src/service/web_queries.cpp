#include "service/web_queries.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "service/crash_id.h"

namespace dumpscope::service {

namespace {

constexpr int64_t kMaxLimit = 500;
constexpr int64_t kMaxOffset = 1000000;

int64_t clamp_limit(int64_t limit) { return std::clamp<int64_t>(limit, 1, kMaxLimit); }

// top_signatures' page of signature_stats (signature_stats.h), most crashes first. Parameters:
// the signature (when `one_signature`), then LIMIT and OFFSET.
std::string top_signatures_sql(bool one_signature) {
    std::string sql = "SELECT signature, count, first_ms, last_ms FROM signature_stats";
    int next = 1;
    if (one_signature) sql += fmt::format(" WHERE signature = ?{}", next++);
    sql += fmt::format(" ORDER BY count DESC, signature LIMIT ?{} OFFSET ?{}", next, next + 1);
    return sql;
}

}  // namespace

int64_t trend_start(int64_t now_ms) {
    const int64_t today = now_ms >= 0 ? now_ms / kDayMs : (now_ms - kDayMs + 1) / kDayMs;
    return (today - (kTrendDays - 1)) * kDayMs;
}

std::string CrashCursor::text() const { return fmt::format("{}.{}", received_ms, id); }

std::optional<CrashCursor> CrashCursor::parse(std::string_view text) {
    const size_t dot = text.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot > 19) return std::nullopt;
    CrashCursor cursor;
    const char* first = text.data();
    const char* last = text.data() + dot;
    if (*first < '0' || *first > '9') return std::nullopt;
    const auto parsed = std::from_chars(first, last, cursor.received_ms);
    if (parsed.ec != std::errc() || parsed.ptr != last) return std::nullopt;
    cursor.id = std::string(text.substr(dot + 1));
    if (!is_crash_id(cursor.id)) return std::nullopt;
    return cursor;
}

Result<SignaturePage> WebQueries::top_signatures(int64_t now_ms, int64_t limit, int64_t offset,
                                                 const std::optional<std::string>& only) {
    limit = clamp_limit(limit);
    offset = std::clamp<int64_t>(offset, 0, kMaxOffset);
    const int64_t start = trend_start(now_ms);
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(top_signatures_sql(only.has_value()));
    if (!select.ok()) return select.error();
    int index = 1;
    if (only) select->bind(index++, *only);
    select->bind(index++, limit + 1);  // one more: is there a next page?
    select->bind(index, offset);
    SignaturePage page;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        if (static_cast<int64_t>(page.rows.size()) == limit) {
            page.more = true;
            break;
        }
        SignatureRow s;
        s.signature = select->column_string(0);
        s.count = select->column_int(1);
        s.first_ms = select->column_int(2);
        s.last_ms = select->column_int(3);
        page.rows.push_back(std::move(s));
    }
    if (page.rows.empty()) return page;
    // The trend: the page's signatures' days (signature_days) in the last kTrendDays.
    const int64_t first_day = start / kDayMs;
    std::string sql =
        "SELECT signature, day, count FROM signature_days WHERE day >= ?1 AND day < ?2 AND "
        "signature IN (";
    for (size_t i = 0; i < page.rows.size(); ++i)
        sql += fmt::format("{}?{}", i == 0 ? "" : ", ", i + 3);
    sql += ")";
    auto days = db_.prepare(sql);
    if (!days.ok()) return days.error();
    days->bind(1, first_day).bind(2, first_day + kTrendDays);
    for (size_t i = 0; i < page.rows.size(); ++i)
        days->bind(static_cast<int>(i + 3), page.rows[i].signature);
    for (;;) {
        auto row = days->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        const std::string signature = days->column_string(0);
        const int64_t day = days->column_int(1) - first_day;
        if (day < 0 || day >= kTrendDays) continue;
        for (SignatureRow& s : page.rows)
            if (s.signature == signature) s.daily[static_cast<size_t>(day)] = days->column_int(2);
    }
    return page;
}

Result<CrashPage> WebQueries::crashes(const CrashFilter& filter,
                                      const std::optional<CrashCursor>& after, int64_t limit) {
    limit = clamp_limit(limit);
    std::string sql =
        "SELECT id, status, received_at, signature, program, crash_class FROM crashes WHERE 1 = 1";
    int next = 1;
    const std::pair<const char*, const std::optional<std::string>*> columns[] = {
        {"signature", &filter.signature},
        {"program", &filter.program},
        {"crash_class", &filter.crash_class},
        {"status", &filter.status}};
    for (const auto& [column, value] : columns)
        if (value->has_value()) sql += fmt::format(" AND {} = ?{}", column, next++);
    if (after) {
        sql += fmt::format(" AND (received_at < ?{} OR (received_at = ?{} AND id < ?{}))", next,
                           next + 1, next + 2);
        next += 3;
    }
    sql += fmt::format(" ORDER BY received_at DESC, id DESC LIMIT ?{}", next);
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(sql);
    if (!select.ok()) return select.error();
    int index = 1;
    for (const auto& [column, value] : columns)
        if (value->has_value()) select->bind(index++, **value);
    if (after) {
        select->bind(index++, after->received_ms);
        select->bind(index++, after->received_ms);
        select->bind(index++, after->id);
    }
    select->bind(index, limit + 1);
    CrashPage page;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        if (static_cast<int64_t>(page.rows.size()) == limit) {
            const CrashRow& last = page.rows.back();
            page.next = CrashCursor{last.received_ms, last.id};
            break;
        }
        page.rows.push_back(CrashRow{select->column_string(0), select->column_string(1),
                                     select->column_int(2), select->column_text(3),
                                     select->column_text(4), select->column_text(5)});
    }
    return page;
}

Result<std::vector<ValueCount>> WebQueries::counted(const std::string& sql,
                                                    const std::string& signature) {
    std::lock_guard lock(mutex_);
    auto select = db_.prepare(sql);
    if (!select.ok()) return select.error();
    select->bind(1, signature);
    std::vector<ValueCount> out;
    for (;;) {
        auto row = select->step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        out.push_back(ValueCount{select->column_text(0), select->column_int(1)});
    }
    return out;
}

// A signature's page reads its summaries (signature_stats.h), not its crashes: the crashes
// without a program or a class are the signature's count less those with one.
Result<std::vector<ValueCount>> WebQueries::programs(const std::string& signature) {
    return summary_counts("signature_programs", "program", signature);
}

Result<std::vector<ValueCount>> WebQueries::versions(const std::string& signature) {
    return counted(
        "SELECT version, count FROM signature_versions WHERE signature = ?1 ORDER BY count DESC, "
        "version LIMIT 100",
        signature);
}

Result<std::vector<ValueCount>> WebQueries::crash_classes(const std::string& signature) {
    return summary_counts("signature_classes", "crash_class", signature);
}

Result<std::vector<ValueCount>> WebQueries::summary_counts(const std::string& table,
                                                           const std::string& column,
                                                           const std::string& signature) {
    auto counts = counted("SELECT " + column + ", count FROM " + table +
                              " WHERE signature = ?1 ORDER BY count DESC, " + column + " LIMIT 100",
                          signature);
    if (!counts.ok()) return counts;
    std::lock_guard lock(mutex_);
    auto select =
        db_.prepare("SELECT s.count - COALESCE((SELECT SUM(t.count) FROM " + table +
                    " t WHERE t.signature = ?1), 0) FROM signature_stats s WHERE s.signature = ?1");
    if (!select.ok()) return select.error();
    select->bind(1, signature);
    auto row = select->step();
    if (!row.ok()) return row.error();
    if (*row && select->column_int(0) > 0) {
        counts->push_back({std::nullopt, select->column_int(0)});
        std::stable_sort(
            counts->begin(), counts->end(),
            [](const ValueCount& a, const ValueCount& b) { return a.count > b.count; });
    }
    return counts;
}

}  // namespace dumpscope::service
