#include "service/web_pages.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "service/crash_id.h"
#include "service/page_layout.h"
#include "service/time_text.h"
#include "service/trend_svg.h"

namespace dumpscope::service {

namespace {

constexpr int64_t kTopPageRows = 50;
constexpr int64_t kCrashPageRows = 100;
constexpr int64_t kSignatureCrashRows = 20;

// The crash page frames the report (same origin only); every other page frames nothing.
constexpr const char* kCrashPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";
// The stored report runs its own small script (diagnosis/render_html.h) and carries the same
// policy in a <meta>; served, it is also sandboxed (an origin of its own: no cookies, nothing of
// this server's) and may be framed by the crash page only.
constexpr const char* kReportPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri "
    "'none'; form-action 'none'; frame-ancestors 'self'; sandbox allow-scripts";

std::string text_or_dash(const std::optional<std::string>& text) {
    return text && !text->empty() ? html_escape(*text) : "&mdash;";
}

std::string time_cell(int64_t ms) {
    const std::string iso = iso_time(ms);
    std::string shown = iso.substr(0, 19);
    shown[10] = ' ';
    return fmt::format("<time datetime=\"{}\">{}</time>", iso, shown);
}

std::string crash_link(const std::string& id) {
    return fmt::format("<a href=\"/crashes/{0}\"><code>{0}</code></a>", html_escape(id));
}

std::string signature_link(const std::string& signature) {
    return fmt::format(
        "<a class=\"signature\" href=\"/signature?signature={}\"><code>{}</code></a>",
        query_escape(signature), signature.empty() ? "(no signature)" : html_escape(signature));
}

std::string optional_signature_link(const std::optional<std::string>& signature) {
    return signature ? signature_link(*signature) : "&mdash;";
}

std::string list_link(const char* key, const std::optional<std::string>& value) {
    if (!value || value->empty()) return "&mdash;";
    return fmt::format("<a href=\"/crashes?{}={}\">{}</a>", key, query_escape(*value),
                       html_escape(*value));
}

// A non-negative integer parameter, `fallback` when missing or malformed.
int64_t integer_param(const httplib::Request& request, const char* name, int64_t fallback) {
    if (!request.has_param(name)) return fallback;
    const std::string text = request.get_param_value(name);
    int64_t value = 0;
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size() || value < 0)
        return fallback;
    return value;
}

std::optional<std::string> optional_param(const httplib::Request& request, const char* name) {
    if (!request.has_param(name)) return std::nullopt;
    return request.get_param_value(name);
}

void send_error(httplib::Response& response, const Error& error) {
    fmt::print(stderr, "dumpscope server: page: {}\n", error.message);
    send_page(response, 500, "Error", "<p>Cannot read the index.</p>\n");
}

std::string crash_table(const std::vector<CrashRow>& rows, bool with_signature) {
    std::string body =
        "<table class=\"crashes\"><thead><tr><th>Crash</th><th>Received</th>"
        "<th>Status</th><th>Program</th><th>Class</th>";
    body += with_signature ? "<th>Signature</th></tr></thead><tbody>\n" : "</tr></thead><tbody>\n";
    for (const CrashRow& c : rows) {
        body += fmt::format(
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td>",
            crash_link(c.id), time_cell(c.received_ms), html_escape(c.status),
            html_escape(c.status), text_or_dash(c.program), text_or_dash(c.crash_class));
        if (with_signature) body += "<td>" + optional_signature_link(c.signature) + "</td>";
        body += "</tr>\n";
    }
    return body + "</tbody></table>\n";
}

std::string counts_list(const std::vector<ValueCount>& counts, const char* key,
                        const std::string& signature) {
    if (counts.empty()) return "<p class=\"muted\">None.</p>\n";
    std::string out = "<ul>";
    for (const ValueCount& v : counts) {
        std::string label = "&mdash;";
        if (v.value && key != nullptr)
            label = fmt::format("<a href=\"/crashes?signature={}&amp;{}={}\">{}</a>",
                                query_escape(signature), key, query_escape(*v.value),
                                html_escape(*v.value));
        else if (v.value)
            label = html_escape(*v.value);
        out += fmt::format("<li>{} <span class=\"muted\">({})</span></li>", label, v.count);
    }
    return out + "</ul>\n";
}

}  // namespace

void WebPages::top_crashers(const httplib::Request& request, httplib::Response& response) {
    if (login_.refuse(request, response)) return;
    const int64_t offset = integer_param(request, "offset", 0);
    const int64_t now = now_ms();
    auto page = queries_.top_signatures(now, kTopPageRows, offset);
    if (!page.ok()) return send_error(response, page.error());
    const int64_t start = trend_start(now);
    std::string body = fmt::format(
        "<p class=\"muted\">Processed crashes by signature, most frequent first. The trend: "
        "crashes per day over the last {} days (UTC).</p>\n",
        kTrendDays);
    if (page->rows.empty() && offset == 0) {
        send_page(response, 200, "Top crashers", body + "<p>No processed crash yet.</p>\n");
        return;
    }
    body +=
        "<table class=\"top\"><thead><tr><th>Rank</th><th>Crashes</th><th>Trend</th>"
        "<th>Signature</th><th>First seen</th><th>Last seen</th></tr></thead><tbody>\n";
    int64_t rank = offset;
    for (const SignatureRow& s : page->rows)
        body += fmt::format(
            "<tr><td class=\"n\">{}</td><td class=\"n count\">{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>\n",
            ++rank, s.count, trend_svg(s.daily, start), signature_link(s.signature),
            time_cell(s.first_ms), time_cell(s.last_ms));
    body += "</tbody></table>\n<p class=\"pages\">";
    if (offset > 0)
        body += fmt::format("<a rel=\"prev\" href=\"/?offset={}\">Previous</a>",
                            offset > kTopPageRows ? offset - kTopPageRows : 0);
    if (page->more)
        body += fmt::format("<a rel=\"next\" href=\"/?offset={}\">Next</a>", offset + kTopPageRows);
    send_page(response, 200, "Top crashers", body + "</p>\n");
}

void WebPages::signature_page(const httplib::Request& request, httplib::Response& response) {
    if (login_.refuse(request, response)) return;
    const std::string signature = request.get_param_value("signature");
    const int64_t now = now_ms();
    auto summary = queries_.top_signatures(now, 1, 0, signature);
    if (!summary.ok()) return send_error(response, summary.error());
    if (summary->rows.empty()) {
        send_page(response, 404, "No such signature",
                  "<p>No processed crash has the signature <code>" + html_escape(signature) +
                      "</code>.</p>\n");
        return;
    }
    const SignatureRow& s = summary->rows.front();
    auto programs = queries_.programs(signature);
    if (!programs.ok()) return send_error(response, programs.error());
    auto versions = queries_.versions(signature);
    if (!versions.ok()) return send_error(response, versions.error());
    auto classes = queries_.crash_classes(signature);
    if (!classes.ok()) return send_error(response, classes.error());
    CrashFilter filter;
    filter.signature = signature;
    auto crashes = queries_.crashes(filter, std::nullopt, kSignatureCrashRows);
    if (!crashes.ok()) return send_error(response, crashes.error());

    std::string body = fmt::format("<p><code class=\"signature\">{}</code></p>\n",
                                   signature.empty() ? "(no signature)" : html_escape(signature));
    body += "<table class=\"summary\">\n";
    body += fmt::format("<tr><th>Crashes</th><td class=\"count\">{}</td></tr>\n", s.count);
    body += fmt::format("<tr><th>First seen</th><td>{}</td></tr>\n", time_cell(s.first_ms));
    body += fmt::format("<tr><th>Last seen</th><td>{}</td></tr>\n", time_cell(s.last_ms));
    body += fmt::format("<tr><th>Last {} days</th><td>{}</td></tr>\n", kTrendDays,
                        trend_svg(s.daily, trend_start(now), TrendSize{12, 2, 40}));
    body += "</table>\n";
    body += "<h2>Programs</h2>\n" + counts_list(*programs, "program", signature);
    body += "<h2>Versions</h2>\n" + counts_list(*versions, nullptr, signature);
    body += "<h2>Crash classes</h2>\n" + counts_list(*classes, "class", signature);
    body += "<h2>Newest crashes</h2>\n" + crash_table(crashes->rows, false);
    if (crashes->next)
        body += fmt::format("<p><a href=\"/crashes?signature={}\">All {} crashes</a></p>\n",
                            query_escape(signature), s.count);
    send_page(response, 200, "Signature", body);
}

void WebPages::crash_list(const httplib::Request& request, httplib::Response& response) {
    if (login_.refuse(request, response)) return;
    CrashFilter filter;
    filter.signature = optional_param(request, "signature");
    filter.program = optional_param(request, "program");
    filter.crash_class = optional_param(request, "class");
    filter.status = optional_param(request, "status");
    std::optional<CrashCursor> after;
    if (request.has_param("after")) {
        after = CrashCursor::parse(request.get_param_value("after"));
        if (!after) {
            send_page(response, 400, "Crashes", "<p>Malformed <code>after</code>.</p>\n");
            return;
        }
    }
    auto page = queries_.crashes(filter, after, kCrashPageRows);
    if (!page.ok()) return send_error(response, page.error());

    // The filters, as shown and as kept in the next page's link.
    std::string shown, query;
    const std::pair<const char*, const std::optional<std::string>*> filters[] = {
        {"signature", &filter.signature},
        {"program", &filter.program},
        {"class", &filter.crash_class},
        {"status", &filter.status}};
    for (const auto& [key, value] : filters) {
        if (!value->has_value()) continue;
        shown += fmt::format("<li>{}: <code>{}</code></li>", key, html_escape(**value));
        query += fmt::format("{}={}&amp;", key, query_escape(**value));
    }
    std::string body;
    if (!shown.empty()) body += "<ul class=\"filters\">" + shown + "</ul>\n";
    if (page->rows.empty())
        body += "<p>No crash.</p>\n";
    else
        body += crash_table(page->rows, true);
    body += "<p class=\"pages\">";
    if (after) body += fmt::format("<a href=\"/crashes?{}\">Newest</a>", query);
    if (page->next)
        body += fmt::format("<a rel=\"next\" href=\"/crashes?{}after={}\">Older</a>", query,
                            page->next->text());
    send_page(response, 200, "Crashes", body + "</p>\n");
}

void WebPages::crash_page(const httplib::Request& request, httplib::Response& response) {
    if (login_.refuse(request, response)) return;
    const std::string id = request.matches[1];
    auto crash =
        is_crash_id(id) ? context_.store.get(id) : Result<std::optional<CrashRecord>>(std::nullopt);
    if (!crash.ok()) return send_error(response, crash.error());
    if (!crash->has_value()) {
        send_page(response, 404, "No such crash", "");
        return;
    }
    const CrashRecord& c = **crash;
    std::string body = "<table class=\"crash\">\n";
    body += fmt::format("<tr><th>Id</th><td><code>{}</code></td></tr>\n", c.id);
    body +=
        fmt::format("<tr><th>Status</th><td class=\"{0}\">{0}</td></tr>\n", html_escape(c.status));
    body += fmt::format("<tr><th>Received</th><td>{}</td></tr>\n", time_cell(c.received_ms));
    if (c.processed_ms)
        body += fmt::format("<tr><th>Processed</th><td>{}</td></tr>\n", time_cell(*c.processed_ms));
    body += fmt::format("<tr><th>Program</th><td>{}</td></tr>\n", list_link("program", c.program));
    body += fmt::format("<tr><th>Signature</th><td>{}</td></tr>\n",
                        optional_signature_link(c.signature));
    body += fmt::format("<tr><th>Crash class</th><td>{}</td></tr>\n", text_or_dash(c.crash_class));
    body += fmt::format("<tr><th>Dump</th><td>{} bytes, {}</td></tr>\n", c.dump_size,
                        text_or_dash(c.format));
    if (c.error)
        body += fmt::format("<tr><th>Error</th><td class=\"failed\">{}</td></tr>\n",
                            html_escape(*c.error));
    body += "</table>\n<h2>Annotations</h2>\n";
    if (c.annotations.empty())
        body += "<p class=\"muted\">None.</p>\n";
    else {
        body += "<table class=\"annotations\">\n";
        for (const auto& [key, value] : c.annotations)
            body += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(key),
                                html_escape(value));
        body += "</table>\n";
    }
    if (c.status == "processed")
        body += fmt::format(
            "<h2>Analysis report</h2>\n<p><a href=\"/crashes/{0}/report\">Open the report on its "
            "own</a></p>\n<iframe class=\"report\" src=\"/crashes/{0}/report\" "
            "sandbox=\"allow-scripts\" title=\"The analysis report\"></iframe>\n",
            c.id);
    send_page(response, 200, "Crash", body);
    response.headers.erase("Content-Security-Policy");
    response.set_header("Content-Security-Policy", kCrashPagePolicy);
}

void WebPages::report_page(const httplib::Request& request, httplib::Response& response) {
    if (login_.refuse(request, response)) return;
    const std::string id = request.matches[1];
    auto html = is_crash_id(id) ? context_.store.analysis_html(id)
                                : Result<std::optional<std::string>>(std::nullopt);
    if (!html.ok()) return send_error(response, html.error());
    if (!html->has_value()) {
        send_page(response, 404, "No report", "<p>No processed crash with this id.</p>\n");
        return;
    }
    response.set_header("Content-Security-Policy", kReportPolicy);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("X-Frame-Options", "SAMEORIGIN");
    response.set_header("Referrer-Policy", "no-referrer");
    response.set_header("Cache-Control", "no-store");
    response.set_content(**html, "text/html; charset=utf-8");
}

void WebPages::add_routes(httplib::Server& server) {
    login_.add_routes(server);
    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
        top_crashers(req, res);
    });
    server.Get("/signature", [this](const httplib::Request& req, httplib::Response& res) {
        signature_page(req, res);
    });
    server.Get("/crashes", [this](const httplib::Request& req, httplib::Response& res) {
        crash_list(req, res);
    });
    server.Get(R"(/crashes/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
        crash_page(req, res);
    });
    server.Get(
        R"(/crashes/([^/]+)/report)",
        [this](const httplib::Request& req, httplib::Response& res) { report_page(req, res); });
}

}  // namespace dumpscope::service
