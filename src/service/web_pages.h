// The server-rendered pages: no script, no request to anywhere at view time (each page's
// Content-Security-Policy allows inline style only), everything from an upload HTML-escaped.
//   GET  /                     top crashers (signature, count, first and last seen, programs)
//   GET  /crashes?signature=&program=   the newest crashes, filtered
//   GET  /crashes/ID           one crash: status, signature, program, annotations, error
//   GET  /crashes/ID/report    the stored `analyze` HTML report
//   GET  /login, POST /login   a form taking the token; sets a session cookie (HttpOnly,
//                              SameSite=Strict; sessions live as long as the process)
// A page needs the session cookie or the API's `Authorization: Bearer TOKEN`; without, the login
// form (401).
#pragma once

#include <httplib.h>

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "service/service_context.h"

namespace dumpscope::service {

// A page in the shared layout (title, navigation, style, Content-Security-Policy); `body` is
// HTML the caller escaped.
void send_page(httplib::Response& response, int status, std::string_view title,
               const std::string& body);

class WebPages {
public:
    explicit WebPages(ServiceContext& context) : context_(context) {}
    void add_routes(httplib::Server& server);

    bool authorized(const httplib::Request& request);
    // Answers the login form (401) unless the request is authorized.
    bool refuse(const httplib::Request& request, httplib::Response& response);
    // The request's valid session id (its cookie), or "" (none, unknown, or the API's header).
    std::string session_of(const httplib::Request& request);

private:
    void login(const httplib::Request& request, httplib::Response& response);
    void top_crashers(const httplib::Request& request, httplib::Response& response);
    void crash_list(const httplib::Request& request, httplib::Response& response);
    void crash_page(const httplib::Request& request, httplib::Response& response);
    void report_page(const httplib::Request& request, httplib::Response& response);

    ServiceContext& context_;
    std::mutex mutex_;
    std::set<std::string> sessions_;
};

}  // namespace dumpscope::service
