// The remote-collection pages, in the shared layout of web_pages.h and behind its login:
//   GET  /agents                 the agents (host, kernel, version, allow-list, last seen)
//   GET  /agents/NAME            one agent and its processes (asked of it when the page is
//                                loaded), each with a "Collect" form
//   POST /agents/NAME/collect    the form: target, type, csrf -> 303 to the collection's page
//   GET  /collections            the newest collections
//   GET  /collections/ID         one collection: status, error, the crash when done
// A form's POST needs the CSRF token the page put in it, tied to the session cookie (a random
// token per session), or the API's Authorization header (which a browser never adds by itself).
#pragma once

#include <httplib.h>

#include <map>
#include <mutex>
#include <string>

#include "service/service_context.h"
#include "service/web_pages.h"

namespace dumpscope::service {

class AgentPages {
public:
    AgentPages(ServiceContext& context, WebPages& pages) : context_(context), pages_(pages) {}
    void add_routes(httplib::Server& server);

private:
    // The session's CSRF token, made on first use; "" without a session.
    std::string csrf_token(const httplib::Request& request);
    bool csrf_valid(const httplib::Request& request);
    void agents_page(const httplib::Request& request, httplib::Response& response);
    void agent_page(const httplib::Request& request, httplib::Response& response);
    void collect(const httplib::Request& request, httplib::Response& response);
    void collections_page(const httplib::Request& request, httplib::Response& response);
    void collection_page(const httplib::Request& request, httplib::Response& response);

    ServiceContext& context_;
    WebPages& pages_;
    std::mutex mutex_;
    std::map<std::string, std::string> csrf_;  // session -> token
};

}  // namespace dumpscope::service
