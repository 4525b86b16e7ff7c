// The web UI's parts without a server: sessions (expiry, log-out, forged ids), where a login may
// send the browser back to, which form posts count as this site's, the pages' queries (top
// crashers with their daily counts, a signature's programs and versions, crash lists paged by
// key) and the trend chart.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "service/crash_store.h"
#include "service/page_layout.h"
#include "service/sqlite_db.h"
#include "service/trend_svg.h"
#include "service/web_login.h"
#include "service/web_queries.h"
#include "temp_files.h"

namespace dumpscope::service {
namespace {

using test_files::TempDir;

constexpr int64_t kHourMs = int64_t{3600} * 1000;

TEST(ServiceWebLogin, SessionsNeedTheTokenAndExpireWhenIdleOrOld) {
    int64_t now = 1'000'000'000'000;
    WebLogin login("s3cret", SessionLimits{12 * kHourMs, 48 * kHourMs}, [&now] { return now; });
    auto wrong = login.log_in("s3cre");
    ASSERT_TRUE(wrong.ok());
    EXPECT_FALSE(wrong->has_value());
    auto session = login.log_in("s3cret");
    ASSERT_TRUE(session.ok() && session->has_value());
    const std::string id = **session;
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(login.valid(id));
    // Each request restarts the idle time: 11 h apart, four times, stays valid...
    for (int i = 0; i < 4; ++i) {
        now += 11 * kHourMs;
        EXPECT_TRUE(login.valid(id)) << i;
    }
    // ...until the lifetime ends (48 h after the login), whatever the activity.
    now += 5 * kHourMs;
    EXPECT_FALSE(login.valid(id));
    EXPECT_EQ(login.session_count(), 0u);

    auto idle = login.log_in("s3cret");
    ASSERT_TRUE(idle.ok() && idle->has_value());
    now += 12 * kHourMs;
    EXPECT_FALSE(login.valid(**idle));

    auto out = login.log_in("s3cret");
    ASSERT_TRUE(out.ok() && out->has_value());
    EXPECT_TRUE(login.valid(**out));
    login.log_out(**out);
    EXPECT_FALSE(login.valid(**out));
    EXPECT_FALSE(login.valid("0123456789abcdef0123456789abcdef"));
    EXPECT_FALSE(login.valid(""));
    EXPECT_FALSE(login.valid("../../etc/passwd"));
}

TEST(ServiceWebLogin, RequestsAreAuthorizedByTheCookieOrTheBearerToken) {
    WebLogin login("s3cret");
    auto session = login.log_in("s3cret");
    ASSERT_TRUE(session.ok() && session->has_value());
    httplib::Request with_cookie;
    with_cookie.headers.emplace("Cookie", "other=1; dumpscope_session=" + **session + "; x=y");
    EXPECT_EQ(WebLogin::session_of(with_cookie), **session);
    EXPECT_TRUE(login.authorized(with_cookie));
    httplib::Request with_token;
    with_token.headers.emplace("Authorization", "Bearer s3cret");
    EXPECT_TRUE(login.authorized(with_token));
    httplib::Request neither;
    neither.headers.emplace("Cookie", "dumpscope_sessionx=" + **session);
    EXPECT_FALSE(login.authorized(neither));
    httplib::Response response;
    EXPECT_TRUE(login.refuse(neither, response));
    EXPECT_EQ(response.status, 401);
    EXPECT_NE(response.body.find("action=\"/login\""), std::string::npos);
}

TEST(ServiceWebLogin, TheLoginSendsTheBrowserBackToLocalPathsOnly) {
    EXPECT_EQ(WebLogin::local_target("/crashes?signature=a%20b"), "/crashes?signature=a%20b");
    EXPECT_EQ(WebLogin::local_target("/"), "/");
    for (const char* away :
         {"", "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
          "/a\\b", "evil.example", "/a b", "/a\r\nSet-Cookie:", "javascript:alert(1)", " /x"})
        EXPECT_EQ(WebLogin::local_target(away), "/") << away;
    EXPECT_EQ(WebLogin::local_target(std::string(3000, '/')), "/");
}

TEST(ServiceWebLogin, FormsFromOtherSitesAreNotThisSites) {
    const auto request = [](std::vector<std::pair<std::string, std::string>> headers) {
        httplib::Request r;
        for (auto& [name, value] : headers) r.headers.emplace(name, value);
        return r;
    };
    EXPECT_TRUE(WebLogin::same_origin(request({{"Host", "127.0.0.1:8470"}})));
    EXPECT_TRUE(WebLogin::same_origin(
        request({{"Host", "127.0.0.1:8470"}, {"Origin", "http://127.0.0.1:8470"}})));
    EXPECT_FALSE(WebLogin::same_origin(
        request({{"Host", "127.0.0.1:8470"}, {"Origin", "http://evil.example"}})));
    EXPECT_FALSE(WebLogin::same_origin(request({{"Host", "127.0.0.1:8470"}, {"Origin", "null"}})));
    EXPECT_TRUE(WebLogin::same_origin(request({{"Sec-Fetch-Site", "same-origin"}})));
    EXPECT_FALSE(WebLogin::same_origin(request({{"Sec-Fetch-Site", "cross-site"}})));
    EXPECT_FALSE(WebLogin::same_origin(request({{"Sec-Fetch-Site", "same-site"}})));
}

TEST(ServiceWebLayout, EscapesAndFramesThePage) {
    EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"),
              "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    EXPECT_EQ(query_escape("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    const std::string page = render_page("<Top>", "<p>body</p>");
    EXPECT_NE(page.find("<title>&lt;Top&gt; - dumpscope</title>"), std::string::npos);
    EXPECT_NE(page.find("<p>body</p>"), std::string::npos);
    for (const char* link : {"href=\"/\"", "href=\"/crashes\"", "href=\"/agents\"",
                             "href=\"/collections\"", "action=\"/logout\""})
        EXPECT_NE(page.find(link), std::string::npos) << link;
    EXPECT_EQ(render_bare_page("Log in", "").find("/logout"), std::string::npos);
    httplib::Response response;
    send_page(response, 200, "T", "");
    EXPECT_EQ(response.get_header_value("Content-Security-Policy"), kPagePolicy);
    EXPECT_NE(std::string(kPagePolicy).find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(response.get_header_value("X-Frame-Options"), "DENY");
}

// Crash `n`'s id: 32 hex digits ending in n's.
std::string id_of(int n) {
    std::string id = std::to_string(n);
    return std::string(32 - id.size(), '0') + id;
}

class ServiceWebQueries : public ::testing::Test {
protected:
    void SetUp() override {
        auto opened = CrashStore::open(dir.path + "/crashes.db");
        ASSERT_TRUE(opened.ok()) << opened.error().message;
        store = std::move(*opened);
        auto db = Database::open(dir.path + "/crashes.db");
        ASSERT_TRUE(db.ok());
        queries = std::make_unique<WebQueries>(std::move(*db));
    }
    // A crash received at `at`, processed with `signature` (or left queued when empty).
    void add(int n, int64_t at, const std::string& signature, const std::string& program,
             Annotations annotations = {}) {
        ASSERT_TRUE(store->insert(NewCrash{id_of(n), at, 10, std::move(annotations)}).ok());
        if (signature.empty()) return;
        auto job = store->claim_next();
        ASSERT_TRUE(job.ok() && job->has_value());
        ASSERT_EQ((*job)->id, id_of(n));
        ASSERT_TRUE(*store->finish_processed(
            **job, ProcessedCrash{"minidump", "abort", signature, program, "{}", "<html></html>"}));
    }

    TempDir dir;
    std::unique_ptr<CrashStore> store;
    std::unique_ptr<WebQueries> queries;
};

TEST_F(ServiceWebQueries, TopSignaturesCountPerDayOverTheLastFourteenDays) {
    const int64_t day = kDayMs;
    const int64_t now = 20000 * day + 15 * kHourMs;  // today is day 20000 (UTC)
    EXPECT_EQ(trend_start(now), 19987 * day);
    // "a": 3 today, 1 yesterday, 1 thirteen days ago (the first day), 2 long before.
    int n = 0;
    for (int64_t at : {now - kHourMs, 20000 * day, 20000 * day + 1, 19999 * day + 5, 19987 * day,
                       19987 * day - 1, 19000 * day})
        add(++n, at, "a", "prog-a");
    // "b": 2, both on day 19990; "c": 1 queued (not processed: not counted).
    add(++n, 19990 * day + 7, "b", "prog-b");
    add(++n, 19990 * day + 9, "b", "prog-b2");
    add(++n, now, "", "");

    auto page = queries->top_signatures(now, 10, 0);
    ASSERT_TRUE(page.ok()) << page.error().message;
    ASSERT_EQ(page->rows.size(), 2u);
    EXPECT_FALSE(page->more);
    const SignatureRow& a = page->rows[0];
    EXPECT_EQ(a.signature, "a");
    EXPECT_EQ(a.count, 7);
    EXPECT_EQ(a.first_ms, 19000 * day);
    EXPECT_EQ(a.last_ms, now - kHourMs);
    std::array<int64_t, kTrendDays> expected_a{};
    expected_a[13] = 3;
    expected_a[12] = 1;
    expected_a[0] = 1;
    EXPECT_EQ(a.daily, expected_a);
    const SignatureRow& b = page->rows[1];
    EXPECT_EQ(b.signature, "b");
    EXPECT_EQ(b.count, 2);
    std::array<int64_t, kTrendDays> expected_b{};
    expected_b[3] = 2;
    EXPECT_EQ(b.daily, expected_b);

    // A page of one: "a", more after it; the next page: "b", nothing after.
    auto first = queries->top_signatures(now, 1, 0);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->rows.size(), 1u);
    EXPECT_EQ(first->rows[0].signature, "a");
    EXPECT_TRUE(first->more);
    auto second = queries->top_signatures(now, 1, 1);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->rows.size(), 1u);
    EXPECT_EQ(second->rows[0].signature, "b");
    EXPECT_FALSE(second->more);

    auto only = queries->top_signatures(now, 1, 0, std::string("b"));
    ASSERT_TRUE(only.ok());
    ASSERT_EQ(only->rows.size(), 1u);
    EXPECT_EQ(only->rows[0].daily, expected_b);
    auto none = queries->top_signatures(now, 1, 0, std::string("x' OR '1'='1"));
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->rows.empty());

    auto programs = queries->programs("b");
    ASSERT_TRUE(programs.ok());
    ASSERT_EQ(programs->size(), 2u);
    EXPECT_EQ((*programs)[0].value, "prog-b");
    EXPECT_EQ((*programs)[0].count, 1);
    auto classes = queries->crash_classes("a");
    ASSERT_TRUE(classes.ok());
    ASSERT_EQ(classes->size(), 1u);
    EXPECT_EQ((*classes)[0].value, "abort");
    EXPECT_EQ((*classes)[0].count, 7);
}

TEST_F(ServiceWebQueries, VersionsComeFromTheVerAndVersionAnnotations) {
    add(1, 1000, "s", "p", {{"ver", "1.0"}});
    add(2, 2000, "s", "p", {{"version", "1.0"}});
    add(3, 3000, "s", "p", {{"ver", "2.0"}, {"other", "9.9"}});
    add(4, 4000, "t", "p", {{"ver", "3.0"}});
    auto versions = queries->versions("s");
    ASSERT_TRUE(versions.ok());
    ASSERT_EQ(versions->size(), 2u);
    EXPECT_EQ((*versions)[0].value, "1.0");
    EXPECT_EQ((*versions)[0].count, 2);
    EXPECT_EQ((*versions)[1].value, "2.0");
    EXPECT_EQ((*versions)[1].count, 1);
}

TEST_F(ServiceWebQueries, CrashListsArePagedByKeyNewestFirst) {
    // Seven crashes, two of them received at the same millisecond.
    const std::vector<int64_t> times = {100, 200, 300, 300, 400, 500, 600};
    for (size_t i = 0; i < times.size(); ++i)
        add(static_cast<int>(i + 1), times[i], i % 2 == 0 ? "even" : "odd", "p");
    std::vector<std::string> seen;
    std::optional<CrashCursor> after;
    int pages = 0;
    do {
        auto page = queries->crashes({}, after, 3);
        ASSERT_TRUE(page.ok()) << page.error().message;
        for (const CrashRow& row : page->rows) seen.push_back(row.id);
        after = page->next;
        if (after) {
            // The cursor survives its trip through a URL.
            auto parsed = CrashCursor::parse(after->text());
            ASSERT_TRUE(parsed.has_value()) << after->text();
            EXPECT_EQ(parsed->received_ms, after->received_ms);
            EXPECT_EQ(parsed->id, after->id);
        }
        ++pages;
    } while (after && pages < 10);
    EXPECT_EQ(pages, 3);
    const std::vector<std::string> expected = {id_of(7), id_of(6), id_of(5), id_of(4),
                                               id_of(3), id_of(2), id_of(1)};
    EXPECT_EQ(seen, expected);

    CrashFilter odd;
    odd.signature = "odd";
    auto filtered = queries->crashes(odd, std::nullopt, 10);
    ASSERT_TRUE(filtered.ok());
    ASSERT_EQ(filtered->rows.size(), 3u);
    EXPECT_FALSE(filtered->next);
    for (const CrashRow& row : filtered->rows) EXPECT_EQ(row.signature, "odd");

    for (const char* bad : {"", "12", "x.00000000000000000000000000000001", "-1.0000",
                            "12.0123456789abcdef0123456789abcdeg", "12.../etc"})
        EXPECT_FALSE(CrashCursor::parse(bad).has_value()) << bad;
}

TEST(ServiceWebTrend, OneBarPerDayScaledToTheHighest) {
    const std::vector<int64_t> daily = {0, 1, 4, 2};
    const std::string svg = trend_svg(daily, 20000 * kDayMs, TrendSize{5, 1, 20});
    const std::regex rect(
        "<rect x=\"(\\d+)\" y=\"(\\d+)\" width=\"5\" height=\"(\\d+)\"[^>]*data-count=\"(\\d+)\">"
        "<title>([0-9-]+): ");
    std::vector<std::vector<std::string>> bars;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator();
         ++it)
        bars.push_back({(*it)[1], (*it)[2], (*it)[3], (*it)[4], (*it)[5]});
    ASSERT_EQ(bars.size(), 4u) << svg;
    // 20000 days after the epoch is 2024-10-04.
    EXPECT_EQ(bars[0], (std::vector<std::string>{"0", "19", "1", "0", "2024-10-04"}));
    EXPECT_EQ(bars[1], (std::vector<std::string>{"6", "15", "5", "1", "2024-10-05"}));
    EXPECT_EQ(bars[2], (std::vector<std::string>{"12", "0", "20", "4", "2024-10-06"}));
    EXPECT_EQ(bars[3], (std::vector<std::string>{"18", "10", "10", "2", "2024-10-07"}));
    EXPECT_NE(svg.find("width=\"23\" height=\"20\""), std::string::npos) << svg;
}

}  // namespace
}  // namespace dumpscope::service
