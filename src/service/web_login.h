// Who may see the web UI's pages (docs/service.md, Pages): a visitor logged in through the form
// at /login with the API token, holding a session cookie, or a client sending the API's
// `Authorization: Bearer TOKEN`.
//   - A session is a random id (16 bytes from getrandom, 32 hex digits) in a cookie that is
//     HttpOnly and SameSite=Strict, so another site can neither read it nor make the browser send
//     it. It is forgotten after `idle` without a request (12 h), and `lifetime` after the login
//     (7 days) whatever happens; sessions live in the process's memory (a restart logs everyone
//     out), at most kMaxSessions of them (the least recently used goes first).
//   - A form that changes something (log in, log out, the agents' "collect") is refused when the
//     browser says it comes from another site (Sec-Fetch-Site, else an Origin that is not this
//     server's Host).
//   - After the login the browser goes back where it was: `next`, if it is a path on this server
//     (one '/' then no '/' or '\': never another host), else "/".
// Pages of other features use it through ServiceContext::web_login:
//     if (context.web_login->refuse(request, response)) return;       // GET pages
//     if (context.web_login->refuse_form(request, response)) return;  // POST forms
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dumpscope::service {

inline constexpr const char* kSessionCookie = "dumpscope_session";

struct SessionLimits {
    int64_t idle_ms = int64_t{12} * 3600 * 1000;
    int64_t lifetime_ms = int64_t{7} * 24 * 3600 * 1000;
};

class WebLogin {
public:
    static constexpr size_t kMaxSessions = 10000;
    using Clock = std::function<int64_t()>;  // milliseconds since the epoch

    explicit WebLogin(std::string token, SessionLimits limits = {}, Clock clock = {});

    // A new session if `given` is the token; nullopt if it is not.
    Result<std::optional<std::string>> log_in(std::string_view given);
    // True if `session` is a live session; a request through it restarts its idle time.
    bool valid(std::string_view session);
    void log_out(std::string_view session);
    size_t session_count();

    // The session cookie's value in the request's Cookie header ("" without one).
    static std::string session_of(const httplib::Request& request);
    // The API's bearer token, or a live session cookie.
    bool authorized(const httplib::Request& request);
    // Unless `request` is authorized: answers 401 with the login form (coming back to this page
    // afterwards) and returns true.
    bool refuse(const httplib::Request& request, httplib::Response& response);
    // For a POST form: refuse(), and 403 for a request another site made the browser send.
    bool refuse_form(const httplib::Request& request, httplib::Response& response);

    // False if the browser tells the request comes from another site (Sec-Fetch-Site
    // "cross-site" or "same-site", else an Origin header whose host:port is not the Host header).
    static bool same_origin(const httplib::Request& request);
    // `next` if it is a path on this server ("/..." without "//", "/\", control characters or
    // spaces), else "/".
    static std::string local_target(std::string_view next);
    // The login form (no layout), posting to /login and coming back to `next`.
    static std::string login_form(std::string_view next, bool wrong_token);

    void add_routes(httplib::Server& server);

private:
    struct Session {
        int64_t created_ms = 0;
        int64_t seen_ms = 0;
    };
    int64_t now() const;
    void forget_expired(int64_t now_ms);
    void login_route(const httplib::Request& request, httplib::Response& response);
    void logout_route(const httplib::Request& request, httplib::Response& response);

    std::string token_;
    SessionLimits limits_;
    Clock clock_;
    std::mutex mutex_;
    std::map<std::string, Session, std::less<>> sessions_;
};

}  // namespace dumpscope::service
