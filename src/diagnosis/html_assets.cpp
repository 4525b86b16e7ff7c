// The HTML report's CSS and script (html_assets.h). Kept small: the page is readable without
// either, and the charts are plain SVG.
#include "diagnosis/html_assets.h"

namespace dumpscope::diagnosis {

const char* const kReportStyle = R"css(
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6570; --bg: #ffffff;
  --panel: #f4f6f8; --line: #d5dae0; --error: #b3261e; --warning: #9a5b00; --info: #1f5fa8;
  --bar: #7aa6d6; --bar-part: #2f5f95; --link: #1f5fa8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e3e6ea; --muted: #9aa4ae; --bg: #14181c; --panel: #1d2328; --line: #333c44;
    --error: #ff8a80; --warning: #ffc266; --info: #8ab4f8; --bar: #4f7fb4; --bar-part: #9cc3ee;
    --link: #8ab4f8; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 4rem; background: var(--bg);
  color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
a { color: var(--link); }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace;
  font-size: .86rem; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px;
  padding: .6rem .8rem; overflow-x: auto; white-space: pre; margin: .4rem 0; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .6rem;
  border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; overflow-wrap: normal; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono { word-break: break-all; }
table.modules td:nth-child(2) { word-break: normal; white-space: nowrap; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
.verdict { font-size: 1.15rem; margin: .4rem 0; }
.counts { list-style: none; padding: 0; display: flex; gap: .6rem; margin: .4rem 0; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .45rem; font-size: .8rem;
  font-weight: 700; text-transform: uppercase; color: #fff; vertical-align: .1em; }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); }
.badge.info { background: var(--info); } .badge.none { background: var(--muted); }
.finding { border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 4px;
  padding: .2rem 1rem .6rem; margin: 1rem 0; background: var(--panel); }
.finding.error { border-left-color: var(--error); }
.finding.warning { border-left-color: var(--warning); }
.finding.info { border-left-color: var(--info); }
.finding h3 { margin: .6rem 0 .4rem; }
.finding .kind { font-family: ui-monospace, monospace; color: var(--muted); font-size: .95rem; }
.finding pre { background: var(--bg); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.next { margin: .5rem 0; }
.note, .missing { color: var(--muted); }
.missing { border-left: 4px solid var(--warning); padding-left: .6rem; }
details.thread { border: 1px solid var(--line); border-radius: 4px; margin: .3rem 0;
  background: var(--panel); }
details.thread > summary { cursor: pointer; padding: .3rem .6rem; }
details.thread > pre { margin: 0 .6rem .6rem; background: var(--bg); }
details.thread.in-finding > summary { font-weight: 600; }
.toolbar { margin: .4rem 0; display: flex; gap: .5rem; }
.toolbar button { font: inherit; font-size: .85rem; padding: .15rem .6rem; cursor: pointer; }
svg.chart { display: block; max-width: 100%; height: auto; margin: .4rem 0; }
svg.chart .bar { fill: var(--bar); } svg.chart .bar-part { fill: var(--bar-part); }
svg.chart text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg.chart .label { text-anchor: end; } svg.chart .value, svg.chart .legend { fill: var(--muted); }
svg.chart .row:hover .bar { opacity: .8; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
)css";

const char* const kReportScript = R"js(
'use strict';
(function () {
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var element = id ? document.getElementById(id) : null;
    if (element && element.tagName === 'DETAILS') element.open = true;
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();
  document.querySelectorAll('button[data-threads]').forEach(function (button) {
    button.addEventListener('click', function () {
      var open = button.getAttribute('data-threads') === 'expand';
      var scope = document.getElementById(button.getAttribute('data-scope'));
      if (!scope) return;
      scope.querySelectorAll('details.thread').forEach(function (thread) { thread.open = open; });
    });
  });
})();
)js";

}  // namespace dumpscope::diagnosis
