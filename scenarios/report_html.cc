#include "scenarios/report_html.h"

#include <string_view>

namespace nukihil::scenarios {
namespace {

// Everything before the embedded run data: the document head with its CSP and styles, and a
// first script that records script errors before anything else can fail.
constexpr std::string_view kPageHead = R"nukihil(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nukihil">
<title>nukihil run report</title>
<link rel="icon" href="data:,">
<style>
:root{--pass:#1a7f37;--fail:#cf222e;--error:#bc4c00;--skip:#6e7781;--ink:#1f2328;--muted:#59636e;
--line:#d1d9e0;--soft:#f6f8fa;--link:#0969da;--amber:#bf8700;
--t-QueueAction:#0969da;--t-UpdateAction:#8250df;--t-SetState:#1b7c83;--t-Config:#57606a;
--t-Other:#afb8c1}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
[hidden]{display:none!important}
#svg-ns{position:absolute}
main{max-width:1260px;margin:0 auto;padding:18px 20px 60px}
a{color:var(--link);text-decoration:none}
a:hover{text-decoration:underline}
code,pre{font-size:12.5px;
font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
h1{font-size:22px;margin:0}
h2{font-size:18px;margin:30px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
h4{font-size:14px;margin:14px 0 4px}
.muted,.sub{color:var(--muted)}
.sub{font-size:12px}
.titlebar{display:flex;align-items:center;gap:12px;flex-wrap:wrap}
nav.jump{margin-left:auto;display:flex;gap:16px}
.badge{display:inline-block;min-width:66px;padding:1px 6px;border-radius:4px;color:#fff;
font-size:11.5px;font-weight:700;letter-spacing:.04em;text-align:center;white-space:nowrap}
.badge.passed{background:var(--pass)}.badge.failed{background:var(--fail)}
.badge.error{background:var(--error)}.badge.skipped{background:var(--skip)}
.badge.unknown{background:#24292f}
.counts{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 8px}
.count{border:1px solid var(--line);border-radius:6px;padding:6px 14px;min-width:100px}
.count .v{display:block;font-size:22px;font-weight:650}
.count.passed .v{color:var(--pass)}.count.failed .v{color:var(--fail)}
.count.error .v{color:var(--error)}.count.skipped .v{color:var(--skip)}
.bar{display:flex;height:8px;border-radius:4px;overflow:hidden;background:var(--soft);
margin:4px 0 12px}
.bar .passed{background:var(--pass)}.bar .failed{background:var(--fail)}
.bar .error{background:var(--error)}.bar .skipped{background:var(--skip)}
dl.meta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:3px 16px;margin:8px 0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;font-size:13px}
td.idx{color:var(--muted);text-align:right;width:3.5em;font-variant-numeric:tabular-nums}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.toolbar{display:flex;align-items:center;gap:16px;margin:6px 0}
.toolbar input[type=search]{width:360px;padding:5px 8px;border:1px solid var(--line);
border-radius:6px;font:inherit}
#scenario-list tbody tr{cursor:pointer}
#scenario-list tbody tr:hover{background:var(--soft)}
#scenario-list{table-layout:fixed;width:100%}
#scenario-list th:nth-child(1){width:88px}#scenario-list th:nth-child(2){width:34%}
#scenario-list th:nth-child(3){width:24%}#scenario-list th:nth-child(4){width:96px}
#scenario-list td code{overflow-wrap:anywhere;font-size:11px}
#scenario-list td.msg{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;
color:var(--muted)}
section.scenario{border:1px solid var(--line);border-left:6px solid var(--skip);border-radius:6px;
margin:12px 0;content-visibility:auto;contain-intrinsic-size:auto 44px}
/* content-visibility: sections off screen are not laid out, so a run of 50 opens quickly */
section.scenario:has(>details[open]){contain-intrinsic-size:auto 1400px}
section.scenario[data-verdict=passed]{border-left-color:var(--pass)}
section.scenario[data-verdict=failed]{border-left-color:var(--fail)}
section.scenario[data-verdict=error]{border-left-color:var(--error)}
section.scenario>details>summary{display:flex;align-items:baseline;gap:10px;padding:8px 12px;
cursor:pointer;list-style:none}
section.scenario>details>summary::-webkit-details-marker{display:none}
section.scenario>details>summary::before{content:"\25B8";color:var(--muted);width:10px}
section.scenario>details[open]>summary::before{content:"\25BE"}
summary .name{font-weight:650}
summary .file{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:var(--muted)}
summary .msg{flex:1;min-width:0;color:var(--muted);overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
.body{padding:0 16px 14px}
.replay{display:flex;align-items:center;gap:8px;margin:8px 0}
code.replay{user-select:all;background:var(--soft);border:1px solid var(--line);border-radius:4px;
padding:3px 8px;overflow-wrap:anywhere}
button.copy{font:inherit;font-size:12px;padding:2px 10px;border:1px solid var(--line);
border-radius:4px;background:#fff;cursor:pointer}
.divergence-box{border:1px solid #ffaba8;background:#fff6f5;border-radius:6px;padding:4px 14px 10px;
margin:10px 0}
.divergence-box h3{margin-top:8px;color:var(--fail)}
.cmp{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin:6px 0}
.cmp pre{background:#fff;border:1px solid var(--line);border-radius:4px;padding:6px 8px}
.cmp pre.expected{border-left:4px solid var(--pass)}
.cmp pre.observed{border-left:4px solid var(--fail)}
.cmp-h{font-size:12px;color:var(--muted);margin:6px 0 2px}
ol.led{margin:2px 0;padding-left:22px}
ul.problems li{color:var(--error)}
.timeline-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px;margin:6px 0}
svg.timeline{display:block;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg.timeline text{font-size:11px;fill:var(--ink)}
svg.timeline .lane-title{font-weight:600}
svg.timeline .row-label,svg.timeline .date,svg.timeline .lane-sub{fill:var(--muted)}
svg.timeline .lane-bg{fill:#f6f8fa}
svg.timeline .lane-bg.odd{fill:#fdfdfd}
svg.timeline .row-line{stroke:#d1d9e0}
svg.timeline .idle{fill:#e9edf1}
svg.timeline .idle-label{fill:var(--muted);font-size:10.5px;text-anchor:middle}
svg.timeline .guide{stroke:#8c959f;stroke-dasharray:2 3;stroke-width:.7}
svg.timeline .pair{stroke:#8c959f;stroke-width:.8}
svg.timeline .axis line{stroke:#8c959f}
.m{stroke-width:1.2}
[data-type=QueueAction] .m{fill:var(--t-QueueAction);stroke:var(--t-QueueAction)}
[data-type=UpdateAction] .m{fill:var(--t-UpdateAction);stroke:var(--t-UpdateAction)}
[data-type=SetState] .m{fill:var(--t-SetState);stroke:var(--t-SetState)}
[data-type=Config] .m{fill:var(--t-Config);stroke:var(--t-Config)}
[data-type=Other] .m{fill:var(--t-Other);stroke:var(--t-Other)}
.undelivered .m,.hollow .m{fill:#fff!important;stroke-width:1.7}
.ring{fill:none;stroke:var(--fail);stroke-width:2.4}
.nocp-box{fill:none;stroke:var(--amber);stroke-width:1.4;stroke-dasharray:2.5 1.5}
.pair-key{stroke:#8c959f;stroke-width:.8}
g.hook,g.step{cursor:pointer}
g.hook:hover .m,g.step:hover .m{stroke:#000;stroke-width:2}
g.step .m,.key.step .m{fill:#57606a}
g.step.notok .m,.key.notok .m{fill:var(--error)}
g.step.led .m,.key.led .m{fill:var(--fail)}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center;font-size:12px;
color:var(--muted);margin:4px 0 8px}
.legend .item{display:inline-flex;align-items:center;gap:5px}
.legend p{flex-basis:100%;margin:2px 0 0}
svg.swatch{overflow:visible}
.type-dot{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:6px;
background:var(--t-Other)}
.type-dot[data-type=QueueAction]{background:var(--t-QueueAction)}
.type-dot[data-type=UpdateAction]{background:var(--t-UpdateAction)}
.type-dot[data-type=SetState]{background:var(--t-SetState)}
.type-dot[data-type=Config]{background:var(--t-Config)}
table.hooks td.hook-text{width:38%}
table.hooks td:nth-child(n+4),a.rule{white-space:nowrap}
table.hooks code,table.steps code{overflow-wrap:anywhere}
td.none{color:var(--muted)}
td.nocp{background:#fff8c5}
.flag{display:inline-block;margin-left:6px;font-size:11px;color:#7d4e00;border:1px solid #d4a72c;
border-radius:3px;padding:0 4px;white-space:nowrap}
.flag.red{color:var(--fail);border-color:var(--fail)}
tbody.outbox th{background:#fff;color:var(--muted);font-weight:600;font-size:12.5px}
tr.undelivered td.hook-text code{font-style:italic}
tr.differs td{background:#fffbe6}
tr.divergence td{background:#ffebe9}
tr.divergence{outline:2px solid var(--fail);outline-offset:-2px}
tr.notok td{background:#fff1e5}
tr.notrun td{color:var(--muted,#777);font-style:italic}
tr.led td.idx{box-shadow:inset 3px 0 var(--fail)}
td.ok{color:var(--pass);font-weight:600}
td.bad{color:var(--fail);font-weight:600}
tr.flash td{background:#ddf4ff!important}
code.json{font-size:12px}
#coverage td.gap{color:#fff;background:var(--fail);font-weight:700;white-space:nowrap}
#coverage tr.gap-row td:first-child{box-shadow:inset 4px 0 var(--fail)}
#coverage td.num{text-align:right;font-variant-numeric:tabular-nums;width:7em}
#coverage th.num{text-align:right}
.gap-count{color:var(--fail);font-weight:600}
.render-error{border:1px solid var(--fail);background:#ffebe9;color:var(--fail);padding:8px 12px;
border-radius:6px;white-space:pre-wrap}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
main{max-width:none;padding:0}
section.scenario{content-visibility:visible}
.toolbar,button.copy,nav.jump{display:none}
.timeline-wrap{overflow:visible;border:none}
svg.timeline{width:100%;height:auto}
tr{break-inside:avoid}
a{color:inherit}
}
</style>
</head>
<body>
<script>
(function () {
  'use strict';
  // Script errors land in the DOM, where a test (or a reader) finds them.
  function record(message) {
    var body = document.body;
    if (!body) return;
    body.dataset.errors = (body.dataset.errors ? body.dataset.errors + '\n' : '') + message;
  }
  window.nukihilRecordError = record;
  window.onerror = function (message, source, line, column) {
    record(String(message) + (line ? ' (line ' + line + ':' + column + ')' : ''));
  };
  window.addEventListener('unhandledrejection', function (event) {
    var r = event.reason;
    record('unhandled rejection: ' + (r && r.message ? r.message : String(r)));
  });
})();
</script>
<svg id="svg-ns" width="0" height="0" aria-hidden="true"></svg>
<noscript><p>This report is drawn by its inline script; enable JavaScript to read it. The run
data is embedded in the page source (script#run-data).</p></noscript>
<main id="report"></main>
<script type="application/json" id="run-data">)nukihil";

// Everything after the run data: the script that draws the page from it.
constexpr std::string_view kPageScript = R"nukihil(</script>
<script>
(function () {
  'use strict';
  const recordError = window.nukihilRecordError || function () {};
  let renderErrors = 0;
  function fail(where, e) {
    renderErrors++;
    recordError(where + ': ' + (e && e.stack ? e.stack : String(e)));
  }
  // The SVG namespace, taken from an inline <svg> so that the page names no URL at all.
  const SVG_NS = document.getElementById('svg-ns').namespaceURI;

  // ---- reading the run: any field may be missing or of another type ----
  const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
  const obj = (x) => (isObj(x) ? x : {});
  const arr = (x) => (Array.isArray(x) ? x : []);
  const num = (x) => (typeof x === 'number' && isFinite(x) ? x : null);
  const str = (x) => (x == null ? '' : typeof x === 'string' ? x :
      typeof x === 'number' || typeof x === 'boolean' ? String(x) : JSON.stringify(x));

  // ---- building the DOM: run text only ever goes in as text nodes or attribute values ----
  function add(parent, child) {
    if (child == null || child === false || child === '') return;
    if (Array.isArray(child)) { for (const c of child) add(parent, c); return; }
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    add(e, children);
    return e;
  }
  function sv(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, String(attrs[k]));
    if (text != null) e.textContent = String(text);
    return e;
  }
  const tip = (node, text) => { node.appendChild(sv('title', null, text)); return node; };
  const px = (x) => Math.round(x * 10) / 10;
  // A <dl class="meta"> and a function adding a row to it unless the value is empty.
  function metaList() {
    const dl = el('dl', {class: 'meta'});
    const row = (k, v) => {
      if (v != null && v !== '') dl.append(el('dt', {text: k}), el('dd', null, v));
    };
    return [dl, row];
  }
  // A <thead> with one row of headings; the columns at `numeric` are right-aligned numbers.
  const headRow = (headings, numeric = []) => el('thead', null, el('tr', null, headings.map(
      (h, i) => el('th', {class: numeric.includes(i) ? 'num' : null, text: h}))));

  // ---- virtual time ----
  const validMs = (ms) => typeof ms === 'number' && isFinite(ms) && Math.abs(ms) <= 8.64e15;
  function utc(ms) {  // 2025-03-01 10:00:00 (milliseconds only when there are some)
    if (!validMs(ms)) return ms == null ? '—' : str(ms);
    const s = new Date(ms).toISOString();
    return s.slice(0, 10) + ' ' + s.slice(11, s.endsWith('.000Z') ? 19 : 23);
  }
  function duration(ms) {
    if (!(ms >= 0)) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms % 1000 ? (ms / 1000).toFixed(1) : ms / 1000) + ' s';
    let rest = Math.round(ms / 1000);
    const d = Math.floor(rest / 86400); rest -= d * 86400;
    const h = Math.floor(rest / 3600); rest -= h * 3600;
    const m = Math.floor(rest / 60); const s = rest - m * 60;
    const parts = [];
    if (d) parts.push(d + ' d');
    if (h) parts.push(h + ' h');
    if (m && !d) parts.push(m + ' min');
    if (s && !d && !h) parts.push(s + ' s');
    return parts.join(' ');
  }

  // ---- verdicts ----
  const VERDICTS = {
    failed: {badge: 'FAIL', rank: 0}, error: {badge: 'ERROR', rank: 1},
    skipped: {badge: 'SKIPPED', rank: 2}, passed: {badge: 'PASS', rank: 3},
  };
  const ALIASES = {fail: 'failed', errored: 'error', errors: 'error', skip: 'skipped',
                   pass: 'passed'};
  function verdictOf(s) {
    const v = str(s.verdict).toLowerCase();
    return VERDICTS[v] ? v : ALIASES[v] || 'unknown';
  }
  const rankOf = (v) => (VERDICTS[v] ? VERDICTS[v].rank : 1);
  const badge = (v) =>
    el('span', {class: 'badge ' + v, text: VERDICTS[v] ? VERDICTS[v].badge : 'UNKNOWN'});

  // ---- rules and links ----
  let rulesDoc = 'docs/rules.md';
  const ruleInfo = new Map();
  function safeHref(h) {  // relative, http(s) and file links only: no javascript: or data:
    h = str(h).trim();
    if (!h) return null;
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(h);
    return scheme && !/^(https?|file)$/i.test(scheme[1]) ? null : h;
  }
  const ruleIds = (x) => (Array.isArray(x) ? x : [x]).map(str).filter(Boolean);
  function ruleLink(id) {
    const info = ruleInfo.get(id);
    const href = safeHref(info && info.link ? info.link : rulesDoc + '#' + id);
    return el(href ? 'a' : 'span', {class: 'rule', href,
      title: info && info.title != null ? str(info.title) : null, text: id});
  }
  function ruleLinks(x) {
    const out = [];
    ruleIds(x).forEach((id, i) => { if (i) out.push(', '); out.push(ruleLink(id)); });
    return out.length ? out : null;
  }

  // ---- webhooks ----
  const TYPES = ['QueueAction', 'UpdateAction', 'SetState', 'Config'];
  function hookType(h) {
    const t = str(h.type).replace(/^deviceEvent/, '');
    if (TYPES.includes(t)) return t;
    const first = str(h.text).split(/\s/, 1)[0];
    return TYPES.includes(first) ? first : 'Other';
  }
  const SHAPES = {  // shape as well as colour, for readers who do not tell the colours apart
    QueueAction: 'M0,-5L4.8,4H-4.8z',
    UpdateAction: 'M0,-5.4L5.4,0L0,5.4L-5.4,0z',
    SetState: 'M-4.6,0a4.6,4.6 0 1,0 9.2,0a4.6,4.6 0 1,0 -9.2,0z',
    Config: 'M-4,-4h8v8h-8z',
    Other: 'M-3.2,0a3.2,3.2 0 1,0 6.4,0a3.2,3.2 0 1,0 -6.4,0z',
  };
  const STEP_SHAPE = 'M-5,-5H5L0,4z';

  // Which expected and observed webhooks are counterparts: a longest common subsequence of
  // their texts, so that one extra or one missing webhook does not shift everything after it.
  function alignTexts(a, b) {
    const n = a.length, m = b.length;
    const matchA = new Array(n).fill(-1), matchB = new Array(m).fill(-1);
    if (n * m > 4e6) {  // absurdly long: compare by index
      for (let i = 0; i < Math.min(n, m); i++) if (a[i] === b[i]) { matchA[i] = i; matchB[i] = i; }
      return {matchA, matchB};
    }
    const w = m + 1, dp = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        dp[i * w + j] = a[i] === b[j] ? dp[(i + 1) * w + j + 1] + 1
                                      : Math.max(dp[(i + 1) * w + j], dp[i * w + j + 1]);
      }
    }
    for (let i = 0, j = 0; i < n && j < m;) {
      if (a[i] === b[j]) { matchA[i] = j; matchB[j] = i; i++; j++; }
      else if (dp[(i + 1) * w + j] >= dp[i * w + j + 1]) i++;
      else j++;
    }
    return {matchA, matchB};
  }

  // ---- one scenario's context: its steps by index and label, its divergence ----
  function makeContext(it) {
    const s = it.s;
    const steps = arr(s.steps).map(obj);
    const stepsByIndex = new Map(), stepsByLabel = new Map();
    steps.forEach((st, k) => {
      const entry = {st, k, rowId: it.id + '-step-' + k};
      stepsByIndex.set(num(st.index) != null ? num(st.index) : k, entry);
      if (st.label != null) stepsByLabel.set(str(st.label), entry);
    });
    const div = obj(s.divergence);
    return {it, s, id: it.id, steps, stepsByIndex, stepsByLabel, div,
            divSteps: new Set(arr(div.steps).map(str))};
  }
  function findStep(ctx, ref) {
    if (ref == null || ref === '') return null;
    return typeof ref === 'number' ? ctx.stepsByIndex.get(ref) || null
                                   : ctx.stepsByLabel.get(str(ref)) || null;
  }
  function stepName(ctx, ref) {
    const found = findStep(ctx, ref);
    if (found && found.st.label != null) return str(found.st.label);
    return typeof ref === 'number' ? 'steps[' + ref + ']' : str(ref);
  }
  function stepLink(ctx, ref) {
    if (ref == null || ref === '') return null;
    const found = findStep(ctx, ref);
    const name = stepName(ctx, ref);
    return found ? el('a', {href: '#' + found.rowId, title: str(found.st.text), text: name}) : name;
  }

  function prepareDevice(ctx, raw, di) {
    const d = obj(raw);
    const lock = str(d.lock) || str(d.deviceId) || 'device ' + (di + 1);
    const expected = arr(d.expected).map(obj), observed = arr(d.observed).map(obj);
    const undelivered = arr(d.undelivered).map(obj);
    let divIndex = num(d.divergenceIndex);
    if (divIndex == null && !('divergenceIndex' in d) && ctx.div.lock != null &&
        str(ctx.div.lock) === str(d.lock)) {
      divIndex = num(ctx.div.index);
    }
    const {matchA, matchB} =
        alignTexts(expected.map((h) => str(h.text)), observed.map((h) => str(h.text)));
    return {lock, deviceId: str(d.deviceId), expected, observed, undelivered, divIndex, matchA,
            matchB, outbox: new Set(undelivered.map((h) => str(h.text))),
            rowId: (i) => ctx.id + '-d' + di + '-r' + i};
  }

  // ---- the swimlane timeline ----
  const TL = {label: 170, right: 16, minPlot: 980, slot: 11, stepsY: 20, laneTop: 38, laneH: 62,
              rowExp: 32, rowObs: 52, tickGap: 104};
  const LONG_GAP_MS = 60000;
  // Width of the stretch between two consecutive events: grows with the logarithm of its length
  // (1 s → 13 px, 1 min → 62 px, 1 h → 121 px, 1 day → 167 px, before stretching to fit).
  const gapWidth = (ms) => (ms > 0 ? 3 + 10 * Math.log2(1 + ms / 1000) : 0);

  function hookTitle(role, i, h, extra) {
    const lines = [str(h.text) || '(no text)',
                   role + (i != null ? ' #' + i : '') + ' · ' + utc(h.atMs) + ' UTC',
                   'type ' + (str(h.type) || hookType(h))];
    for (const line of extra) if (line) lines.push(line);
    return lines.join('\n');
  }
  function hookMarker(cls, h, x, y, rowId, title) {
    const type = hookType(h);
    const g = sv('g', {class: cls.join(' '), 'data-type': type, 'data-row': rowId,
                       transform: 'translate(' + px(x) + ',' + y + ')'});
    tip(g, title);
    if (cls.includes('divergence')) g.appendChild(sv('circle', {class: 'ring', r: 8.5}));
    if (cls.includes('missing') || cls.includes('unexpected')) {
      g.appendChild(sv('rect', {class: 'nocp-box', x: -7, y: -7, width: 14, height: 14}));
    }
    g.appendChild(sv('path', {class: 'm', d: SHAPES[type]}));
    return g;
  }

  function renderTimeline(ctx, devices) {
    // One row of timed events for the steps, and two (expected, observed) per device.
    const stepEvents = [];
    ctx.steps.forEach((st, k) => { if (validMs(st.atMs)) stepEvents.push({t: st.atMs, k, st}); });
    const rows = [stepEvents];
    for (const d of devices) {
      d.expEvents = [];
      d.obsEvents = [];
      const timed = (list, into, key) => list.forEach((h, n) => {
        if (validMs(h.atMs)) into.push({t: h.atMs, [key]: n, h});
      });
      timed(d.expected, d.expEvents, 'i');
      timed(d.observed, d.obsEvents, 'i');
      timed(d.undelivered, d.obsEvents, 'u');  // undelivered: in the observed row, hollow
      rows.push(d.expEvents, d.obsEvents);
    }
    // Events at the same millisecond sit side by side: each instant is as wide as its busiest row.
    const need = new Map();
    for (const row of rows) {
      row.sort((a, b) => a.t - b.t);
      let prev = null, rank = 0;
      for (const ev of row) {
        rank = ev.t === prev ? rank + 1 : 0;
        prev = ev.t;
        ev.rank = rank;
        need.set(ev.t, Math.max(need.get(ev.t) || 0, rank + 1));
      }
    }
    for (const t of [ctx.s.startMs, ctx.s.endMs]) if (validMs(t) && !need.has(t)) need.set(t, 0);
    const points = [...need.keys()].sort((a, b) => a - b);
    if (!points.length) return null;

    // The compressed axis: piecewise linear between consecutive instants.
    const dwell = points.map((t) => need.get(t) * TL.slot);
    const base = points.map((t, i) => (i ? gapWidth(t - points[i - 1]) : 0));
    const fixed = dwell.reduce((a, b) => a + b, 0), flex = base.reduce((a, b) => a + b, 0);
    const scale = flex > 0 && fixed + flex < TL.minPlot ? (TL.minPlot - fixed) / flex : 1;
    const x0 = [];
    let pos = TL.label + 8;
    points.forEach((t, i) => { pos += base[i] * scale; x0.push(pos); pos += dwell[i]; });
    const width = Math.ceil(Math.max(pos, TL.label + 8 + TL.minPlot) + TL.right);
    const at = new Map(points.map((t, i) => [t, i]));
    const xOf = (ev) => x0[at.get(ev.t)] + TL.slot * (ev.rank + 0.5);
    const xMid = (i) => x0[i] + dwell[i] / 2;

    const lanesEnd = TL.laneTop + devices.length * TL.laneH;
    const height = lanesEnd + 44;
    const svg = sv('svg', {class: 'timeline', width, height, viewBox: '0 0 ' + width + ' ' + height,
                           role: 'img', 'aria-label': 'webhooks per device on virtual time'});

    // Lane backgrounds first, then idle stretches and step guides, then the lanes' contents.
    devices.forEach((d, di) => {
      svg.appendChild(sv('rect', {class: 'lane-bg' + (di % 2 ? ' odd' : ''), x: 0,
                                  y: TL.laneTop + di * TL.laneH, width, height: TL.laneH - 4}));
    });
    for (let i = 1; i < points.length; i++) {
      const ms = points[i] - points[i - 1];
      const a = x0[i - 1] + dwell[i - 1], b = x0[i];
      if (ms < LONG_GAP_MS || b - a < 6) continue;
      svg.appendChild(tip(sv('rect', {class: 'idle', x: px(a + 2), y: 6, width: px(b - a - 4),
                                      height: lanesEnd - 6}),
                          'idle for ' + duration(ms) + ' (drawn compressed)'));
      if (b - a > 48) {
        svg.appendChild(sv('text', {class: 'idle-label', x: px((a + b) / 2), y: TL.stepsY + 4},
                           'idle ' + duration(ms)));
      }
    }
    const stepsG = sv('g', {class: 'steps'});
    stepsG.appendChild(sv('text', {class: 'row-label', x: TL.label - 6, y: TL.stepsY + 4,
                                   'text-anchor': 'end'}, 'steps'));
    for (const ev of stepEvents) {
      const x = xOf(ev), st = ev.st;
      svg.appendChild(sv('line', {class: 'guide', x1: px(x), x2: px(x), y1: TL.stepsY + 6,
                                  y2: lanesEnd}));
      const led = ctx.divSteps.has(str(st.label));
      const g = sv('g', {class: 'step' + (st.ok === false ? ' notok' : '') + (led ? ' led' : ''),
                         'data-row': ctx.id + '-step-' + ev.k,
                         transform: 'translate(' + px(x) + ',' + TL.stepsY + ')'});
      tip(g, [str(st.label) || 'step ' + ev.k, str(st.text), utc(st.atMs) + ' UTC',
              st.ok === false ? 'not ok' + (st.note ? ': ' + str(st.note) : '') : '',
              led ? 'led to the divergence' : ''].filter(Boolean).join('\n'));
      g.appendChild(sv('path', {class: 'm', d: STEP_SHAPE}));
      stepsG.appendChild(g);
    }
    svg.appendChild(stepsG);

    devices.forEach((d, di) => {
      const lane = sv('g', {class: 'lane', 'data-lock': d.lock,
                            transform: 'translate(0,' + (TL.laneTop + di * TL.laneH) + ')'});
      const title = sv('text', {class: 'lane-title', x: 8, y: 13}, d.lock);
      const counts = d.expected.length + ' expected, ' + d.observed.length + ' observed' +
                     (d.undelivered.length ? ', ' + d.undelivered.length + ' undelivered' : '');
      title.appendChild(sv('tspan', {class: 'lane-sub', dx: 8},
                           (d.deviceId ? 'device ' + d.deviceId + ' · ' : '') + counts));
      lane.appendChild(title);
      for (const [label, y] of [['expected', TL.rowExp], ['observed', TL.rowObs]]) {
        lane.appendChild(sv('text', {class: 'row-label', x: TL.label - 6, y: y + 4,
                                     'text-anchor': 'end'}, label));
        lane.appendChild(sv('line', {class: 'row-line', x1: TL.label, x2: width - TL.right,
                                     y1: y, y2: y}));
      }
      const xExp = new Map(), xObs = new Map();
      for (const ev of d.expEvents) xExp.set(ev.i, xOf(ev));
      for (const ev of d.obsEvents) if (ev.i != null) xObs.set(ev.i, xOf(ev));
      d.matchA.forEach((j, i) => {
        if (j < 0 || !xExp.has(i) || !xObs.has(j)) return;
        lane.appendChild(sv('line', {class: 'pair', x1: px(xExp.get(i)), y1: TL.rowExp + 6,
                                     x2: px(xObs.get(j)), y2: TL.rowObs - 6}));
      });
      for (const ev of d.expEvents) {
        const h = ev.h, i = ev.i, cls = ['hook'];
        if (i === d.divIndex) cls.push('divergence');
        if (d.matchA[i] < 0) cls.push('missing');
        const tipText = hookTitle('expected', i, h, [
          h.rule != null ? 'rule ' + ruleIds(h.rule).join(', ') : '',
          h.step != null ? 'step ' + stepName(ctx, h.step) : '',
          d.matchA[i] >= 0 ? '' : 'not observed' +
              (d.outbox.has(str(h.text)) ? ' (a copy is still in the outbox)' : ''),
          i === d.divIndex ? 'the divergence' : '']);
        lane.appendChild(hookMarker(cls, h, xOf(ev), TL.rowExp, d.rowId(i), tipText));
      }
      for (const ev of d.obsEvents) {
        const h = ev.h;
        if (ev.i == null) {
          lane.appendChild(hookMarker(['hook', 'undelivered'], h, xOf(ev), TL.rowObs, null,
              hookTitle('undelivered', null, h, ['still in the outbox at the end of the run',
                  h.rule != null ? 'rule ' + ruleIds(h.rule).join(', ') : ''])));
          continue;
        }
        const i = ev.i, cls = ['hook'], j = d.matchB[i];
        if (i === d.divIndex) cls.push('divergence');
        if (j < 0) cls.push('unexpected');
        const rule = j >= 0 && d.expected[j].rule != null ? d.expected[j].rule : h.rule;
        const tipText = hookTitle('observed', i, h, [
          rule == null ? '' : 'rule ' + ruleIds(rule).join(', ') +
              (j >= 0 ? ' (as expected #' + j + ')' : ''),
          h.id != null ? 'id ' + str(h.id) : '', j < 0 ? 'not expected' : '',
          i === d.divIndex ? 'the divergence' : '']);
        lane.appendChild(hookMarker(cls, h, xOf(ev), TL.rowObs, d.rowId(i), tipText));
      }
      svg.appendChild(lane);
    });

    // The axis: UTC labels at event instants, at least tickGap apart; the date when it changes.
    const axis = sv('g', {class: 'axis', transform: 'translate(0,' + (lanesEnd + 4) + ')'});
    axis.appendChild(sv('line', {x1: TL.label, x2: width - TL.right, y1: 0, y2: 0}));
    axis.appendChild(sv('text', {class: 'row-label', x: TL.label - 6, y: 16, 'text-anchor': 'end'},
                        'UTC'));
    const ticks = [];
    let lastX = -1e9;
    points.forEach((t, i) => {
      if (xMid(i) - lastX >= TL.tickGap) { ticks.push(i); lastX = xMid(i); }
    });
    const last = points.length - 1;
    const roomForLast = () =>
      !ticks.length || xMid(last) - xMid(ticks[ticks.length - 1]) >= TL.tickGap;
    if (ticks[ticks.length - 1] !== last) {  // the end of the run gets a label
      if (ticks.length > 1 && !roomForLast()) ticks.pop();
      if (roomForLast()) ticks.push(last);
    }
    let prevDate = '';
    for (const i of ticks) {
      const x = px(xMid(i)), iso = new Date(points[i]).toISOString();
      axis.appendChild(sv('line', {x1: x, x2: x, y1: 0, y2: 5}));
      const anchor = x + 34 > width ? 'end' : 'middle';
      axis.appendChild(sv('text', {x, y: 17, 'text-anchor': anchor},
                          iso.slice(11, iso.endsWith('.000Z') ? 19 : 23)));
      const date = iso.slice(0, 10);
      if (date !== prevDate) {
        axis.appendChild(sv('text', {class: 'date', x, y: 30, 'text-anchor': anchor}, date));
      }
      prevDate = date;
    }
    svg.appendChild(axis);
    svg.addEventListener('click', (e) => {
      const g = e.target.closest ? e.target.closest('[data-row]') : null;
      if (g) flashRow(g.getAttribute('data-row'));
    });
    return svg;
  }

  function swatch(cls, type, extra) {
    const s = sv('svg', {class: 'swatch', width: 18, height: 16, viewBox: '-9 -8 18 16'});
    const g = sv('g', {class: cls, 'data-type': type});
    if (extra) g.appendChild(extra);
    g.appendChild(sv('path', {class: 'm', d: type === 'step' ? STEP_SHAPE : SHAPES[type]}));
    s.appendChild(g);
    return s;
  }
  function legend() {
    const item = (sw, text) => el('span', {class: 'item'}, sw, text);
    const pair = sv('svg', {class: 'swatch', width: 18, height: 16, viewBox: '-9 -8 18 16'});
    pair.appendChild(sv('line', {class: 'pair-key', x1: -4, y1: -7, x2: 4, y2: 7}));
    return el('div', {class: 'legend'},
      TYPES.map((t) => item(swatch('key', t), t)),
      item(swatch('key hollow', 'SetState'), 'hollow: undelivered (still in the outbox)'),
      item(swatch('key', 'Other', sv('circle', {class: 'ring', r: 7})), 'the divergence'),
      item(swatch('key', 'Other',
                  sv('rect', {class: 'nocp-box', x: -7, y: -7, width: 14, height: 14})),
           'no counterpart on the other row'),
      item(pair, 'counterparts'), item(swatch('key step', 'step'), 'step'),
      item(swatch('key led', 'step'), 'step that led there'),
      item(swatch('key notok', 'step'), 'step not ok'),
      el('p', {text: 'Virtual time, UTC. The axis is compressed: between two consecutive events ' +
        'it is linear, with a width that grows with the logarithm of the gap, so events a second ' +
        'apart and a day apart are both readable; shaded bands are idle stretches over a ' +
        'minute, labelled with their real length. Events at the same millisecond stand side by ' +
        'side in order. Hover for details; click to find the row below.'}));
  }

  function flashRow(id) {
    const row = id ? document.getElementById(id) : null;
    if (!row) return;
    const details = row.closest('details');
    if (details) details.open = true;
    row.scrollIntoView({block: 'center'});
    row.classList.add('flash');
    setTimeout(() => row.classList.remove('flash'), 1600);
  }

  // ---- a scenario's section ----
  function hookCell(h, flag) {
    if (!h) return el('td', {class: 'hook-text none', text: '—'});
    const td = el('td', {class: 'hook-text' + (flag ? ' nocp' : '')},
                  el('span', {class: 'type-dot', 'data-type': hookType(h), title: str(h.type)}),
                  el('code', {text: str(h.text)}),
                  flag ? el('span', {class: 'flag', text: flag}) : null);
    const sub = [validMs(h.atMs) ? utc(h.atMs) : '', h.id != null ? str(h.id) : ''].filter(Boolean);
    if (sub.length) td.appendChild(el('div', {class: 'sub', text: sub.join(' · ')}));
    return td;
  }
  function renderDeviceTable(ctx, d) {
    const counts = d.expected.length + ' expected · ' + d.observed.length + ' observed' +
                   (d.undelivered.length ? ' · ' + d.undelivered.length + ' undelivered' : '');
    const device = (d.deviceId ? ' · device ' + d.deviceId : '') + ' — ' + counts;
    const wrap = el('div', {class: 'device'},
                    el('h4', null, d.lock, el('span', {class: 'muted', text: device})));
    const table = el('table', {class: 'hooks'}, headRow(
        ['#', 'Expected (spec model)', 'Observed (receiver)', 'Rule', 'Step']));
    const body = el('tbody');
    let rows = Math.max(d.expected.length, d.observed.length);
    if (d.divIndex === rows) rows++;  // the divergence is "one more than either side has"
    for (let i = 0; i < rows; i++) {
      const e = d.expected[i], o = d.observed[i];
      const differs = e && o && str(e.text) !== str(o.text);
      const cls = i === d.divIndex ? 'divergence' : differs ? 'differs' : null;
      body.appendChild(el('tr', {id: d.rowId(i), class: cls},
          el('td', {class: 'idx', text: i + 1}),
          hookCell(e, e && d.matchA[i] < 0 ? 'not observed' : null),
          hookCell(o, o && d.matchB[i] < 0 ? 'not expected' : null),
          el('td', null, e ? ruleLinks(e.rule) : null),
          el('td', null, e ? stepLink(ctx, e.step) : null)));
    }
    table.appendChild(body);
    if (d.undelivered.length) {
      const outbox = el('tbody', {class: 'outbox'},
          el('tr', null,
             el('th', {colspan: 5, text: 'Still in the outbox at the end (undelivered)'})));
      for (const h of d.undelivered) {
        outbox.appendChild(el('tr', {class: 'undelivered'}, el('td', {class: 'idx', text: '—'}),
            el('td', {class: 'none', text: ''}), hookCell(h, null),
            el('td', null, ruleLinks(h.rule)), el('td', null, stepLink(ctx, h.step))));
      }
      table.appendChild(outbox);
    }
    wrap.appendChild(table);
    return wrap;
  }
  function jsonCell(v) {
    if (v === undefined) return null;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    const long = text.length > 400;
    return el('code', {class: 'json', title: long ? text : null,
                       text: long ? text.slice(0, 400) + ' …' : text});
  }
  // --calibrate: each webhook's delay after its step, real beside nukisim's, and where the
  // real and the simulated sequences part.
  function renderCalibration(c) {
    const table = el('table', {class: 'calibration'},
                     headRow(['Lock', 'Step', 'Webhook', 'Real (s)', 'nukisim (s)', 'Difference']));
    const body = el('tbody');
    for (const r of arr(c.rows)) {
      const real = num(r.realMs), sim = num(r.simMs);
      const diff = real != null && sim != null ? (real - sim) / 1000 : null;
      body.appendChild(el('tr', {class: diff != null && Math.abs(diff) >= 1 ? 'notok' : null},
          el('td', {text: str(r.lock)}), el('td', {text: str(r.step)}),
          el('td', null, el('code', {text: str(r.webhook)})),
          el('td', {text: real != null ? (real / 1000).toFixed(2) : '—'}),
          el('td', {text: sim != null ? (sim / 1000).toFixed(2) : '—'}),
          el('td', {text: diff != null ? (diff >= 0 ? '+' : '') + diff.toFixed(2) : '—'})));
    }
    table.appendChild(body);
    const out = [el('h3', {text: 'Calibration: real timings beside nukisim\'s'}), table];
    const diffs = arr(c.differences).map((x) => el('li', {text: str(x)}));
    out.push(el('p', {class: 'muted', text: 'The same scenario in the embedded world: ' +
                      str(c.simulatedVerdict) + (c.simulatedMessage ? ' — ' + str(c.simulatedMessage) : '')}));
    if (diffs.length) {
      out.push(el('h3', {text: 'Where the real and the simulated webhook sequences differ'}),
               el('ul', {class: 'differences'}, diffs));
    }
    return out;
  }
  function renderSteps(ctx) {
    const table = el('table', {class: 'steps'}, headRow(
        ['#', 'Virtual time (UTC)', 'Step', 'Answer', 'Model predicted', 'OK', 'Note']));
    const body = el('tbody');
    ctx.steps.forEach((st, k) => {
      const led = ctx.divSteps.has(str(st.label));
      const notRun = st.run === false;
      const cls = [st.ok === false ? 'notok' : '', notRun ? 'notrun' : '', led ? 'led' : '']
                      .filter(Boolean).join(' ');
      const label = str(st.label) + (st.lock != null ? ' · ' + str(st.lock) : '');
      body.appendChild(el('tr', {id: ctx.id + '-step-' + k, class: cls || null},
          el('td', {class: 'idx', text: st.index != null ? str(st.index) : k}),
          el('td', {class: 'time', text: !notRun && validMs(st.atMs) ? utc(st.atMs) : '—'}),
          el('td', null, el('code', {text: str(st.text) || str(st.label)}),
             st.text != null && label ? el('div', {class: 'sub', text: label}) : null),
          el('td', null, jsonCell(st.answer)), el('td', null, jsonCell(st.predicted)),
          el('td', {class: notRun ? null : st.ok === true ? 'ok' : st.ok === false ? 'bad' : null,
                    text: notRun ? 'not run' : st.ok === true ? 'ok'
                                 : st.ok === false ? 'not ok' : '—'}),
          el('td', null, str(st.note),
             led ? el('span', {class: 'flag red', text: 'led to the divergence'}) : null)));
    });
    table.appendChild(body);
    return table;
  }
  function renderDivergence(ctx, devices) {
    const d = ctx.div;
    const [meta, row] = metaList();
    const dev = devices.find((x) => d.lock != null && x.lock === str(d.lock) && x.divIndex != null);
    row('Lock', d.lock != null ? str(d.lock) : null);
    const showRow =
        dev ? el('a', {href: '#' + dev.rowId(dev.divIndex), text: '(show the row)'}) : null;
    // Counted from 1, as the terminal and the JUnit file count ("webhook 11").
    row('Webhook', d.index != null && num(d.index) != null
                       ? ['#' + (num(d.index) + 1), showRow ? ' ' : null, showRow] : null);
    row('Rule', ruleLinks(d.rule));
    row('Message', d.message != null ? str(d.message) : null);
    const side = (head, cls, v, none) => el('div', null, el('div', {class: 'cmp-h', text: head}),
        el('pre', {class: cls, text: v != null && v !== '' ? str(v) : none}));
    const box = el('div', {class: 'divergence-box'}, el('h3', {text: 'Divergence'}), meta,
        el('div', {class: 'cmp'},
           side('Expected (spec model)', 'expected', d.expected, '(nothing expected here)'),
           side('Observed (receiver)', 'observed', d.observed, '(nothing observed here)')));
    const led = arr(d.steps);
    if (led.length) {
      box.appendChild(el('div', {class: 'cmp-h', text: 'Steps that led there'}));
      box.appendChild(el('ol', {class: 'led'}, led.map((label) => {
        const found = findStep(ctx, label);
        const what = found && found.st.text != null ?
            ' — ' + str(found.st.text) + ' at ' + utc(found.st.atMs) + ' UTC' : null;
        return el('li', null,
                  found ? el('a', {href: '#' + found.rowId, text: str(label)}) : str(label), what);
      })));
    }
    return box;
  }
  function fillScenario(body, it) {
    const s = it.s, ctx = makeContext(it);
    const [meta, row] = metaList();
    row('File', str(s.file)); row('Suite', str(s.suite));
    if (s.target != null && s.target !== 'embedded') {
      row('Target', str(s.target) + ' (the wall clock, real locks; not replayed)');
    } else {
      row('Seed', str(s.seed));
    }
    row('Verdict', badge(it.verdict));
    row('Wall time', num(s.wallMs) != null ? Math.round(num(s.wallMs)) + ' ms' : null);
    if (validMs(s.startMs) || validMs(s.endMs)) {
      const span = validMs(s.startMs) && validMs(s.endMs) ?
          ' (' + duration(s.endMs - s.startMs) + ')' : '';
      row('Virtual time', utc(s.startMs) + ' → ' + utc(s.endMs) + ' UTC' + span);
    }
    row('Message', str(s.message));
    if (s.replayed === true) row('Replayed', 'yes: the same seed gave the same result twice');
    body.appendChild(meta);
    if (s.replay != null && s.replay !== '') {
      body.appendChild(el('div', {class: 'replay'}, el('span', {class: 'muted', text: 'Replay'}),
          el('code', {class: 'replay', text: str(s.replay)}),
          el('button', {type: 'button', class: 'copy', text: 'Copy'})));
    }
    const devices = arr(s.devices).map((d, di) => prepareDevice(ctx, d, di));
    if (isObj(s.divergence)) body.appendChild(renderDivergence(ctx, devices));
    for (const [head, key] of [['Problems', 'problems'],
                               ['Branches (indeterminate outcomes)', 'branches'],
                               ['Checks that could not be made on this target', 'skippedChecks'],
                               ['Not cleaned up on the account', 'notCleanedUp'],
                               ['Nuki Web departs from SPEC (findings about the service, not ' +
                                'the adapter)', 'serviceFindings']]) {
      const items = arr(s[key]).map((x) => el('li', {text: str(x)}));
      if (items.length) body.append(el('h3', {text: head}), el('ul', {class: key}, items));
    }
    const svg = devices.length || ctx.steps.length ? renderTimeline(ctx, devices) : null;
    if (svg) {
      body.append(el('h3', {text: 'Timeline'}), el('div', {class: 'timeline-wrap'}, svg), legend());
    }
    if (devices.length) {
      body.appendChild(el('h3', {text: 'Webhooks per device'}));
      for (const d of devices) body.appendChild(renderDeviceTable(ctx, d));
    } else {
      body.appendChild(el('p', {class: 'muted', text: 'No devices recorded for this scenario.'}));
    }
    if (ctx.steps.length) body.append(el('h3', {text: 'Steps'}), renderSteps(ctx));
    if (isObj(s.calibration)) body.append(...renderCalibration(obj(s.calibration)));
    const cov = Object.entries(obj(s.coverage)).filter(([, n]) => num(n) > 0);
    if (cov.length) {
      const links = [];
      cov.forEach(([id, n], i) => {
        if (i) links.push(', ');
        links.push(ruleLink(id), ' ×' + n);
      });
      body.appendChild(el('p', {class: 'muted'}, 'Rules exercised here: ', links));
    }
  }
  function renderScenario(it) {
    const s = it.s;
    const section = el('section', {class: 'scenario', 'data-verdict': it.verdict, id: it.id});
    const details = el('details', {open: it.rank <= 1});
    details.appendChild(el('summary', null, badge(it.verdict),
                           el('span', {class: 'name', text: it.name}),
                           el('span', {class: 'file', text: str(s.file)}),
                           el('span', {class: 'msg', text: str(s.message)})));
    it.body = el('div', {class: 'body'});
    details.appendChild(it.body);
    section.appendChild(details);
    it.section = section;
    it.details = details;
    // Failures are drawn now; a collapsed section when it is first opened (or printed), so that
    // a run of many passing scenarios opens quickly. Either way each section is built once.
    if (details.open) build(it);
    else details.addEventListener('toggle', () => { if (details.open) build(it); });
    return section;
  }
  function build(it) {
    if (it.built || !it.body) return;
    it.built = true;
    try {
      fillScenario(it.body, it);
    } catch (e) {
      fail(it.id, e);
      it.body.appendChild(
          el('p', {class: 'render-error', text: 'This section could not be drawn: ' + e}));
    }
  }

  // ---- the summary, the scenario list, rule coverage ----
  function renderHeader(run, items) {
    const sm = obj(run.summary);
    const counted = {passed: 0, failed: 0, error: 0, skipped: 0, unknown: 0};
    for (const it of items) counted[it.verdict]++;
    const pick = (k, fallback) => (num(sm[k]) != null ? num(sm[k]) : fallback);
    const c = {passed: pick('passed', counted.passed), failed: pick('failed', counted.failed),
               error: pick('errors', counted.error), skipped: pick('skipped', counted.skipped)};
    const total = pick('scenarios', items.length);
    const wall = num(sm.wallSeconds);
    const count = (label, v, cls) =>
      el('div', {class: 'count ' + (cls || '')}, el('span', {class: 'v', text: v}), label);
    const bar = el('div', {class: 'bar', title: 'verdicts'});
    for (const k of ['failed', 'error', 'skipped', 'passed']) {
      if (c[k] > 0) bar.appendChild(el('span', {class: k, style: 'flex-grow:' + c[k]}));
    }
    const [meta, row] = metaList();
    row('Command', run.command != null ? el('code', {text: str(run.command)}) : null);
    // The run's seed is the default; a scenario that gives its own runs on that.
    const own = items.filter((it) => run.seed != null && it.s.seed != null &&
                                     str(it.s.seed) !== str(run.seed)).length;
    row('Seed', run.seed == null ? null
        : str(run.seed) + (own ? ' (for scenarios that give none; ' + own + ' give their own)'
                               : ''));
    const by = [str(run.tool), str(run.version)].filter(Boolean).join(' ');
    row('Generated', [str(run.generatedAt), by ? 'by ' + by : ''].filter(Boolean).join(' '));
    const docHref = safeHref(rulesDoc);
    row('Rules', docHref ? el('a', {href: docHref, text: rulesDoc}) : rulesDoc);
    return el('header', {id: 'summary'},
        el('div', {class: 'titlebar'}, el('h1', {text: 'nukihil run report'}),
           badge(c.failed ? 'failed' : c.error ? 'error' : items.length ? 'passed' : 'skipped'),
           el('nav', {class: 'jump'}, el('a', {href: '#overview', text: 'Scenarios'}),
              el('a', {href: '#scenarios', text: 'Details'}),
              el('a', {href: '#rule-coverage', text: 'Rule coverage'}))),
        el('div', {class: 'counts'}, count('scenarios', total), count('passed', c.passed, 'passed'),
           count('failed', c.failed, 'failed'), count('errors', c.error, 'error'),
           count('skipped', c.skipped, 'skipped'),
           count('wall time', wall == null ? '—' :
                 wall < 60 ? wall.toFixed(2) + ' s' : duration(wall * 1000)),
           count('seed', run.seed != null ? str(run.seed) : '—')),
        bar, meta);
  }
  function renderList(ordered) {
    const table = el('table', {id: 'scenario-list'},
                     headRow(['Verdict', 'Scenario', 'File', 'Seed', 'Message']));
    const body = el('tbody');
    for (const it of ordered) {
      const s = it.s;
      it.row = el('tr', {'data-target': it.id},
          el('td', null, badge(it.verdict)),
          el('td', null, el('a', {href: '#' + it.id, text: it.name})),
          el('td', null, el('code', {text: str(s.file)})), el('td', {text: str(s.seed)}),
          el('td', {class: 'msg', title: str(s.message) || null, text: str(s.message)}));
      body.appendChild(it.row);
    }
    table.appendChild(body);
    return el('section', {id: 'overview'}, el('h2', {text: 'Scenarios'}),
        el('div', {class: 'toolbar'},
           el('input', {type: 'search', id: 'filter', 'aria-label': 'filter scenarios',
                        placeholder: 'Filter by name, file, suite, message…'}),
           el('label', null, el('input', {type: 'checkbox', id: 'failures-only'}),
              ' failures only'),
           el('span', {id: 'shown', class: 'muted'})),
        ordered.length ? table : el('p', {class: 'muted', text: 'This run has no scenarios.'}));
  }
  function renderCoverage(run, items) {
    const rules = arr(run.rules).map(obj);
    const exercisedIn = new Map();
    for (const it of items) {
      for (const [id, n] of Object.entries(obj(it.s.coverage))) {
        if (!(num(n) > 0)) continue;
        if (!exercisedIn.has(id)) exercisedIn.set(id, []);
        exercisedIn.get(id).push([it, n]);
      }
    }
    const exercised = (r) => (num(r.exercised) != null ? num(r.exercised) : 0);
    const gaps = rules.filter((r) => !(exercised(r) > 0)).length;
    const table = el('table', {id: 'coverage'},
                     headRow(['Rule', 'Title', 'Exercised', 'Intended', 'Exercised in'], [2, 3]));
    const body = el('tbody');
    for (const r of rules) {
      const id = str(r.id), n = exercised(r), gap = !(n > 0);
      const where = exercisedIn.get(id) || [];
      const links = [];
      where.slice(0, 6).forEach(([it, k], i) => {
        if (i) links.push(', ');
        links.push(el('a', {href: '#' + it.id, text: it.name}), ' ×' + k);
      });
      if (where.length > 6) links.push(' and ' + (where.length - 6) + ' more');
      body.appendChild(el('tr', {class: gap ? 'gap-row' : null, 'data-rule': id},
          el('td', null, id ? ruleLink(id) : '(no id)'), el('td', {text: str(r.title)}),
          el('td', {class: gap ? 'gap num' : 'num', text: gap ? n + ' — gap' : n}),
          el('td', {class: 'num', text: num(r.intended) != null ? num(r.intended) : '—'}),
          el('td', null, links)));
    }
    table.appendChild(body);
    const docHref = safeHref(rulesDoc);
    return el('section', {id: 'rule-coverage'}, el('h2', {text: 'Rule coverage'}),
        el('p', {class: 'muted'},
           rules.length + ' rules, ' + (rules.length - gaps) + ' exercised by this run, ',
           el('span', {class: gaps ? 'gap-count' : null, text: gaps + ' never exercised (gaps)'}),
           '. Exercised: how often this run exercised the rule; intended: how many scenarios ' +
           'list it. What each rule demands: ',
           docHref ? el('a', {href: docHref, text: rulesDoc}) : rulesDoc, '.'),
        table, rules.length ? null : el('p', {class: 'muted', text: 'This run lists no rules.'}));
  }

  // ---- interaction: filter, expand on click, copy, print everything ----
  let byId = new Map();
  // An address such as #scenario-3 or #scenario-3-d0-r9 opens (and if need be draws) the section.
  function openFromHash() {
    let id = '';
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    const m = /^scenario-[0-9]+/.exec(id);
    const it = m ? byId.get(m[0]) : null;
    if (!it || !it.details) return;
    const wasOpen = it.details.open;
    build(it);
    it.details.open = true;
    const target = document.getElementById(id);
    if (target && (!wasOpen || target !== it.section)) target.scrollIntoView({block: 'start'});
  }
  function wire(items) {
    byId = new Map(items.map((it) => [it.id, it]));
    const input = document.getElementById('filter');
    const only = document.getElementById('failures-only');
    const shown = document.getElementById('shown');
    function apply() {
      const q = input.value.trim().toLowerCase();
      let n = 0;
      for (const it of items) {
        const visible = (!only.checked || it.rank <= 1) && (!q || it.hay.includes(q));
        if (it.row) it.row.hidden = !visible;
        if (it.section) it.section.hidden = !visible;
        if (visible) n++;
      }
      shown.textContent = n + ' of ' + items.length + ' shown';
    }
    input.addEventListener('input', apply);
    only.addEventListener('change', apply);
    apply();
    const list = document.getElementById('scenario-list');
    if (list) {
      list.addEventListener('click', (e) => {
        const tr = e.target.closest('tr[data-target]');
        const it = tr ? byId.get(tr.getAttribute('data-target')) : null;
        if (!it || !it.details) return;
        it.details.open = true;
        if (!e.target.closest('a')) it.section.scrollIntoView({block: 'start'});
      });
    }
    window.addEventListener('hashchange', openFromHash);
    document.addEventListener('click', (e) => {
      const button = e.target.closest ? e.target.closest('button.copy') : null;
      if (!button) return;
      const code = button.previousElementSibling;
      const select = () => { const r = document.createRange(); r.selectNodeContents(code);
                             const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); };
      const done = () => {
        button.textContent = 'Copied';
        setTimeout(() => { button.textContent = 'Copy'; }, 1500);
      };
      try {
        if (navigator.clipboard) navigator.clipboard.writeText(code.textContent).then(done, select);
        else select();
      } catch (err) { select(); }
    });
    let wasOpen = null;
    window.addEventListener('beforeprint', () => {
      wasOpen = items.map((it) => (it.details ? it.details.open : false));
      for (const it of items) { build(it); if (it.details) it.details.open = true; }
    });
    window.addEventListener('afterprint', () => {
      if (wasOpen) items.forEach((it, i) => { if (it.details) it.details.open = wasOpen[i]; });
    });
  }

  function main() {
    const node = document.getElementById('run-data');
    let run = {};
    try { run = JSON.parse(node ? node.textContent : '{}'); } catch (e) { fail('run data', e); }
    if (!isObj(run)) run = {};
    if (str(run.rulesDoc)) rulesDoc = str(run.rulesDoc);
    for (const r of arr(run.rules)) {
      const o = obj(r);
      if (o.id != null) ruleInfo.set(str(o.id), o);
    }
    const items = arr(run.scenarios).map((raw, idx) => {
      const s = obj(raw), verdict = verdictOf(s);
      const name = str(s.name) || str(s.file) || 'scenario ' + (idx + 1);
      return {s, idx, id: 'scenario-' + idx, verdict, rank: rankOf(verdict), name,
              hay: [name, str(s.file), str(s.suite), str(s.message), verdict]
                       .join('\n').toLowerCase()};
    });
    const ordered = items.slice().sort((a, b) => a.rank - b.rank || a.idx - b.idx);
    const failing = items.filter((it) => it.rank <= 1).length;
    document.title = 'nukihil: ' + (failing ? failing + ' failing' : items.length + ' passed') +
                     (run.generatedAt != null ? ' — ' + str(run.generatedAt) : '');
    const frag = document.createDocumentFragment();
    frag.appendChild(renderHeader(run, items));
    frag.appendChild(renderList(ordered));
    const sections = el('section', {id: 'scenarios'}, el('h2', {text: 'Scenario details'}));
    for (const it of ordered) sections.appendChild(renderScenario(it));
    frag.appendChild(sections);
    frag.appendChild(renderCoverage(run, items));
    frag.appendChild(el('footer', {text: 'Self-contained report: the run data is embedded in ' +
        'this page (script#run-data); it loads nothing from the network.'}));
    document.getElementById('report').appendChild(frag);
    wire(items);
    openFromHash();
  }

  try { main(); } catch (e) { fail('report', e); }
  const errors = document.body.dataset.errors;
  if (errors) {
    document.getElementById('report').prepend(
        el('div', {class: 'render-error',
                   text: 'Parts of this report could not be drawn:\n' + errors}));
  }
  if (!renderErrors && !errors) document.body.dataset.rendered = 'yes';
})();
</script>
</body>
</html>
)nukihil";

// The run as JSON that cannot end (or confuse) the <script> element it sits in: "</" becomes
// "<\/" and "<!--" becomes "<\u0021--", both valid JSON for the same text. "<" only ever occurs
// inside JSON strings, where these escapes are legal.
std::string embeddableJson(const nlohmann::json& run) {
  const std::string text = run.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '<') {
      out += text[i];
    } else if (text.compare(i, 2, "</") == 0) {
      out += "<\\/";
      ++i;
    } else if (text.compare(i, 4, "<!--") == 0) {
      out += "<\\u0021--";
      i += 3;
    } else {
      out += '<';
    }
  }
  return out;
}

}  // namespace

std::string renderHtmlReport(const nlohmann::json& run) {
  const std::string data = embeddableJson(run);
  std::string page;
  page.reserve(kPageHead.size() + data.size() + kPageScript.size());
  page.append(kPageHead).append(data).append(kPageScript);
  return page;
}

}  // namespace nukihil::scenarios
