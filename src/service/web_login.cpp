#include "service/web_login.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "service/auth.h"
#include "service/crash_id.h"
#include "service/crash_store.h"
#include "service/page_layout.h"

namespace dumpscope::service {

namespace {

constexpr size_t kMaxTargetLength = 2048;

}  // namespace

WebLogin::WebLogin(std::string token, SessionLimits limits, Clock clock)
    : token_(std::move(token)), limits_(limits), clock_(std::move(clock)) {}

int64_t WebLogin::now() const { return clock_ ? clock_() : now_ms(); }

void WebLogin::forget_expired(int64_t now_ms_value) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        const bool idle = now_ms_value - it->second.seen_ms >= limits_.idle_ms;
        const bool old = now_ms_value - it->second.created_ms >= limits_.lifetime_ms;
        it = idle || old ? sessions_.erase(it) : std::next(it);
    }
}

Result<std::optional<std::string>> WebLogin::log_in(std::string_view given) {
    if (!token_equals(given, token_)) return std::optional<std::string>();
    auto id = new_crash_id();
    if (!id.ok()) return id.error();
    const int64_t t = now();
    std::lock_guard lock(mutex_);
    forget_expired(t);
    if (sessions_.size() >= kMaxSessions) {
        auto oldest = sessions_.begin();
        for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
            if (it->second.seen_ms < oldest->second.seen_ms) oldest = it;
        sessions_.erase(oldest);
    }
    sessions_[*id] = Session{t, t};
    return std::optional<std::string>(*id);
}

bool WebLogin::valid(std::string_view session) {
    if (!is_crash_id(session)) return false;
    const int64_t t = now();
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return false;
    if (t - it->second.seen_ms >= limits_.idle_ms ||
        t - it->second.created_ms >= limits_.lifetime_ms) {
        sessions_.erase(it);
        return false;
    }
    it->second.seen_ms = t;
    return true;
}

void WebLogin::log_out(std::string_view session) {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(session); it != sessions_.end()) sessions_.erase(it);
}

size_t WebLogin::session_count() {
    const int64_t t = now();
    std::lock_guard lock(mutex_);
    forget_expired(t);
    return sessions_.size();
}

std::string WebLogin::session_of(const httplib::Request& request) {
    const std::string_view name = kSessionCookie;
    // Every Cookie header, each "a=b; c=d".
    const size_t headers = request.get_header_value_count("Cookie");
    for (size_t h = 0; h < headers; ++h) {
        const std::string header = request.get_header_value("Cookie", h);
        std::string_view rest(header);
        while (!rest.empty()) {
            const size_t end = rest.find(';');
            std::string_view pair = rest.substr(0, end);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
                pair[name.size()] == '=')
                return std::string(pair.substr(name.size() + 1));
            if (end == std::string_view::npos) break;
            rest.remove_prefix(end + 1);
        }
    }
    return "";
}

bool WebLogin::authorized(const httplib::Request& request) {
    if (bearer_authorized(request.get_header_value("Authorization"), token_)) return true;
    return valid(session_of(request));
}

std::string WebLogin::login_form(std::string_view next, bool wrong_token) {
    return fmt::format(
        "{}<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" "
        "value=\"{}\"><label>Token <input type=\"password\" name=\"token\" "
        "autocomplete=\"current-password\" required autofocus></label> <button>Log "
        "in</button></form>\n",
        wrong_token ? "<p class=\"failed\">Wrong token.</p>" : "", html_escape(local_target(next)));
}

bool WebLogin::refuse(const httplib::Request& request, httplib::Response& response) {
    if (authorized(request)) return false;
    send_bare_page(response, 401, "Log in",
                   login_form(request.method == "GET" ? request.target : "/", false));
    return true;
}

bool WebLogin::refuse_form(const httplib::Request& request, httplib::Response& response) {
    if (!same_origin(request)) {
        send_bare_page(response, 403, "Refused", "<p>This form was sent from another site.</p>\n");
        return true;
    }
    return refuse(request, response);
}

bool WebLogin::same_origin(const httplib::Request& request) {
    if (request.has_header("Sec-Fetch-Site")) {
        const std::string site = request.get_header_value("Sec-Fetch-Site");
        return site == "same-origin" || site == "none";
    }
    if (!request.has_header("Origin")) return true;  // not a browser, or an old one
    const std::string origin = request.get_header_value("Origin");
    const size_t scheme = origin.find("://");
    if (scheme == std::string::npos) return false;  // "null": a sandboxed frame, a data: page
    return origin.substr(scheme + 3) == request.get_header_value("Host");
}

std::string WebLogin::local_target(std::string_view next) {
    if (next.empty() || next.size() > kMaxTargetLength || next.front() != '/') return "/";
    if (next.size() > 1 && (next[1] == '/' || next[1] == '\\')) return "/";
    for (const char c : next) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\') return "/";
    }
    return std::string(next);
}

void WebLogin::login_route(const httplib::Request& request, httplib::Response& response) {
    if (!same_origin(request)) {
        send_bare_page(response, 403, "Refused", "<p>This form was sent from another site.</p>\n");
        return;
    }
    const std::string next = local_target(request.get_param_value("next"));
    auto session = log_in(request.get_param_value("token"));
    if (!session.ok()) {
        send_bare_page(response, 500, "Error", "<p>Cannot make a session.</p>\n");
        return;
    }
    if (!session->has_value()) {
        send_bare_page(response, 401, "Log in", login_form(next, true));
        return;
    }
    // No Max-Age: the browser forgets it when it closes; the server after 12 h idle.
    response.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict",
                                                  kSessionCookie, **session));
    response.set_redirect(next, 303);
}

void WebLogin::logout_route(const httplib::Request& request, httplib::Response& response) {
    if (!same_origin(request)) {
        send_bare_page(response, 403, "Refused", "<p>This form was sent from another site.</p>\n");
        return;
    }
    log_out(session_of(request));
    response.set_header(
        "Set-Cookie",
        fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", kSessionCookie));
    response.set_redirect("/login", 303);
}

void WebLogin::add_routes(httplib::Server& server) {
    server.Get("/login", [this](const httplib::Request& req, httplib::Response& res) {
        const std::string next = local_target(req.get_param_value("next"));
        if (authorized(req))
            res.set_redirect(next, 303);
        else
            send_bare_page(res, 200, "Log in", login_form(next, false));
    });
    server.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
        login_route(req, res);
    });
    server.Post("/logout", [this](const httplib::Request& req, httplib::Response& res) {
        logout_route(req, res);
    });
}

}  // namespace dumpscope::service
