// The layout every page of the web UI shares (docs/service.md, Pages): a header with the
// navigation (Top crashers, Crashes, Agents, Collections) and a log-out button, the inline style,
// and the headers that keep a page from loading or running anything: no script, nothing fetched
// at view time (the Content-Security-Policy allows inline style only), never framed by another
// site. A page's body is HTML the caller built: every value from an upload or an agent goes
// through html_escape() (element content and quoted attribute values alike) and every value put
// in a URL's query through query_escape().
//
// Pages of other features (agents, collections, ...) call these from their own files:
//     send_page(response, 200, "Agents", body_html);
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

namespace dumpscope::service {

// The Content-Security-Policy header of every page rendered here.
extern const char* const kPagePolicy;

// Any bytes made safe and readable as HTML element content or a quoted attribute value:
// ill-formed UTF-8 and control characters replaced (diagnosis/html_text.h), then &, <, >, " and '
// as character references.
std::string html_escape(std::string_view text);

// A query parameter's value or a path segment: every byte but the unreserved ones (RFC 3986:
// letters, digits, - _ . ~) percent-encoded, so the result is also safe in an HTML attribute.
std::string query_escape(std::string_view value);

// The whole HTML document of a logged-in page: the title (escaped here) as <title> and <h1>,
// the navigation, and `body_html` as given.
std::string render_page(std::string_view title, std::string_view body_html);

// The same without the navigation and log-out button: for the login form and for pages shown to
// a visitor who is not logged in.
std::string render_bare_page(std::string_view title, std::string_view body_html);

// Sets the response: `status`, render_page()'s document, and the page headers
// (Content-Security-Policy, X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Cache-Control: no-store).
void send_page(httplib::Response& response, int status, std::string_view title,
               std::string_view body_html);
// The same with render_bare_page().
void send_bare_page(httplib::Response& response, int status, std::string_view title,
                    std::string_view body_html);
// Only the page headers (for a response whose document is made elsewhere).
void set_page_headers(httplib::Response& response);

}  // namespace dumpscope::service
