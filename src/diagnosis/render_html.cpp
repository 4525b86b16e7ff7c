// The HTML report (render_html.h): the page is built from the Report and, for what the report
// does not hold (stacks as `stack --all` prints them, modules, the address summary, the heap), from
// the analysis commands over the same dumps. Every string that comes from a dump or a path goes
// through html_text().
#include "diagnosis/render_html.h"

#include <fmt/format.h>

#include <ctime>
#include <set>

#include "analysis/command.h"
#include "common/version.h"
#include "diagnosis/frames.h"
#include "diagnosis/heap_commands.h"
#include "diagnosis/heap_statistics.h"
#include "diagnosis/html_assets.h"
#include "diagnosis/html_chart.h"
#include "diagnosis/html_text.h"
#include "output/dump_file.h"
#include "procfs/thread_state.h"

namespace dumpscope::diagnosis {

namespace {

using analysis::human_size;
using nlohmann::json;

constexpr size_t kHeapChartRows = 20;
constexpr size_t kHeapTableRows = 30;
constexpr size_t kGroupFrames = 4;

// Nothing may be loaded: the page carries its style and script, the charts are inline SVG.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'";

std::string esc(std::string_view text) { return html_text(text); }

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

// "1,234,567".
std::string count_text(uint64_t n) {
    const std::string digits = std::to_string(n);
    const size_t lead = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
    std::string text = digits.substr(0, lead);
    for (size_t i = lead; i < digits.size(); i += 3) {
        text += ',';
        text.append(digits, i, 3);
    }
    return text;
}

std::string plural(uint64_t n, const char* one, const char* many) {
    return count_text(n) + " " + (n == 1 ? one : many);
}

std::string seconds_text(uint64_t ns) {
    return fmt::format("{:.2f}s", static_cast<double>(ns) / 1e9);
}

std::string utc_text(uint64_t unix_seconds) {
    if (unix_seconds == 0) return "unknown";
    const time_t t = static_cast<time_t>(unix_seconds);
    tm parts{};
    if (gmtime_r(&t, &parts) == nullptr) return "unknown";
    char text[32];
    if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts) == 0) return "unknown";
    return text;
}

std::string thread_anchor(size_t dump_index, int32_t tid) {
    return fmt::format("d{}-t{}", dump_index, tid);
}

std::string thread_link(size_t dump_index, int32_t tid) {
    return fmt::format("<a href=\"#{}\">{}</a>", thread_anchor(dump_index, tid), tid);
}

std::string thread_links(size_t dump_index, const std::vector<int32_t>& tids) {
    std::string out;
    for (size_t i = 0; i < tids.size(); ++i)
        out += (i == 0 ? "" : ", ") + thread_link(dump_index, tids[i]);
    return out;
}

// The index of the dump a finding is about: its `dump` path, else the first.
size_t dump_index_of(const Finding& finding, const Report& report) {
    for (size_t i = 0; i < report.dumps.size(); ++i)
        if (!finding.dump.empty() && report.dumps[i].path == finding.dump) return i;
    return 0;
}

const char* severity_class(Severity severity) { return severity_name(severity); }

// -- summary ---------------------------------------------------------------------------------

std::string page_title(const Report& report) {
    if (report.dumps.empty()) return "dumpscope analyze";
    const DumpSummary& first = report.dumps.front();
    bool one_process = true;
    for (const DumpSummary& d : report.dumps) one_process = one_process && d.pid == first.pid;
    std::string title = one_process ? fmt::format("{} (pid {})", first.process_name, first.pid)
                                    : plural(report.dumps.size(), "dump", "dumps");
    if (one_process && report.dumps.size() > 1)
        title += ", " + plural(report.dumps.size(), "dump", "dumps");
    return title;
}

std::string severity_counts(const Report& report) {
    size_t counts[3] = {0, 0, 0};
    for (const Finding& f : report.findings) ++counts[static_cast<int>(f.severity)];
    std::string out = "<ul class=\"counts\">";
    out += fmt::format("<li><span class=\"badge error\">{}</span></li>",
                       plural(counts[0], "error", "errors"));
    out += fmt::format("<li><span class=\"badge warning\">{}</span></li>",
                       plural(counts[1], "warning", "warnings"));
    out += fmt::format("<li><span class=\"badge info\">{} info</span></li>", counts[2]);
    return out + "</ul>\n";
}

std::string dump_row(const DumpSummary& d, const analysis::DumpAnalysis& dump, size_t index) {
    const Snapshot& s = dump.snapshot();
    std::string command_line;
    for (const std::string& arg : s.process.argv)
        command_line += (command_line.empty() ? "" : " ") + arg;
    std::string trigger = s.capture.trigger;
    if (!s.capture.trigger_detail.empty()) trigger += ": " + s.capture.trigger_detail;
    return fmt::format(
        "<tr><td><a href=\"#dump-{}\">{}</a></td><td>{}, {}</td><td>{} (pid {})<br><span "
        "class=\"mono\">{}</span></td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{} {} "
        "{}{}</td></tr>\n",
        index, esc(d.path), esc(d.format),
        esc(d.dump_type.empty() ? "unknown type" : d.dump_type + " dump"), esc(d.process_name),
        d.pid, esc(command_line.empty() ? s.process.exe : command_line), s.threads.size(),
        esc(utc_text(s.capture.capture_time_unix)), esc(trigger), esc(s.system.sysname),
        esc(s.system.release), esc(s.system.machine),
        s.system.nodename.empty() ? "" : " (" + esc(s.system.nodename) + ")");
}

std::string summary_section(const Report& report,
                            const std::vector<analysis::DumpAnalysis*>& dumps) {
    std::string out = "<header id=\"summary\">\n";
    out += fmt::format("<h1>dumpscope analyze: {}</h1>\n", esc(page_title(report)));
    if (report.findings.empty()) {
        out += "<p class=\"verdict\">No problems found.</p>\n";
    } else {
        out += fmt::format("<p class=\"verdict\">{}, most severe first:</p>\n<ol class=\"glance\">",
                           plural(report.findings.size(), "finding", "findings"));
        for (size_t i = 0; i < report.findings.size(); ++i) {
            const Finding& f = report.findings[i];
            out += fmt::format(
                "<li><a href=\"#finding-{}\"><span class=\"badge {}\">{}</span> {}</a>: {}</li>",
                i + 1, severity_class(f.severity), severity_name(f.severity), esc(f.kind),
                esc(f.summary));
        }
        out += "</ol>\n";
    }
    out += severity_counts(report);
    if (!report.signature.empty())
        out += fmt::format("<p>Signature: <code class=\"signature\">{}</code></p>\n",
                           esc(report.signature));
    out +=
        "<table class=\"dumps\"><thead><tr><th>Dump</th><th>Format</th><th>Process</th>"
        "<th class=\"num\">Threads</th><th>Captured</th><th>Trigger</th><th>System</th></tr>"
        "</thead><tbody>\n";
    for (size_t i = 0; i < report.dumps.size() && i < dumps.size(); ++i)
        out += dump_row(report.dumps[i], *dumps[i], i);
    out += "</tbody></table>\n";
    for (const DumpSummary& d : report.dumps)
        for (const std::string& note : d.notes)
            out += fmt::format("<p class=\"note\">Note ({}): {}</p>\n", esc(d.path), esc(note));
    out += "<nav><ul><li><a href=\"#findings\">Findings</a></li>";
    for (size_t i = 0; i < report.dumps.size(); ++i) {
        const std::string prefix = report.dumps.size() > 1 ? fmt::format("Dump {}: ", i + 1) : "";
        out += fmt::format(
            "<li><a href=\"#dump-{0}-threads\">{1}Threads</a></li><li><a "
            "href=\"#dump-{0}-memory\">{1}Memory</a></li><li><a href=\"#dump-{0}-heap\">{1}Heap</a>"
            "</li><li><a href=\"#dump-{0}-modules\">{1}Modules</a></li>",
            i, prefix);
    }
    return out + "</ul></nav>\n</header>\n";
}

// -- findings --------------------------------------------------------------------------------

std::string fact(const char* name, const std::string& value_html) {
    return fmt::format("<dt>{}</dt><dd>{}</dd>", name, value_html);
}

std::string crash_facts(const CrashInfo& c, size_t dump_index) {
    std::string out = "<dl class=\"facts crash\">";
    out += fact("Signal", esc(fmt::format("{} ({}){}", c.signal_name, c.signal,
                                          c.code_name.empty() ? "" : ", " + c.code_name)));
    out += fact("Class", "<code>" + esc(c.cls) + "</code>");
    if (!c.access.empty()) out += fact("Access", esc(c.access));
    out += fact("Fault address", "<code>" + esc(hex(c.address)) + "</code>");
    if (!c.message.empty()) out += fact("Message", esc(c.message));
    out += fact("Crashing thread", thread_link(dump_index, c.tid));
    if (!c.instruction.empty())
        out += fact("Instruction", "<code>" + esc(c.instruction) + "</code>");
    if (c.frame) out += fact("Frame", "<code>" + esc(frame_text(*c.frame)) + "</code>");
    if (!c.signature.empty()) out += fact("Signature", "<code>" + esc(c.signature) + "</code>");
    return out + "</dl>\n";
}

std::string locks_table(const std::vector<LockInfo>& locks, size_t dump_index) {
    std::string out =
        "<table class=\"locks\"><thead><tr><th>Lock</th><th>Symbol</th><th>Kind</th>"
        "<th>Owner</th><th>Waiters</th></tr></thead><tbody>\n";
    for (const LockInfo& lock : locks) {
        out += fmt::format(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
            "</tr>\n",
            esc(hex(lock.address)), esc(lock.symbol.empty() ? "-" : lock.symbol), esc(lock.kind),
            lock.owner_tid ? thread_link(dump_index, *lock.owner_tid) : "unknown",
            thread_links(dump_index, lock.waiter_tids));
    }
    return out + "</tbody></table>\n";
}

std::string finding_article(const Finding& f, size_t number, size_t dump_index) {
    const char* severity = severity_class(f.severity);
    std::string out =
        fmt::format("<article class=\"finding {}\" id=\"finding-{}\">\n", severity, number);
    out += fmt::format(
        "<h3>{}. <span class=\"badge {}\">{}</span> <span class=\"kind\">{}</span> <span "
        "class=\"summary\">{}</span></h3>\n",
        number, severity, severity, esc(f.kind), esc(f.summary));
    if (!f.dump.empty())
        out += fmt::format("<p>Dump: <a href=\"#dump-{}\">{}</a></p>\n", dump_index, esc(f.dump));
    if (f.crash) out += crash_facts(*f.crash, dump_index);
    if (!f.locks.empty()) out += locks_table(f.locks, dump_index);
    if (!f.threads.empty())
        out += fmt::format("<p>Threads: {}</p>\n", thread_links(dump_index, f.threads));
    if (!f.evidence_text.empty())
        out += fmt::format("<pre class=\"evidence\">{}</pre>\n", esc(f.evidence_text));
    if (!f.next_step.empty())
        out +=
            fmt::format("<p class=\"next\"><strong>Next step:</strong> {}</p>\n", esc(f.next_step));
    if (!f.evidence.empty()) {
        out += fmt::format(
            "<details class=\"json\"><summary>Evidence as JSON</summary><pre>{}</pre></details>\n",
            esc(f.evidence.dump(2, ' ', false, json::error_handler_t::replace)));
    }
    return out + "</article>\n";
}

std::string findings_section(const Report& report) {
    std::string out = "<section id=\"findings\">\n<h2>Findings</h2>\n";
    if (report.findings.empty()) {
        out +=
            "<p class=\"healthy\">No problems found: no crash, no deadlock, no thread waiting "
            "behind a lock, no uninterruptible wait, no runaway thread.</p>\n";
    }
    for (size_t i = 0; i < report.findings.size(); ++i)
        out +=
            finding_article(report.findings[i], i + 1, dump_index_of(report.findings[i], report));
    return out + "</section>\n";
}

// -- threads ---------------------------------------------------------------------------------

const ThreadWait* wait_of(const DumpSummary& d, int32_t tid) {
    for (const ThreadWait& w : d.waits)
        if (w.tid == tid) return &w;
    return nullptr;
}

std::string stack_groups_table(const DumpSummary& d, size_t index) {
    std::string out =
        "<table class=\"groups\"><thead><tr><th class=\"num\">Count</th><th>Threads</th>"
        "<th>Waits on</th><th>Top frames</th></tr></thead><tbody>\n";
    for (const StackGroup& g : d.stack_groups) {
        std::string frames;
        for (size_t i = 0; i < g.frames.size() && i < kGroupFrames; ++i)
            frames += (i == 0 ? "" : "<br>") + esc(frame_text(g.frames[i]));
        if (g.frames.size() > kGroupFrames) frames += "<br>…";
        out += fmt::format(
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}"
            "</td></tr>\n",
            g.tids.size(), thread_links(index, g.tids), esc(g.wait), frames);
    }
    return out + "</tbody></table>\n";
}

std::string threads_section(const Report& report, const DumpSummary& d,
                            analysis::DumpAnalysis& dump, size_t index) {
    std::set<int32_t> in_findings;
    for (const Finding& f : report.findings) {
        if (dump_index_of(f, report) != index) continue;
        in_findings.insert(f.threads.begin(), f.threads.end());
        if (f.crash) in_findings.insert(f.crash->tid);
    }
    const Snapshot& s = dump.snapshot();
    std::string out =
        fmt::format("<h3 id=\"dump-{}-threads\">Threads ({})</h3>\n", index, s.threads.size());
    out += "<p>Threads with the same stack, most first:</p>\n" + stack_groups_table(d, index);
    out += fmt::format(
        "<div class=\"toolbar\"><button type=\"button\" data-threads=\"expand\" "
        "data-scope=\"dump-{0}-stacks\">Expand all stacks</button><button type=\"button\" "
        "data-threads=\"collapse\" data-scope=\"dump-{0}-stacks\">Collapse all stacks</button>"
        "</div>\n<div id=\"dump-{0}-stacks\">\n",
        index);
    for (const Thread& thread : s.threads) {
        const bool open = in_findings.count(thread.tid) != 0;
        const ThreadWait* w = wait_of(d, thread.tid);
        std::string line = fmt::format("Thread {}", thread.tid);
        if (!thread.name.empty()) line += " \"" + thread.name + "\"";
        line += std::string(" · ") + thread_state_word(thread.state);
        if (w != nullptr && !w->description.empty()) line += " · " + w->description;
        if (d.cpu_known)
            line += fmt::format(" · CPU {} user, {} kernel", seconds_text(thread.user_time_ns),
                                seconds_text(thread.kernel_time_ns));
        auto stack = analysis::command_stack(dump, {"--thread", std::to_string(thread.tid)});
        const std::string frames =
            stack.ok() ? stack->text : "the stack cannot be walked: " + stack.error().message;
        out += fmt::format(
            "<details class=\"thread{}\" id=\"{}\"{}><summary>{}</summary><pre "
            "class=\"stack\">{}</pre></details>\n",
            open ? " in-finding" : "", thread_anchor(index, thread.tid), open ? " open" : "",
            esc(line), esc(frames));
    }
    return out + "</div>\n";
}

// -- memory ----------------------------------------------------------------------------------

// The Heap row's size of the address summary, for what the heap walk explains of it.
struct UsageSummary {
    std::string html;
    uint64_t heap_bytes = 0;
};

UsageSummary memory_section(analysis::DumpAnalysis& dump, size_t index) {
    UsageSummary result;
    std::string& out = result.html;
    out = fmt::format("<h3 id=\"dump-{}-memory\">Memory by usage</h3>\n", index);
    auto summary = analysis::command_regions(dump, {"-summary"});
    if (!summary.ok()) {
        out += fmt::format("<p class=\"missing\">No address summary: {}</p>\n",
                           esc(summary.error().message));
        return result;
    }
    std::vector<json> rows(summary->json["usage"].begin(), summary->json["usage"].end());
    std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
        return a.value("size", uint64_t{0}) > b.value("size", uint64_t{0});
    });
    const uint64_t busy = summary->json.value("busy", uint64_t{0});
    BarChart chart{"Memory by usage", "size", "in the dump", {}};
    std::string table =
        "<table class=\"usage\"><thead><tr><th>Usage</th><th class=\"num\">Regions</th>"
        "<th class=\"num\">Size</th><th class=\"num\">% of busy</th><th class=\"num\">In the "
        "dump</th><th class=\"num\">Largest region</th></tr></thead><tbody>\n";
    uint64_t free_bytes = 0;
    for (const json& row : rows) {
        const std::string name = row.value("name", "");
        const uint64_t size = row.value("size", uint64_t{0});
        const uint64_t in_dump = row.value("bytes_in_dump", uint64_t{0});
        if (name == "Heap") result.heap_bytes = size;
        const bool free = name == "Free";
        const std::string percent = free || busy == 0
                                        ? ""
                                        : fmt::format("{:.1f}%", 100.0 * static_cast<double>(size) /
                                                                     static_cast<double>(busy));
        table += fmt::format(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
            "class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(name), count_text(row.value("regions", uint64_t{0})), esc(human_size(size)),
            percent, free ? "" : esc(human_size(in_dump)),
            esc(human_size(row.value("largest", uint64_t{0}))));
        if (free) {
            free_bytes = size;
            continue;
        }
        chart.rows.push_back(
            {name, size, in_dump, fmt::format("{} ({} of busy)", human_size(size), percent),
             fmt::format("{} in {}, {} of it in the dump", human_size(size),
                         plural(row.value("regions", uint64_t{0}), "region", "regions"),
                         human_size(in_dump))});
    }
    table += "</tbody></table>\n";
    out += bar_chart_svg(chart);
    out += fmt::format(
        "<p class=\"note\">Busy: {} of address space in use; free address space ({}) is not "
        "drawn. The darker part of a bar is what the dump holds.</p>\n",
        esc(human_size(busy)), esc(human_size(free_bytes)));
    out += table;
    return result;
}

std::string heap_section(analysis::DumpAnalysis& dump, size_t index, uint64_t heap_usage_bytes) {
    std::string out =
        fmt::format("<h3 id=\"dump-{}-heap\">Heap: in-use chunks by size and type</h3>\n", index);
    auto heap = walk_heap_of(dump);
    if (!heap.ok()) {
        out += fmt::format("<p class=\"missing\">No heap histogram: {}</p>\n",
                           esc(heap.error().message));
        return out;
    }
    const HeapStatistics stats = heap_statistics(*heap->session, heap->walk);
    out += fmt::format(
        "<p>glibc {} malloc, {}: {} in use in {} ({} named by their vtable).{}</p>\n",
        esc(heap->malloc.layout.version.text()),
        plural(heap->walk.arenas.size(), "arena", "arenas"), esc(human_size(stats.in_use_bytes)),
        plural(stats.in_use_chunks, "chunk", "chunks"), count_text(stats.typed_chunks),
        heap_usage_bytes == 0 ? ""
                              : esc(fmt::format(" The address summary counts {} as Heap.",
                                                human_size(heap_usage_bytes))));
    if (!heap->walk.complete()) out += "<p class=\"missing\">The walk is incomplete:</p>\n";
    for (const std::string& note : heap->walk.notes)
        out += fmt::format("<p class=\"note\">{}</p>\n", esc(note));
    BarChart chart{"Heap: in-use chunks by size and type", "bytes in use", "", {}};
    std::string table =
        "<table class=\"heap\"><thead><tr><th class=\"num\">Chunk size</th><th "
        "class=\"num\">Count</th><th class=\"num\">Bytes</th><th class=\"num\">%</th><th>Type</th>"
        "<th>Samples</th></tr></thead><tbody>\n";
    for (size_t i = 0; i < stats.groups.size() && i < kHeapTableRows; ++i) {
        const ChunkGroup& g = stats.groups[i];
        const double percent =
            stats.in_use_bytes == 0
                ? 0.0
                : 100.0 * static_cast<double>(g.bytes) / static_cast<double>(stats.in_use_bytes);
        std::string samples;
        for (uint64_t sample : g.samples) {
            if (!samples.empty()) samples += ' ';
            samples += hex(sample);
        }
        table += fmt::format(
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
            "class=\"num\">{:.1f}%</td><td>{}</td><td class=\"mono\">{}</td></tr>\n",
            esc(human_size(g.chunk_size)), count_text(g.count), esc(human_size(g.bytes)), percent,
            esc(g.type.empty() ? "-" : g.type), esc(samples));
        if (i >= kHeapChartRows) continue;
        const std::string label = g.type.empty()
                                      ? fmt::format("{} chunks", human_size(g.chunk_size))
                                      : fmt::format("{} ({})", g.type, human_size(g.chunk_size));
        chart.rows.push_back(
            {label, g.bytes, 0,
             fmt::format("{} = {} x {}", human_size(g.bytes), count_text(g.count),
                         human_size(g.chunk_size)),
             fmt::format("{:.1f}% of the bytes in use; samples: {}", percent, samples)});
    }
    table += "</tbody></table>\n";
    if (stats.groups.size() > kHeapTableRows)
        table += fmt::format(
            "<p class=\"note\">{} more groups: <code>dumpscope heap --stat "
            "--json</code> lists them all.</p>\n",
            count_text(stats.groups.size() - kHeapTableRows));
    if (chart.rows.empty()) {
        out += "<p>No chunk is in use.</p>\n";
        return out;
    }
    out += bar_chart_svg(chart);
    out += table;
    out +=
        "<p class=\"note\">Not covered: chunks above malloc's mmap threshold (each its own "
        "mapping, counted as anonymous memory above) and the memory of other allocators.</p>\n";
    return out;
}

// -- modules ---------------------------------------------------------------------------------

std::string modules_section(analysis::DumpAnalysis& dump, size_t index) {
    std::string out = fmt::format("<h3 id=\"dump-{}-modules\">Modules</h3>\n", index);
    auto modules = analysis::command_modules(dump, {});
    if (!modules.ok()) {
        out += fmt::format("<p class=\"missing\">No module list: {}</p>\n",
                           esc(modules.error().message));
        return out;
    }
    out +=
        "<table class=\"modules\"><thead><tr><th>Module</th><th>Range</th><th>Symbols</th>"
        "<th>Build-id</th><th>Path</th></tr></thead><tbody>\n";
    for (const json& m : modules->json) {
        std::string path = m.value("path", "");
        const std::string file = m.value("file", "");
        if (!file.empty() && file != path) path += " → " + file;
        const std::string debug = m.value("debug_file", "");
        if (!debug.empty()) path += " (debug: " + debug + ")";
        const std::string detail = m.value("detail", "");
        out += fmt::format(
            "<tr><td>{}{}</td><td class=\"mono\">{}-{}</td><td>{} {}</td><td "
            "class=\"mono\">{}</td><td class=\"mono\">{}{}</td></tr>\n",
            esc(m.value("name", "")), m.value("main", false) ? " (main)" : "",
            esc(hex(m.value("base", uint64_t{0}))), esc(hex(m.value("end", uint64_t{0}))),
            esc(m.value("symbol_status", "")), esc(m.value("symbols", "")),
            esc(m.value("build_id", "")), esc(path),
            detail.empty() ? "" : "<br><span class=\"note\">" + esc(detail) + "</span>");
    }
    return out + "</tbody></table>\n";
}

std::string dump_section(const Report& report, const DumpSummary& d, analysis::DumpAnalysis& dump,
                         size_t index) {
    std::string out = fmt::format(
        "<section class=\"dump\" id=\"dump-{}\">\n<h2>{}{}</h2>\n", index,
        report.dumps.size() > 1 ? fmt::format("Dump {}: ", index + 1) : std::string("Dump: "),
        esc(d.path));
    out += threads_section(report, d, dump, index);
    const UsageSummary memory = memory_section(dump, index);
    out += memory.html;
    out += heap_section(dump, index, memory.heap_bytes);
    out += modules_section(dump, index);
    return out + "</section>\n";
}

}  // namespace

std::string render_html(const Report& report, const std::vector<analysis::DumpAnalysis*>& dumps) {
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    page += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n",
                        kContentSecurityPolicy);
    page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    page += "<meta name=\"generator\" content=\"dumpscope " + esc(kToolVersion) + "\">\n";
    page += fmt::format("<title>dumpscope analyze: {}</title>\n", esc(page_title(report)));
    page += fmt::format("<style>{}</style>\n</head>\n<body>\n", kReportStyle);
    page += summary_section(report, dumps);
    page += "<main>\n" + findings_section(report);
    for (size_t i = 0; i < report.dumps.size() && i < dumps.size(); ++i)
        page += dump_section(report, report.dumps[i], *dumps[i], i);
    page += "</main>\n";
    page += fmt::format(
        "<footer>Written by dumpscope {} (<code>dumpscope analyze --html</code>). The JSON of "
        "the same report: <code>dumpscope analyze --json</code>.</footer>\n",
        esc(kToolVersion));
    page += fmt::format("<script>{}</script>\n</body>\n</html>\n", kReportScript);
    return page;
}

Status write_html_report(const std::string& path, const std::string& page) {
    auto file = DumpFile::create(path, true);
    if (!file.ok()) return Error{"cannot write " + path + ": " + file.error().message};
    const auto* bytes = reinterpret_cast<const uint8_t*>(page.data());
    Status written = file->write_at(0, {bytes, page.size()});
    if (!written.ok()) return Error{"cannot write " + path + ": " + written.error().message};
    Status committed = file->commit(page.size());
    if (!committed.ok()) return Error{"cannot write " + path + ": " + committed.error().message};
    return {};
}

}  // namespace dumpscope::diagnosis
