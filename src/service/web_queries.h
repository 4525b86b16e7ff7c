// What the web UI's pages read (web_pages.cpp), each list a page at a time, over a database
// connection of its own (the index is shared with CrashStore; SQLite in WAL mode lets readers run
// beside the writer). Portable SQL (SQLite and PostgreSQL): numbered parameters, no
// backend-specific functions.
//   - top_signatures: processed crashes grouped by signature, most frequent first, with each
//     signature's daily counts over the last kTrendDays UTC days: read from the maintained
//     summaries (signature_stats.h), the page's rows then their days, not from every crash.
//   - crashes: a filtered list, newest first, paged by key (received_at, id): a page's cost does
//     not grow with how far down the list it is.
//   - counts: a signature's programs, versions (the `ver` and `version` annotations) and crash
//     classes with how many crashes each.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "service/sqlite_db.h"

namespace dumpscope::service {

inline constexpr int kTrendDays = 14;
inline constexpr int64_t kDayMs = int64_t{24} * 3600 * 1000;

// The start (UTC midnight, ms) of the first of the kTrendDays days that end with `now_ms`'s day.
int64_t trend_start(int64_t now_ms);

struct SignatureRow {
    std::string signature;
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
    std::array<int64_t, kTrendDays> daily{};  // oldest day first; the last is today (UTC)
};

struct SignaturePage {
    std::vector<SignatureRow> rows;
    bool more = false;  // rows after these
};

// A position in a newest-first crash list: the crashes after it are older, or as old with a
// smaller id.
struct CrashCursor {
    int64_t received_ms = 0;
    std::string id;
    // "MS.ID" (as in a page's URL) and back; nullopt for anything else.
    std::string text() const;
    static std::optional<CrashCursor> parse(std::string_view text);
};

struct CrashFilter {
    std::optional<std::string> signature, program, crash_class, status;
};

struct CrashRow {
    std::string id;
    std::string status;
    int64_t received_ms = 0;
    std::optional<std::string> signature, program, crash_class;
};

struct CrashPage {
    std::vector<CrashRow> rows;
    std::optional<CrashCursor> next;  // where the next page starts; nullopt on the last page
};

struct ValueCount {
    std::optional<std::string> value;  // nullopt: no value (a crash without a program, ...)
    int64_t count = 0;
};

class WebQueries {
public:
    // Over an open, migrated database.
    explicit WebQueries(Database db) : db_(std::move(db)) {}

    // `limit` rows from `offset` (both clamped to sane ranges); `only` restricts it to one
    // signature (its page's summary).
    Result<SignaturePage> top_signatures(int64_t now_ms, int64_t limit, int64_t offset,
                                         const std::optional<std::string>& only = std::nullopt);
    Result<CrashPage> crashes(const CrashFilter& filter, const std::optional<CrashCursor>& after,
                              int64_t limit);
    Result<std::vector<ValueCount>> programs(const std::string& signature);
    Result<std::vector<ValueCount>> versions(const std::string& signature);
    Result<std::vector<ValueCount>> crash_classes(const std::string& signature);

private:
    Result<std::vector<ValueCount>> counted(const std::string& sql, const std::string& signature);
    // `column`'s counts in the summary `table`, and the signature's crashes without a value.
    Result<std::vector<ValueCount>> summary_counts(const std::string& table,
                                                   const std::string& column,
                                                   const std::string& signature);

    std::mutex mutex_;
    Database db_;
};

}  // namespace dumpscope::service
