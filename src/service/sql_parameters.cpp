#include "service/sql_parameters.h"

namespace dumpscope::service {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string postgres_parameters(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"') {
            // Up to the closing quote; a doubled quote inside reads as two adjacent literals.
            const size_t end = sql.find(c, i + 1);
            const size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            const size_t end = sql.find('\n', i);
            const size_t stop = end == std::string_view::npos ? sql.size() : end + 1;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            const size_t end = sql.find("*/", i + 2);
            const size_t stop = end == std::string_view::npos ? sql.size() : end + 2;
            out.append(sql.substr(i, stop - i));
            i = stop;
        } else if (c == '?' && i + 1 < sql.size() && is_digit(sql[i + 1])) {
            out.push_back('$');
            ++i;
        } else {
            out.push_back(c);
            ++i;
        }
    }
    return out;
}

std::string redact_database_url(std::string_view url) {
    std::string out(url);
    const size_t scheme = out.find("://");
    if (scheme != std::string::npos) {
        const size_t authority = scheme + 3;
        const size_t authority_end = out.find_first_of("/?#", authority);
        const size_t at =
            out.rfind('@', authority_end == std::string::npos ? out.size() - 1 : authority_end - 1);
        if (at != std::string::npos && at >= authority) {
            const size_t colon = out.find(':', authority);
            if (colon != std::string::npos && colon < at)
                out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    // password=... in the query string (key=value&...).
    for (size_t from = out.find('?'); from != std::string::npos && from < out.size();) {
        const size_t key = from + 1;
        const size_t end = out.find('&', key);
        const size_t stop = end == std::string::npos ? out.size() : end;
        const std::string_view pair(out.data() + key, stop - key);
        if (pair.starts_with("password=")) {
            out.replace(key + 9, stop - key - 9, "***");
            from = out.find('&', key);
        } else {
            from = end;
        }
    }
    return out;
}

}  // namespace dumpscope::service
