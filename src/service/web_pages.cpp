#include "service/web_pages.h"

#include <fmt/format.h>

#include <string_view>

#include "diagnosis/html_text.h"
#include "service/auth.h"
#include "service/crash_id.h"
#include "service/time_text.h"

namespace dumpscope::service {

namespace {

using diagnosis::html_text;

constexpr const char* kSessionCookie = "dumpscope_session";
constexpr const char* kPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";
constexpr const char* kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:13px}"
    ".failed{color:#a00}nav a{margin-right:1em}";

}  // namespace

void send_page(httplib::Response& response, int status, std::string_view title,
               const std::string& body) {
    response.status = status;
    response.set_header("Content-Security-Policy", kPolicy);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(
        fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>{} - dumpscope</title><style>{}</style></head><body>\n<nav><a "
                    "href=\"/\">Top crashers</a><a href=\"/crashes\">Crashes</a></nav>\n<h1>{}"
                    "</h1>\n{}</body></html>\n",
                    html_text(title), kStyle, html_text(title), body),
        "text/html; charset=utf-8");
}

namespace {

std::string text_or_dash(const std::optional<std::string>& text) {
    return text && !text->empty() ? html_text(*text) : "&mdash;";
}

std::string cookie_value(const httplib::Request& request, std::string_view name) {
    const std::string header = request.get_header_value("Cookie");
    std::string_view rest(header);
    while (!rest.empty()) {
        const size_t end = rest.find(';');
        std::string_view pair = rest.substr(0, end);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        if (pair.substr(0, name.size()) == name && pair.size() > name.size() &&
            pair[name.size()] == '=')
            return std::string(pair.substr(name.size() + 1));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return "";
}

std::string crash_link(const std::string& id) {
    return fmt::format("<a href=\"/crashes/{0}\"><code>{0}</code></a>", id);
}

// A query parameter's value: everything but unreserved characters percent-encoded.
std::string query_value(std::string_view value) {
    std::string out;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out += c;
        else
            out += fmt::format("%{:02X}", u);
    }
    return out;
}

std::string list_link(const char* key, const std::string& value) {
    return fmt::format("<a href=\"/crashes?{}={}\">{}</a>", key, query_value(value),
                       html_text(value));
}

}  // namespace

std::string WebPages::session_of(const httplib::Request& request) {
    const std::string session = cookie_value(request, kSessionCookie);
    if (!is_crash_id(session)) return "";
    std::lock_guard lock(mutex_);
    return sessions_.count(session) != 0 ? session : "";
}

bool WebPages::authorized(const httplib::Request& request) {
    if (bearer_authorized(request.get_header_value("Authorization"), context_.token)) return true;
    const std::string session = cookie_value(request, kSessionCookie);
    if (!is_crash_id(session)) return false;
    std::lock_guard lock(mutex_);
    return sessions_.count(session) != 0;
}

bool WebPages::refuse(const httplib::Request& request, httplib::Response& response) {
    if (authorized(request)) return false;
    send_page(response, 401, "Log in",
              "<form method=\"post\" action=\"/login\"><label>Token <input type=\"password\" "
              "name=\"token\" autocomplete=\"current-password\"></label> <button>Log "
              "in</button></form>\n");
    return true;
}

void WebPages::login(const httplib::Request& request, httplib::Response& response) {
    if (!token_equals(request.get_param_value("token"), context_.token)) {
        send_page(response, 401, "Log in",
                  "<p class=\"failed\">Wrong token.</p><form method=\"post\" "
                  "action=\"/login\"><label>Token <input type=\"password\" name=\"token\"></label> "
                  "<button>Log in</button></form>\n");
        return;
    }
    auto session = new_crash_id();
    if (!session.ok()) {
        send_page(response, 500, "Error", "<p>Cannot make a session.</p>");
        return;
    }
    {
        std::lock_guard lock(mutex_);
        sessions_.insert(*session);
    }
    response.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict",
                                                  kSessionCookie, *session));
    response.set_redirect("/", 303);
}

void WebPages::top_crashers(const httplib::Request& request, httplib::Response& response) {
    if (refuse(request, response)) return;
    auto signatures = context_.store.signatures(100);
    if (!signatures.ok()) {
        send_page(response, 500, "Error", "<p>Cannot read the index.</p>");
        return;
    }
    std::string body =
        "<table><tr><th>Count</th><th>Signature</th><th>Programs</th><th>First seen</th>"
        "<th>Last seen</th></tr>\n";
    for (const SignatureSummary& s : *signatures) {
        std::string programs;
        for (const std::string& p : s.programs)
            programs += (programs.empty() ? "" : ", ") + list_link("program", p);
        body += fmt::format(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", s.count,
            s.signature.empty() ? "(no signature)" : list_link("signature", s.signature), programs,
            iso_time(s.first_ms), iso_time(s.last_ms));
    }
    body += "</table>\n";
    if (signatures->empty()) body += "<p>No processed crash yet.</p>\n";
    send_page(response, 200, "Top crashers", body);
}

void WebPages::crash_list(const httplib::Request& request, httplib::Response& response) {
    if (refuse(request, response)) return;
    CrashQuery query;
    if (request.has_param("signature")) query.signature = request.get_param_value("signature");
    if (request.has_param("program")) query.program = request.get_param_value("program");
    query.limit = 200;
    auto crashes = context_.store.list(query);
    if (!crashes.ok()) {
        send_page(response, 500, "Error", "<p>Cannot read the index.</p>");
        return;
    }
    std::string body;
    if (query.signature)
        body += "<p>Signature: <code>" + html_text(*query.signature) + "</code></p>";
    if (query.program) body += "<p>Program: " + html_text(*query.program) + "</p>";
    body +=
        "<table><tr><th>Crash</th><th>Received</th><th>Status</th><th>Program</th>"
        "<th>Signature</th></tr>\n";
    for (const CrashSummary& c : *crashes)
        body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            crash_link(c.id), iso_time(c.received_ms), html_text(c.status),
                            text_or_dash(c.program), text_or_dash(c.signature));
    send_page(response, 200, "Crashes", body + "</table>\n");
}

void WebPages::crash_page(const httplib::Request& request, httplib::Response& response) {
    if (refuse(request, response)) return;
    const std::string id = request.matches[1];
    auto crash =
        is_crash_id(id) ? context_.store.get(id) : Result<std::optional<CrashRecord>>(std::nullopt);
    if (!crash.ok()) {
        send_page(response, 500, "Error", "<p>Cannot read the index.</p>");
        return;
    }
    if (!crash->has_value()) {
        send_page(response, 404, "No such crash", "");
        return;
    }
    const CrashRecord& c = **crash;
    std::string body = "<table>\n";
    body += fmt::format("<tr><th>Id</th><td><code>{}</code></td></tr>\n", c.id);
    body +=
        fmt::format("<tr><th>Status</th><td class=\"{0}\">{0}</td></tr>\n", html_text(c.status));
    body += fmt::format("<tr><th>Received</th><td>{}</td></tr>\n", iso_time(c.received_ms));
    body += fmt::format("<tr><th>Program</th><td>{}</td></tr>\n", text_or_dash(c.program));
    body += fmt::format("<tr><th>Signature</th><td><code>{}</code></td></tr>\n",
                        text_or_dash(c.signature));
    body += fmt::format("<tr><th>Dump</th><td>{} bytes, {}</td></tr>\n", c.dump_size,
                        text_or_dash(c.format));
    if (c.error)
        body += fmt::format("<tr><th>Error</th><td class=\"failed\">{}</td></tr>\n",
                            html_text(*c.error));
    for (const auto& [key, value] : c.annotations)
        body += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_text(key), html_text(value));
    body += "</table>\n";
    if (c.status == "processed")
        body +=
            fmt::format("<p><a href=\"/crashes/{}/report\">The analysis report</a></p>\n", c.id);
    send_page(response, 200, "Crash", body);
}

void WebPages::report_page(const httplib::Request& request, httplib::Response& response) {
    if (refuse(request, response)) return;
    const std::string id = request.matches[1];
    auto html = is_crash_id(id) ? context_.store.analysis_html(id)
                                : Result<std::optional<std::string>>(std::nullopt);
    if (!html.ok()) {
        send_page(response, 500, "Error", "<p>Cannot read the index.</p>");
        return;
    }
    if (!html->has_value()) {
        send_page(response, 404, "No report", "<p>No processed crash with this id.</p>");
        return;
    }
    // The report carries its own Content-Security-Policy (render_html.h).
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(**html, "text/html; charset=utf-8");
}

void WebPages::add_routes(httplib::Server& server) {
    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
        top_crashers(req, res);
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
    server.Get("/login", [this](const httplib::Request& req, httplib::Response& res) {
        if (!refuse(req, res)) res.set_redirect("/", 303);
    });
    server.Post("/login",
                [this](const httplib::Request& req, httplib::Response& res) { login(req, res); });
}

}  // namespace dumpscope::service
