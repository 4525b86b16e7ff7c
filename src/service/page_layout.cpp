#include "service/page_layout.h"

#include <fmt/format.h>

#include "diagnosis/html_text.h"

namespace dumpscope::service {

const char* const kPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

namespace {

constexpr const char* kStyle =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}"
    "header{display:flex;align-items:center;gap:1.5em;padding:.5em 1.5em;background:#234;"
    "color:#fff}header a{color:#fff;text-decoration:none}header a:hover{text-decoration:underline}"
    "header .brand{font-weight:bold}header nav{display:flex;gap:1em;flex:1}"
    "header form{margin:0}main{padding:0 1.5em 1.5em}"
    "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}td.n{text-align:right}"
    "code{font-size:13px;word-break:break-all}.failed{color:#a00}.muted{color:#777}"
    ".pages{margin:.8em 0;display:flex;gap:1em}svg.trend{vertical-align:middle}"
    "iframe.report{width:100%;height:80vh;border:1px solid #ccc}";

std::string document(std::string_view title, std::string_view header, std::string_view body) {
    const std::string escaped = html_escape(title);
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width\">"
        "<title>{0} - dumpscope</title><style>{1}</style></head><body>\n{2}<main>\n<h1>{0}</h1>\n"
        "{3}</main></body></html>\n",
        escaped, kStyle, header, body);
}

void send(httplib::Response& response, int status, const std::string& document_html) {
    response.status = status;
    set_page_headers(response);
    response.set_content(document_html, "text/html; charset=utf-8");
}

}  // namespace

std::string html_escape(std::string_view text) { return diagnosis::html_text(text); }

std::string query_escape(std::string_view value) {
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

std::string render_page(std::string_view title, std::string_view body_html) {
    // Logging out changes state, so it is a POST (a link could be followed by anything); the
    // session cookie is SameSite=Strict, so another site cannot send it.
    constexpr std::string_view kHeader =
        "<header><a class=\"brand\" href=\"/\">dumpscope</a><nav><a href=\"/\">Top crashers</a>"
        "<a href=\"/crashes\">Crashes</a><a href=\"/agents\">Agents</a>"
        "<a href=\"/collections\">Collections</a></nav><form method=\"post\" "
        "action=\"/logout\"><button>Log out</button></form></header>\n";
    return document(title, kHeader, body_html);
}

std::string render_bare_page(std::string_view title, std::string_view body_html) {
    return document(title, "<header><span class=\"brand\">dumpscope</span></header>\n", body_html);
}

void set_page_headers(httplib::Response& response) {
    response.set_header("Content-Security-Policy", kPagePolicy);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("X-Frame-Options", "DENY");
    response.set_header("Referrer-Policy", "no-referrer");
    response.set_header("Cache-Control", "no-store");
}

void send_page(httplib::Response& response, int status, std::string_view title,
               std::string_view body_html) {
    send(response, status, render_page(title, body_html));
}

void send_bare_page(httplib::Response& response, int status, std::string_view title,
                    std::string_view body_html) {
    send(response, status, render_bare_page(title, body_html));
}

}  // namespace dumpscope::service
