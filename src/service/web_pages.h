// The server-rendered pages of the crashes (docs/service.md, Pages), in the shared layout
// (page_layout.h): no script, nothing loaded at view time, everything from an upload
// HTML-escaped. Every page needs a login (web_login.h); without one it answers 401 with the form.
//   GET /                                    top crashers: count and a 14-day trend per signature,
//                                            50 a page (?offset=N)
//   GET /signature?signature=S               one signature: count, first and last seen, trend,
//                                            programs, versions, crash classes, its newest crashes
//   GET /crashes?signature=&program=&class=&status=&after=   crashes, newest first, 100 a page
//                                            (`after` is the last row's key, web_queries.h)
//   GET /crashes/ID                          one crash: status, signature, annotations, error, and
//                                            its analysis report in a sandboxed frame
//   GET /crashes/ID/report                   the stored `analyze` HTML report
#pragma once

#include <httplib.h>

#include "service/page_layout.h"
#include "service/service_context.h"
#include "service/web_login.h"
#include "service/web_queries.h"

namespace dumpscope::service {

class WebPages {
public:
    WebPages(ServiceContext& context, WebLogin& login, WebQueries& queries)
        : context_(context), login_(login), queries_(queries) {}
    void add_routes(httplib::Server& server);

    // For other features' pages: the login form (401) unless the request is logged in (a live
    // session or the API's token), as WebLogin::refuse.
    bool refuse(const httplib::Request& request, httplib::Response& response) {
        return login_.refuse(request, response);
    }
    // The request's live session id (its cookie), or "" (none, unknown, expired, or only the
    // API's header).
    std::string session_of(const httplib::Request& request) {
        const std::string session = WebLogin::session_of(request);
        return login_.valid(session) ? session : "";
    }

private:
    void top_crashers(const httplib::Request& request, httplib::Response& response);
    void signature_page(const httplib::Request& request, httplib::Response& response);
    void crash_list(const httplib::Request& request, httplib::Response& response);
    void crash_page(const httplib::Request& request, httplib::Response& response);
    void report_page(const httplib::Request& request, httplib::Response& response);

    ServiceContext& context_;
    WebLogin& login_;
    WebQueries& queries_;
};

}  // namespace dumpscope::service
