// The web UI (docs/service.md, Pages) in a real browser: a `dumpscope server` with a few dumps
// processed (three of one crash, one of another), headless Chromium (Debian's `chromium`, driven
// over the DevTools pipe: headless_chromium.h) logging in through the form, then each page:
// the DOM holds the signatures, the counts and the trend charts, a hostile annotation shows as
// text, the crash page frames its analysis report, and nothing goes wrong on the way (no console
// error or warning, no exception, no Content-Security-Policy violation, no request leaving the
// server). Without a browser: who gets the login form, the redirects after a login (this server
// only), forms from other sites, the log-out.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "headless_chromium.h"
#include "service_support.h"
#include "support.h"

namespace {

using namespace test_support;
using namespace service_support;
using nlohmann::json;

// Script, an image that would run script, quotes and an ampersand: all must show as this text.
constexpr const char* kHostile =
    "<script>document.title=\"pwned\"</script><img src=x onerror=\"document.title='pwned'\"> "
    "\"quoted\" & 'single'";

// Installed in every document before its own content: records the policy violations it sees.
constexpr const char* kViolationRecorder =
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    "  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });";

// One tab on the server's pages: navigations wait for the load event; problems() lists what went
// wrong in the tab (and the frames it embeds) since a given point.
class Tab {
public:
    Tab(HeadlessChromium& browser, std::string origin)
        : browser_(browser), origin_(std::move(origin)) {
        const std::string target =
            browser_.call("Target.createTarget", {{"url", "about:blank"}}).at("targetId");
        session_ = browser_.call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}})
                       .at("sessionId")
                       .get<std::string>();
        for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"})
            browser_.call(domain, {}, session_);
        browser_.call("Page.addScriptToEvaluateOnNewDocument", {{"source", kViolationRecorder}},
                      session_);
        // Frames in processes of their own (a sandboxed frame may be one) become sessions too.
        browser_.call("Target.setAutoAttach",
                      {{"autoAttach", true}, {"waitForDebuggerOnStart", false}, {"flatten", true}},
                      session_);
    }

    size_t mark() const { return browser_.events().size(); }

    // Opens `path` on the server and waits for its load event.
    void go(const std::string& path) {
        const size_t from = mark();
        const json navigated = browser_.call("Page.navigate", {{"url", origin_ + path}}, session_);
        if (navigated.contains("errorText"))
            throw std::runtime_error("cannot open " + path + ": " + navigated.dump());
        wait_load(from, path);
    }

    // Evaluates `expression`, which makes the page navigate (a click), and waits for the next
    // page's load event.
    void act(const std::string& expression) {
        const size_t from = mark();
        eval(expression);
        wait_load(from, expression);
    }

    json eval(const std::string& expression, const std::string& session = "",
              std::optional<int> context = std::nullopt) {
        json params = {{"expression", expression}, {"returnByValue", true}};
        if (context) params["contextId"] = *context;
        const json evaluated =
            browser_.call("Runtime.evaluate", params, session.empty() ? session_ : session);
        if (evaluated.contains("exceptionDetails"))
            throw std::runtime_error("the expression threw: " + evaluated.dump());
        return evaluated.at("result").value("value", json());
    }

    // Evaluates `expression` in the page's first child frame (the crash page's report).
    json eval_in_frame(const std::string& expression) {
        for (const json& e : browser_.events()) {
            if (e.value("method", "") != "Target.attachedToTarget" ||
                e.value("sessionId", "") != session_)
                continue;
            const json& info = e.at("params").at("targetInfo");
            if (info.value("type", "") != "iframe") continue;
            const std::string child = e.at("params").at("sessionId");
            if (children_.insert(child).second)
                for (const char* domain : {"Runtime.enable", "Log.enable"})
                    browser_.call(domain, {}, child);
            return eval(expression, child);
        }
        // The frame is in the page's process: a world of the test's own in it.
        const json tree = browser_.call("Page.getFrameTree", {}, session_);
        const json& children = tree.at("frameTree").value("childFrames", json::array());
        if (children.empty()) throw std::runtime_error("the page has no frame");
        const json world = browser_.call(
            "Page.createIsolatedWorld",
            {{"frameId", children.at(0).at("frame").at("id")}, {"worldName", "test"}}, session_);
        return eval(expression, "", world.at("executionContextId").get<int>());
    }

    // What went wrong in the tab and its frames since `from`: console errors and warnings,
    // uncaught exceptions, error and warning log entries, requests that leave the server.
    std::vector<std::string> problems(size_t from) const {
        std::vector<std::string> found;
        const auto& events = browser_.events();
        for (size_t i = from; i < events.size(); ++i) {
            const json& e = events[i];
            const std::string session = e.value("sessionId", "");
            if (session != session_ && children_.count(session) == 0) continue;
            const std::string method = e.value("method", "");
            const json params = e.value("params", json::object());
            if (method == "Runtime.consoleAPICalled") {
                const std::string type = params.value("type", "");
                if (type == "error" || type == "warning" || type == "assert")
                    found.push_back("console." + type + ": " + params.value("args", json()).dump());
            } else if (method == "Runtime.exceptionThrown") {
                found.push_back("exception: " + params.value("exceptionDetails", json()).dump());
            } else if (method == "Log.entryAdded") {
                const std::string level = params.at("entry").value("level", "");
                if (level == "error" || level == "warning")
                    found.push_back("log " + level + ": " + params.at("entry").dump());
            } else if (method == "Network.requestWillBeSent") {
                const std::string url = params.at("request").value("url", "");
                if (url.rfind(origin_ + "/", 0) != 0) found.push_back("request for " + url);
            }
        }
        return found;
    }

    const std::string& session() const { return session_; }

private:
    void wait_load(size_t from, const std::string& what) {
        if (!browser_.wait_event_since("Page.loadEventFired", session_, from, 60))
            throw std::runtime_error("no load event after " + what);
    }

    HeadlessChromium& browser_;
    std::string origin_;
    std::string session_;
    std::set<std::string> children_;
};

// A crash handler's dump (crash_null_write) uploaded by the handler itself, then twice more with
// other annotations (one hostile); a live dump of fixture_healthy once: two signatures, 3 and 1.
struct Uploads {
    std::string handler_id, hostile_id, plain_id, healthy_id;
};

Uploads upload_crashes(const ServerProcess& server, const TempDir& dumps) {
    Uploads u;
    const CommandResult crashed = run({"env", "DUMPSCOPE_UPLOAD_URL=" + server.url() + "/submit",
                                       example("crash_handler"), dumps.path(), "null"},
                                      kGenerousSeconds);
    EXPECT_EQ(crashed.signal, SIGSEGV) << crashed.out << crashed.err;
    const std::vector<std::string> written = entries_of(dumps.path());
    if (written.size() != 1u) {
        ADD_FAILURE() << "the crash handler left " << written.size() << " files";
        return u;
    }
    const std::string crash_dump = file_text(dumps.path() + "/" + written[0]);
    u.hostile_id =
        crash_id_of(submit(server, form_body({{"ver", kHostile}, {"note", kHostile}}, crash_dump)));
    u.plain_id = crash_id_of(submit(server, form_body({{"ver", "2.0"}}, crash_dump)));
    TempDir live;
    u.healthy_id =
        crash_id_of(submit(server, form_body({{"ver", "1.0"}}, file_text(healthy_dump(live)))));
    // The handler's own upload: the one crash that is none of the above.
    const auto deadline = Clock::now() + std::chrono::seconds(kGenerousSeconds);
    while (u.handler_id.empty() && Clock::now() < deadline) {
        const json listed = get_json(server, "/api/crashes");
        if (listed.is_object())
            for (const json& c : listed.at("crashes")) {
                const std::string id = c.at("id");
                if (id != u.hostile_id && id != u.plain_id && id != u.healthy_id) u.handler_id = id;
            }
        if (u.handler_id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const std::string* id : {&u.handler_id, &u.hostile_id, &u.plain_id, &u.healthy_id}) {
        EXPECT_FALSE(id->empty());
        if (!id->empty()) {
            EXPECT_EQ(wait_until_done(server, *id).value("status", ""), "processed");
        }
    }
    return u;
}

TEST(ServiceWeb, PagesRenderInABrowserWithoutProblems) {
    const std::string chromium = HeadlessChromium::find_binary();
    ASSERT_FALSE(chromium.empty()) << "chromium is not installed (Debian package chromium; make "
                                      "deps installs it)";
    TempDir data, dumps, profile;
    ServerProcess server(data.path());
    const Uploads u = upload_crashes(server, dumps);
    ASSERT_FALSE(HasFailure());
    const json handler = get_json(server, "/api/crashes/" + u.handler_id);
    const std::string signature = handler.at("signature");
    ASSERT_NE(signature.find("crash_null_write"), std::string::npos) << signature;
    const std::string healthy_signature =
        get_json(server, "/api/crashes/" + u.healthy_id).at("signature");
    ASSERT_NE(healthy_signature, signature);

    pid_t group = -1;
    {
        HeadlessChromium browser(chromium, profile.path() + "/profile",
                                 profile.path() + "/chromium.log");
        group = browser.pid();
        try {
            Tab tab(browser, server.url());

            // Not logged in: the hostile crash's page is the login form, which comes back to it.
            size_t from = tab.mark();
            tab.go("/crashes/" + u.hostile_id);
            json facts = tab.eval(
                "({form: !!document.querySelector('form[action=\"/login\"] input[name=token]'),"
                " next: document.querySelector('input[name=next]').value,"
                " text: document.body.innerText})");
            EXPECT_TRUE(facts.value("form", false)) << facts.dump();
            EXPECT_EQ(facts.value("next", ""), "/crashes/" + u.hostile_id);
            EXPECT_EQ(facts.value("text", "").find(u.hostile_id), std::string::npos);
            // The 401 itself is the only thing the browser has to say about it.
            for (const std::string& p : tab.problems(from))
                EXPECT_NE(p.find("401"), std::string::npos) << p;

            from = tab.mark();
            tab.act(std::string("document.querySelector('input[name=token]').value = '") + kToken +
                    "'; document.querySelector('form button').click()");
            facts = tab.eval(
                "({path: location.pathname, h1: document.querySelector('main h1').textContent,"
                " title: document.title, scripts: document.scripts.length,"
                " images: document.images.length, violations: window.__violations,"
                " note: [...document.querySelectorAll('table.annotations tr')]"
                "   .filter(r => r.querySelector('th').textContent === 'note')"
                "   .map(r => r.querySelector('td').textContent),"
                " signature: document.querySelector('a.signature').textContent,"
                " frame: document.querySelector('iframe.report').getAttribute('src'),"
                " sandbox: document.querySelector('iframe.report').getAttribute('sandbox')})");
            EXPECT_EQ(facts.value("path", ""), "/crashes/" + u.hostile_id) << facts.dump();
            EXPECT_EQ(facts.value("h1", ""), "Crash");
            EXPECT_EQ(facts.value("title", ""), "Crash - dumpscope");
            EXPECT_EQ(facts.value("scripts", -1), 0);
            EXPECT_EQ(facts.value("images", -1), 0);
            EXPECT_EQ(facts.at("violations"), json::array());
            EXPECT_EQ(facts.at("note"), json::array({kHostile}));
            EXPECT_EQ(facts.value("signature", ""), signature);
            EXPECT_EQ(facts.value("frame", ""), "/crashes/" + u.hostile_id + "/report");
            EXPECT_EQ(facts.value("sandbox", ""), "allow-scripts");
            // The report in its frame: analyze's page for this crash, its script run.
            const json report = tab.eval_in_frame(
                "({text: document.body.innerText, origin: self.origin,"
                " ready: document.readyState})");
            EXPECT_EQ(report.value("ready", ""), "complete") << report.dump();
            EXPECT_NE(report.value("text", "").find("crash_null_write"), std::string::npos);
            EXPECT_EQ(report.value("origin", ""), "null");  // sandboxed: an origin of its own
            EXPECT_EQ(tab.problems(from), std::vector<std::string>{});

            // Top crashers: two signatures, 3 and 1 crashes, each with 14 days of bars adding up
            // to its count (every crash came today).
            from = tab.mark();
            tab.go("/");
            facts = tab.eval(
                "[...document.querySelectorAll('table.top tbody tr')].map(r => ({"
                " signature: r.querySelector('a.signature').textContent,"
                " count: Number(r.querySelector('td.count').textContent),"
                " bars: [...r.querySelectorAll('svg.trend rect')].map(b =>"
                "   Number(b.getAttribute('data-count'))),"
                " heights: [...r.querySelectorAll('svg.trend rect')].map(b =>"
                "   b.getBoundingClientRect().height)}))");
            ASSERT_EQ(facts.size(), 2u) << facts.dump();
            EXPECT_EQ(facts[0].value("signature", ""), signature);
            EXPECT_EQ(facts[0].value("count", 0), 3);
            // A live dump of a healthy process has no crash finding: an empty signature.
            EXPECT_EQ(facts[1].value("signature", ""),
                      healthy_signature.empty() ? "(no signature)" : healthy_signature);
            EXPECT_EQ(facts[1].value("count", 0), 1);
            for (const json& row : facts) {
                const auto bars = row.at("bars").get<std::vector<int>>();
                ASSERT_EQ(bars.size(), 14u) << row.dump();
                int sum = 0;
                for (const int b : bars) sum += b;
                EXPECT_EQ(sum, row.value("count", 0)) << row.dump();
                EXPECT_EQ(bars.back(), row.value("count", 0)) << row.dump();
                // The busiest day is drawn full height (20 px), an empty day as a 1 px line.
                EXPECT_EQ(row.at("heights").back(), 20.0) << row.dump();
                EXPECT_EQ(row.at("heights").front(), 1.0) << row.dump();
            }
            EXPECT_EQ(tab.eval("window.__violations"), json::array());
            EXPECT_EQ(tab.problems(from), std::vector<std::string>{});

            // The signature's page, through its link: count, versions (the hostile one as
            // text), programs, its crashes.
            from = tab.mark();
            tab.act("document.querySelector('table.top a.signature').click()");
            facts = tab.eval(
                "({h1: document.querySelector('main h1').textContent,"
                " signature: document.querySelector('code.signature').textContent,"
                " count: document.querySelector('table.summary td.count').textContent,"
                " bars: document.querySelectorAll('table.summary svg.trend rect').length,"
                " lists: [...document.querySelectorAll('main ul')].map(u => u.innerText),"
                " crashes: [...document.querySelectorAll('table.crashes tbody tr td:first-child')]"
                "   .map(td => td.textContent).sort(),"
                " scripts: document.scripts.length, images: document.images.length,"
                " violations: window.__violations})");
            EXPECT_EQ(facts.value("h1", ""), "Signature") << facts.dump();
            EXPECT_EQ(facts.value("signature", ""), signature);
            EXPECT_EQ(facts.value("count", ""), "3");
            EXPECT_EQ(facts.value("bars", 0), 14);
            const std::string lists = facts.at("lists").dump();
            EXPECT_NE(lists.find("crash_handler (3)"), std::string::npos) << lists;
            EXPECT_NE(lists.find("1.2.3 (1)"), std::string::npos) << lists;
            EXPECT_NE(lists.find("2.0 (1)"), std::string::npos) << lists;
            const std::string hostile_line = json(std::string(kHostile) + " (1)").dump();
            EXPECT_NE(lists.find(hostile_line.substr(1, hostile_line.size() - 2)),
                      std::string::npos)
                << lists;
            EXPECT_NE(lists.find("null-dereference (3)"), std::string::npos) << lists;
            std::vector<std::string> expected = {u.handler_id, u.hostile_id, u.plain_id};
            std::sort(expected.begin(), expected.end());
            EXPECT_EQ(facts.at("crashes").get<std::vector<std::string>>(), expected);
            EXPECT_EQ(facts.value("scripts", -1), 0);
            EXPECT_EQ(facts.value("images", -1), 0);
            EXPECT_EQ(facts.at("violations"), json::array());
            EXPECT_EQ(tab.problems(from), std::vector<std::string>{});

            // A signature from the address bar is text as well.
            from = tab.mark();
            tab.go("/signature?signature=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
            facts = tab.eval(
                "({text: document.querySelector('main').innerText, scripts: "
                "document.scripts.length})");
            EXPECT_NE(facts.value("text", "").find("<script>alert(1)</script>"), std::string::npos)
                << facts.dump();
            EXPECT_EQ(facts.value("scripts", -1), 0);
            for (const std::string& p : tab.problems(from))  // a 404
                EXPECT_NE(p.find("404"), std::string::npos) << p;

            // The crash list: all four, newest first, with the status and the program.
            from = tab.mark();
            tab.go("/crashes");
            facts = tab.eval(
                "[...document.querySelectorAll('table.crashes tbody tr')].map(r =>"
                " [...r.cells].map(c => c.textContent))");
            ASSERT_EQ(facts.size(), 4u) << facts.dump();
            for (const json& row : facts) EXPECT_EQ(row.at(2), "processed") << row.dump();
            EXPECT_EQ(facts[0].at(0), u.healthy_id);  // uploaded last
            EXPECT_EQ(facts[0].at(3), "fixture_healthy");
            EXPECT_EQ(tab.problems(from), std::vector<std::string>{});

            // Logging out: back to the form; the pages need a login again.
            tab.act("document.querySelector('form[action=\"/logout\"] button').click()");
            EXPECT_EQ(tab.eval("location.pathname"), "/login");
            tab.go("/");
            EXPECT_EQ(tab.eval("!!document.querySelector('input[name=token]') && "
                               "!document.querySelector('table.top')"),
                      true);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what() << "\n" << file_text(profile.path() + "/chromium.log");
        }
        EXPECT_TRUE(browser.shut_down());
    }
    EXPECT_TRUE(HeadlessChromium::live_group_members(group).empty());
}

std::string cookie_of(const httplib::Result& login) {
    const std::string set = login->get_header_value("Set-Cookie");
    return set.substr(0, set.find(';'));
}

// Without a browser: 401 and the form for every page without a login (the report included),
// the redirect after a login stays on this server, a login form posted from another site is
// refused, a logged-out session is dead.
TEST(ServiceWeb, LoginRedirectsOnlyHereAndLogoutEndsTheSession) {
    TempDir data;
    ServerProcess server(data.path());
    httplib::Client c = server.client();
    const std::string id(32, 'a');
    const std::vector<std::string> paths = {"/",
                                            "/?offset=50",
                                            "/signature?signature=x",
                                            "/crashes",
                                            "/crashes?after=1.0",
                                            "/crashes/" + id,
                                            "/crashes/" + id + "/report"};
    for (const std::string& path : paths) {
        auto r = c.Get(path);
        ASSERT_TRUE(r) << path;
        EXPECT_EQ(r->status, 401) << path;
        EXPECT_NE(r->body.find("action=\"/login\""), std::string::npos) << path;
        EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'none'"),
                  std::string::npos);
    }
    // The login form at /login itself is a page like any other.
    auto form = c.Get("/login?next=/crashes");
    ASSERT_TRUE(form);
    EXPECT_EQ(form->status, 200);
    EXPECT_NE(form->body.find("name=\"next\" value=\"/crashes\""), std::string::npos);

    const auto login = [&](const std::string& next, httplib::Headers headers = {}) {
        return c.Post("/login", headers, httplib::Params{{"token", kToken}, {"next", next}});
    };
    for (const std::string away : {"//evil.example/", "https://evil.example/", "/\\evil.example",
                                   "\\\\evil.example", "javascript:alert(1)"}) {
        auto r = login(away);
        ASSERT_TRUE(r) << away;
        EXPECT_EQ(r->status, 303) << away;
        EXPECT_EQ(r->get_header_value("Location"), "/") << away;
    }
    // (cpp-httplib's client percent-decodes the Location it receives: a target without escapes.)
    auto here = login("/crashes?signature=abc&program=p");
    ASSERT_TRUE(here);
    EXPECT_EQ(here->status, 303);
    EXPECT_EQ(here->get_header_value("Location"), "/crashes?signature=abc&program=p");
    const std::string set_cookie = here->get_header_value("Set-Cookie");
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;

    // Another site's form, with or without the Fetch Metadata headers: refused, no session.
    for (const httplib::Headers& from_away :
         {httplib::Headers{{"Origin", "http://evil.example"}},
          httplib::Headers{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "http://evil.example"}},
          httplib::Headers{{"Origin", "null"}}}) {
        auto r = login("/", from_away);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 403);
        EXPECT_FALSE(r->has_header("Set-Cookie"));
    }

    const httplib::Headers session{{"Cookie", cookie_of(here)}};
    auto top = c.Get("/", session);
    ASSERT_TRUE(top);
    EXPECT_EQ(top->status, 200);
    auto logged_in = c.Get("/login?next=/crashes", session);  // already in: straight on
    ASSERT_TRUE(logged_in);
    EXPECT_EQ(logged_in->status, 303);
    EXPECT_EQ(logged_in->get_header_value("Location"), "/crashes");
    auto out = c.Post("/logout", session, "", "application/x-www-form-urlencoded");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->status, 303);
    EXPECT_EQ(out->get_header_value("Location"), "/login");
    EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
    auto after = c.Get("/", session);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 401);
    // The API's token opens the pages as well.
    auto with_api_token = c.Get("/crashes", with_token());
    ASSERT_TRUE(with_api_token);
    EXPECT_EQ(with_api_token->status, 200);
}

}  // namespace
