// `dumpscope analyze --html FILE`, rendered by headless Chromium (Debian's chromium, driven over
// the DevTools protocol on a pipe: headless_chromium.h): a crash (full dump, with the heap) and a
// deadlock (mini dump, without it) of fixtures. The page must load with no console error, no page
// error and no request for anything but itself; every finding's summary (from `analyze --json`
// on the same dump) must be visible text; the charts must be drawn (SVG with a non-zero size and
// bars); every thread must be listed and its stack expandable; and names from the dump must come
// out as text (the deadlocked process is named `<script>\xff&'"`). Also: an unwritable path is
// a one-line error with a non-zero exit and leaves no file.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "headless_chromium.h"
#include "monitored_child.h"
#include "support.h"

using namespace test_support;

namespace {

constexpr int kGenerous = 60;

// What the test reads from the rendered page (evaluated after the load event): the visible
// text, the finding summaries that are visible, every SVG with its size and drawn bars, the
// script elements, and the thread stacks before and after "Expand all stacks" is clicked.
const char* kInspectPage = R"js((() => {
  const shown = e => {
    const r = e.getBoundingClientRect();
    return e.checkVisibility() && r.width > 0 && r.height > 0;
  };
  const threads = () => [...document.querySelectorAll('details.thread')].map(d => ({
    id: d.id, open: d.open,
    stack_height: d.querySelector('pre').getBoundingClientRect().height}));
  const facts = {
    text: document.body.innerText,
    title: document.title,
    summaries: [...document.querySelectorAll('.finding .summary')].filter(shown)
                   .map(e => e.textContent),
    charts: [...document.querySelectorAll('svg')].map(s => {
      const r = s.getBoundingClientRect();
      return {label: s.getAttribute('aria-label'), width: r.width, height: r.height,
              bars: [...s.querySelectorAll('g.row rect.bar')]
                        .filter(b => b.getBoundingClientRect().width > 0).length};
    }),
    scripts: document.scripts.length,
    threads_before: threads(),
  };
  const expand = document.querySelector('button[data-threads=expand]');
  if (expand) expand.click();
  facts.threads_after = threads();
  return facts;
})())js";

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

nlohmann::json analyze_json(const std::string& dump) {
    const CommandResult r = run({dumpscope_binary(), "analyze", "--json", dump}, 300);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
}

// Each thread of `pid` is in system call `number` and sleeping, seen twice in a row.
bool all_threads_in_syscall(pid_t pid, long number) {
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    const auto deadline = TestClock::now() + std::chrono::seconds(kGenerous);
    int settled = 0;
    while (TestClock::now() < deadline) {
        bool all = true;
        int threads = 0;
        for (const auto& entry : std::filesystem::directory_iterator(task)) {
            ++threads;
            long in_call = -1;
            std::ifstream(entry.path() / "syscall") >> in_call;
            std::string stat;
            std::getline(std::ifstream(entry.path() / "stat"), stat);
            all = all && in_call == number && stat.find(") S ") != std::string::npos;
        }
        settled = all && threads > 1 ? settled + 1 : 0;
        if (settled >= 2) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

class AnalyzeHtml : public ::testing::Test {
protected:
    void SetUp() override {
        chromium_ = HeadlessChromium::find_binary();
        if (chromium_.empty())
            GTEST_SKIP() << "chromium is not installed (Debian package chromium; make deps "
                            "installs it)";
    }

    // `analyze DUMP --html DIR/NAME`, expected to succeed; the page's path.
    std::string write_page(const std::string& dump, const std::string& name) {
        const std::string page = dir_.path() + "/" + name;
        const CommandResult r = run({dumpscope_binary(), "analyze", dump, "--html", page}, 300);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(read_text(page).rfind("<!DOCTYPE html>", 0), 0u);
        return page;
    }

    // Renders the page in a browser of its own, which is gone (every process of its group)
    // when this returns.
    RenderedPage render(const std::string& page) {
        TempDir profile;
        RenderedPage rendered;
        pid_t group = -1;
        {
            HeadlessChromium browser(chromium_, profile.path() + "/profile",
                                     profile.path() + "/chromium.log");
            group = browser.pid();
            try {
                rendered = render_page(browser, page, kInspectPage);
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what() << "\n" << read_text(profile.path() + "/chromium.log");
            }
            EXPECT_TRUE(browser.shut_down());
        }
        EXPECT_TRUE(HeadlessChromium::live_group_members(group).empty());
        return rendered;
    }

    // The checks every report shares: no problem while loading, every finding's summary and the
    // signature visible, every thread listed with a stack that expands, a memory chart drawn.
    void expect_sound_page(const RenderedPage& page, const nlohmann::json& report) {
        EXPECT_TRUE(page.problems.empty()) << ::testing::PrintToString(page.problems);
        const std::string text = page.facts.value("text", "");
        const auto summaries = page.facts.value("summaries", std::vector<std::string>{});
        ASSERT_FALSE(report.at("findings").empty());
        for (const auto& finding : report.at("findings")) {
            const std::string summary = finding.at("summary");
            EXPECT_NE(text.find(summary), std::string::npos) << summary << "\n" << text;
            EXPECT_NE(std::find(summaries.begin(), summaries.end(), summary), summaries.end())
                << summary << " is not a visible finding summary";
        }
        EXPECT_NE(text.find(report.at("signature").get<std::string>()), std::string::npos);
        // Every thread has its line, and its stack shows once expanded.
        const auto& waits = report.at("dumps").at(0).at("waits");
        const auto& after = page.facts.at("threads_after");
        EXPECT_EQ(after.size(), waits.size());
        for (const auto& w : waits) {
            const int tid = w.at("tid");
            EXPECT_NE(text.find("Thread " + std::to_string(tid)), std::string::npos) << tid;
        }
        for (const auto& t : after) {
            EXPECT_TRUE(t.at("open").get<bool>()) << t;
            EXPECT_GT(t.at("stack_height").get<double>(), 0) << t;
        }
        const auto memory = chart(page, "Memory by usage");
        ASSERT_TRUE(memory.has_value()) << page.facts.at("charts");
        EXPECT_GT(memory->at("width").get<double>(), 0);
        EXPECT_GT(memory->at("height").get<double>(), 0);
        EXPECT_GE(memory->at("bars").get<int>(), 2);  // stacks and images at least
        EXPECT_EQ(page.facts.at("scripts"), 1);       // the page's own, nothing from the dump
    }

    static std::optional<nlohmann::json> chart(const RenderedPage& page, const std::string& label) {
        for (const auto& c : page.facts.at("charts"))
            if (c.value("label", "") == label) return c;
        return std::nullopt;
    }

    // The ids of the thread stacks open before anything was clicked.
    static std::set<std::string> open_at_load(const RenderedPage& page) {
        std::set<std::string> open;
        for (const auto& t : page.facts.at("threads_before"))
            if (t.at("open").get<bool>()) open.insert(t.at("id").get<std::string>());
        return open;
    }

    std::string chromium_;
    TempDir dir_;
};

TEST_F(AnalyzeHtml, CrashReportRendersWithFindingsStacksAndBothCharts) {
    // A null read, dumped in full (heap included) by `collect --crash` at the fault.
    TempDir logs;
    DrivenFixture target("fixture_crash_kinds", {"null-read"});
    BackgroundCommand collect({dumpscope_binary(), "collect", "--type", "full", "--crash",
                               std::to_string(target.pid()), dir_.path()},
                              logs.path());
    ASSERT_TRUE(collect.wait_for_output("monitoring", kGenerous)) << collect.err();
    target.send("go");
    ASSERT_TRUE(target.wait_exit(kGenerous).has_value());
    ASSERT_EQ(collect.wait(kGenerous), 0) << collect.out() << collect.err();
    std::string dump;
    for (const auto& name : dir_.files())
        if (name.size() > 4 && name[0] != '.' && name.substr(name.size() - 4) == ".dmp")
            dump = dir_.path() + "/" + name;
    ASSERT_FALSE(dump.empty());

    const auto report = analyze_json(dump);
    ASSERT_EQ(report.at("findings").at(0).at("kind"), "crash") << report.dump(1);
    const auto page = render(write_page(dump, "crash.html"));
    expect_sound_page(page, report);
    const std::string text = page.facts.value("text", "");
    const auto& crash = report.at("findings").at(0).at("crash");
    EXPECT_NE(text.find(crash.at("class").get<std::string>()), std::string::npos);
    EXPECT_NE(text.find("read_through_null"), std::string::npos);
    // The crashing thread's stack is open from the start.
    const std::string crashing = "d0-t" + std::to_string(crash.at("crashing_thread").get<int>());
    EXPECT_EQ(open_at_load(page), std::set<std::string>{crashing});
    // The heap is in a full dump: its histogram is drawn.
    const auto heap = chart(page, "Heap: in-use chunks by size and type");
    ASSERT_TRUE(heap.has_value()) << page.facts.at("charts");
    EXPECT_GT(heap->at("width").get<double>(), 0);
    EXPECT_GT(heap->at("height").get<double>(), 0);
    EXPECT_GE(heap->at("bars").get<int>(), 1);
    EXPECT_EQ(text.find("No heap histogram"), std::string::npos);
    std::cerr << "crash page loaded in " << page.load_seconds << " s\n";
}

TEST_F(AnalyzeHtml, DeadlockReportRendersAndNamesFromTheDumpStayText) {
    // The process's name (its comm, from the name it was started by) is hostile markup with a
    // byte that is not UTF-8.
    const std::string hostile = "<script>\xff&'\"";
    const std::string link = dir_.path() + "/" + hostile;
    ASSERT_EQ(::symlink(fixture_path("fixture_deadlock").c_str(), link.c_str()), 0);
    Program target({link});
    ASSERT_TRUE(all_threads_in_syscall(target.pid(), SYS_futex));
    const std::string dump = collect_into(dir_.path(), target.pid(), "mini", "minidump");

    const auto report = analyze_json(dump);
    ASSERT_EQ(report.at("findings").at(0).at("kind"), "deadlock") << report.dump(1);
    const auto page = render(write_page(dump, "deadlock.html"));
    expect_sound_page(page, report);
    const std::string text = page.facts.value("text", "");
    const std::string shown = "<script>\xEF\xBF\xBD&'\"";  // the byte became U+FFFD
    EXPECT_NE(text.find(shown + " (pid " + std::to_string(target.pid()) + ")"), std::string::npos)
        << text.substr(0, 400);
    EXPECT_NE(page.facts.value("title", "").find(shown), std::string::npos);
    // The deadlocked threads' stacks are open from the start, the main thread's is not.
    std::set<std::string> deadlocked;
    for (const auto& tid : report.at("findings").at(0).at("threads"))
        deadlocked.insert("d0-t" + std::to_string(tid.get<int>()));
    EXPECT_EQ(open_at_load(page), deadlocked);
    // A mini dump has no heap: the page says so instead of drawing a histogram.
    EXPECT_FALSE(chart(page, "Heap: in-use chunks by size and type").has_value());
    EXPECT_NE(text.find("No heap histogram: "), std::string::npos);
    EXPECT_NE(text.find("the heap is not in this dump"), std::string::npos);
    std::cerr << "deadlock page loaded in " << page.load_seconds << " s\n";
}

// Needs no browser: the write itself.
TEST(AnalyzeHtmlFile, UnwritablePathIsAOneLineErrorAndLeavesNoFile) {
    TempDir dir;
    Fixture target("fixture_healthy");
    const std::string dump = collect_into(dir.path(), target.pid(), "mini", "minidump");
    const auto sorted_files = [&dir] {
        auto files = dir.files();
        std::sort(files.begin(), files.end());
        return files;
    };
    const auto files_before = sorted_files();

    for (const std::string& page : {dir.path() + "/missing/report.html", dir.path()}) {
        const CommandResult r = run({dumpscope_binary(), "analyze", dump, "--html", page});
        EXPECT_NE(r.exit_code, 0) << page;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.err.rfind("dumpscope analyze: cannot write " + page + ": ", 0), 0u) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;      // nothing is reported when the page failed
        EXPECT_EQ(sorted_files(), files_before);  // no temporary left behind
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/missing"));

    // An existing file is replaced by the complete page, with no temporary left.
    const std::string page = dir.path() + "/report.html";
    std::ofstream(page) << "old";
    const CommandResult r = run({dumpscope_binary(), "analyze", dump, "--html", page});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("No problems found.", 0), 0u) << r.out;  // the text report as before
    const std::string written = read_text(page);
    EXPECT_EQ(written.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(written.find("</html>\n"), std::string::npos);
    EXPECT_NE(written.find("No problems found."), std::string::npos);
    auto files = files_before;
    files.push_back("report.html");
    std::sort(files.begin(), files.end());
    EXPECT_EQ(sorted_files(), files);
}

}  // namespace
