// The dashboard page: one HTML document with its style and script inline, so that lakelog
// serves everything itself (no CDN, nothing fetched but /api/report). The chart is SVG drawn
// by the script below: bars of events and failures per bucket, a line of the success rate.
// When the server runs inside an engine (`lakelog demo --serve`), GET /metrics carries the
// engine's series too, and the page shows them live: buffer fill, drops by reason, flushes,
// retries and flush latency percentiles per sink (estimated from the histogram's buckets, as
// Prometheus's histogram_quantile does).
#include <string>

#include "analytics/dashboard_server.h"

namespace lakelog::analytics {
namespace {

constexpr const char* kHead = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px}
header h1{font-size:18px;margin:0 0 4px}
#meta{color:#aab;font-size:12px}
#health{margin:12px 20px;padding:10px 14px;border-radius:6px;font-weight:600}
#health.ok{background:#e3f6e8;color:#165c2c}
#health.bad{background:#fde8e8;color:#8a1c1c}
#tiles{display:flex;gap:12px;margin:0 20px 12px}
.tile{background:#fff;border-radius:6px;padding:10px 14px;min-width:120px;box-shadow:0 1px 2px #0002}
.tile b{display:block;font-size:22px}
table{border-collapse:collapse;background:#fff;margin:0 20px 16px;box-shadow:0 1px 2px #0002}
th,td{padding:6px 10px;border-bottom:1px solid #e4e6ea;text-align:right;white-space:nowrap}
th{background:#eef0f3;font-weight:600}
td.name,th.name,td.stages{text-align:left}
.state{padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.state-ok{background:#e3f6e8;color:#165c2c}.state-failing{background:#fff1d6;color:#7a4b00}
.state-breaching,.state-stale,.state-no_data{background:#fde8e8;color:#8a1c1c}
#charts{display:flex;flex-wrap:wrap;gap:16px;margin:0 20px 20px}
.card{width:540px;background:#fff;border-radius:6px;padding:10px;box-shadow:0 1px 2px #0002}
.card h3{margin:0 0 6px;font-size:14px}
svg.chart .events{fill:#c9d3e3}svg.chart .fail{fill:#d9534f}
svg.chart .rate{fill:none;stroke:#2a7de1;stroke-width:2}
svg.chart .rate-dot{fill:#2a7de1}svg.chart .axis{stroke:#99a;stroke-width:1}svg.chart text{font-size:10px;fill:#667}
.runs{font-size:12px;margin-top:6px}.runs span{display:inline-block;margin-right:6px}
.FAILED{color:#b52b27}.SUCCESS{color:#1e7b34}.RUNNING{color:#7a4b00}
#error{color:#8a1c1c;margin:0 20px}
h2{font-size:15px;margin:4px 20px 8px}
#engine-tiles{display:flex;gap:12px;margin:0 20px 12px}
</style></head><body>
<header><h1>@TITLE@</h1><div id="meta"></div></header>
<div id="health"></div><div id="error"></div>
<div id="tiles"></div>
<table id="pipelines"><thead><tr><th class="name">pipeline</th><th>state</th><th>events</th>
<th>failures</th><th>success</th><th>errors</th><th>last event</th><th>age</th>
<th>runs ok/failed/running</th><th>SLA</th><th>fresh</th><th class="name">top failing stages</th>
</tr></thead><tbody></tbody></table>
<div id="charts"></div>
<section id="engine" hidden><h2>engine (live, from /metrics)</h2><div id="engine-tiles"></div>
<table id="engine-pipelines"><thead><tr><th class="name">pipeline</th><th>buffer fill</th>
<th>buffered</th><th>accepted</th><th>flushed</th><th>dropped</th><th>oldest unflushed</th>
</tr></thead><tbody></tbody></table>
<table id="engine-sinks"><thead><tr><th class="name">sink</th><th>flushes ok</th><th>errors</th>
<th>given up</th><th>retries</th><th>conflicts</th><th>flush p50</th><th>flush p99</th>
<th>backlog</th><th>dropped</th></tr></thead><tbody></tbody></table></section>
<script id="initial-report" type="application/json">)HTML";

constexpr const char* kTail = R"HTML(</script>
<script>
"use strict";
const API_QUERY = "@API_QUERY@";
const REFRESH_MS = @REFRESH@ * 1000;
const params = new URLSearchParams(location.search);
const token = params.get("token");
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
function pct(x) { return x === null || x === undefined ? "-" : (x * 100).toFixed(1) + "%"; }
function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  const s = Math.floor(seconds);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60 ? (s % 60) + "s" : "");
  if (s < 86400) return Math.floor(s / 3600) + "h" + (Math.floor(s / 60) % 60 ? Math.floor(s / 60) % 60 + "m" : "");
  return Math.floor(s / 86400) + "d" + (Math.floor(s / 3600) % 24 ? Math.floor(s / 3600) % 24 + "h" : "");
}
function name(p) { return p.pipeline === null ? "(null)" : p.pipeline; }

// Events (grey) and failures (red) per bucket on the left scale, the success rate (blue line)
// on a 0..100% scale; x spans the report's window.
function chart(p, report) {
  const W = 520, H = 150, L = 34, R = 34, T = 8, B = 20;
  const s = svg("svg", {class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`,
                        "data-pipeline": name(p)});
  const buckets = p.timeline.map(b => ({t: Date.parse(b.start), ...b}));
  const end = Date.parse(report.now);
  let start = report.since ? Date.parse(report.since) : (buckets.length ? buckets[0].t : end - 3600e3);
  if (buckets.length && buckets[0].t < start) start = buckets[0].t;
  const width = (report.bucket_seconds || 3600) * 1000;
  const span = Math.max(end - start, width);
  const x = t => L + (t - start) / span * (W - L - R);
  const maxEvents = Math.max(1, ...buckets.map(b => b.events));
  const y = n => H - B - n / maxEvents * (H - T - B);
  const yr = r => H - B - r * (H - T - B);
  s.appendChild(svg("line", {class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B}));
  s.appendChild(svg("line", {class: "axis", x1: L, y1: T, x2: L, y2: H - B}));
  const label = (x0, y0, text, anchor) => {
    const t = svg("text", {x: x0, y: y0, "text-anchor": anchor || "start"});
    t.textContent = text; s.appendChild(t);
  };
  label(L - 4, T + 8, String(maxEvents), "end");
  label(W - R + 4, T + 8, "100%");
  label(W - R + 4, H - B, "0%");
  label(L, H - 6, new Date(start).toISOString().slice(5, 16).replace("T", " "));
  label(W - R, H - 6, new Date(end).toISOString().slice(5, 16).replace("T", " "), "end");
  const bw = Math.max(1, (x(start + width) - x(start)) * 0.8);
  const points = [];
  for (const b of buckets) {
    s.appendChild(svg("rect", {class: "events", x: x(b.t), y: y(b.events), width: bw,
                               height: H - B - y(b.events)}));
    if (b.failures > 0) {
      s.appendChild(svg("rect", {class: "fail", x: x(b.t), y: y(b.failures), width: bw,
                                 height: H - B - y(b.failures), "data-failures": b.failures}));
    }
    const decided = b.successes + b.failures;
    if (decided > 0) {
      points.push([x(b.t) + bw / 2, yr(b.successes / decided)]);
      s.appendChild(svg("circle", {class: "rate-dot", cx: x(b.t) + bw / 2,
                                   cy: yr(b.successes / decided), r: 2.5}));
    }
  }
  if (points.length) {
    const d = points.map((pt, i) => (i ? "L" : "M") + pt[0].toFixed(1) + "," + pt[1].toFixed(1)).join(" ");
    s.appendChild(svg("path", {class: "rate", d: d, "data-points": points.length}));
  }
  return s;
}

function render(report) {
  document.getElementById("error").textContent = report.error ? "error: " + report.error : "";
  if (report.error) return;
  const health = document.getElementById("health");
  health.textContent = report.health;
  health.className = report.healthy ? "ok" : "bad";
  document.getElementById("meta").textContent =
    `table version ${report.table_version} · window ${report.since || "all"} … ${report.now}` +
    ` · refreshed ${new Date().toISOString().slice(11, 19)}Z`;
  const decided = report.successes + report.failures;
  const tiles = document.getElementById("tiles");
  tiles.replaceChildren();
  for (const [label, value, id] of [["pipelines", report.pipelines.length, "tile-pipelines"],
                                    ["events", report.events, "tile-events"],
                                    ["failures", report.failures, "tile-failures"],
                                    ["success rate", decided ? pct(report.successes / decided) : "-", "tile-success"]]) {
    const t = el("div", {class: "tile", id: id});
    t.appendChild(el("b", {}, value));
    t.appendChild(document.createTextNode(label));
    tiles.appendChild(t);
  }
  const body = document.querySelector("#pipelines tbody");
  body.replaceChildren();
  const charts = document.getElementById("charts");
  charts.replaceChildren();
  for (const p of report.pipelines) {
    const tr = el("tr", {"data-pipeline": name(p), "data-state": p.state});
    const runs = p.runs;
    const cells = [
      [name(p), "name"], [null, "state"], [p.events, "events"], [p.failures, "failures"],
      [pct(p.success_rate), "success"], [p.errors, "errors"],
      [p.last_event ? p.last_event.slice(0, 19).replace("T", " ") : "-", "last"],
      [age(p.staleness_seconds), "age"],
      [`${runs.total} (${runs.succeeded}/${runs.failed}/${runs.running})`, "runcount"],
      [p.sla_compliance === null ? "-" : `${pct(p.sla_compliance)} (${runs.breached_sla} breached)`, "sla"],
      [p.fresh === null ? "-" : (p.fresh ? "yes" : "no"), "fresh"],
      [p.top_failing_stages.map(s => `${s.stage === null ? "(null)" : s.stage} (${s.failures})`).join(", ") || "-", "stages"]];
    for (const [value, cls] of cells) {
      const td = el("td", {class: cls}, value);
      if (cls === "state") {
        const badge = el("span", {class: "state state-" + p.state, title: p.attention}, p.state);
        td.appendChild(badge);
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
    const card = el("div", {class: "card", "data-pipeline": name(p)});
    card.appendChild(el("h3", {}, `${name(p)} — ${pct(p.success_rate)} success, ${p.failures} failures`));
    card.appendChild(chart(p, report));
    const recent = el("div", {class: "runs"});
    for (const r of p.recent_runs.slice(0, 8)) {
      recent.appendChild(el("span", {class: r.outcome, title: `${r.start} · ${r.events} events`},
        `${r.run_id} ${r.outcome} ${age(r.duration_seconds)}${r.sla ? " SLA " + r.sla : ""}`));
    }
    card.appendChild(recent);
    charts.appendChild(card);
  }
  document.body.setAttribute("data-rendered", String(Number(document.body.getAttribute("data-rendered") || 0) + 1));
}

// Prometheus text -> {name: [{labels, value}]}.
function parseMetrics(text) {
  const series = {};
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    (series[m[1]] = series[m[1]] || []).push({labels, value: Number(m[3])});
  }
  return series;
}
function sum(series, name, match) {
  let total = 0;
  for (const s of series[name] || []) {
    if (Object.entries(match || {}).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
// The q-quantile of a histogram (its _bucket series matching `match`, summed by le), linear
// within the bucket it falls in; null without observations.
function quantile(series, name, q, match) {
  const byLe = new Map();
  for (const s of series[name + "_bucket"] || []) {
    if (!Object.entries(match || {}).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) || 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  if (!buckets.length || buckets[buckets.length - 1][1] === 0) return null;
  const rank = q * buckets[buckets.length - 1][1];
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return count === prevCount ? le : prevLe + (le - prevLe) * (rank - prevCount) / (count - prevCount);
    }
    prevLe = le; prevCount = count;
  }
  return prevLe;
}
function ms(seconds) { return seconds === null ? "-" : (seconds * 1000).toFixed(1) + " ms"; }
function reasons(series, name, match) {
  const parts = [];
  for (const s of series[name] || []) {
    if (s.value > 0 && Object.entries(match).every(([k, v]) => s.labels[k] === v)) {
      parts.push(`${s.labels.reason} ${s.value}`);
    }
  }
  return parts.join(", ") || "0";
}
function row(tbody, attrs, cells) {
  const tr = el("tr", attrs);
  for (const [value, cls] of cells) tr.appendChild(el("td", {class: cls}, value));
  tbody.appendChild(tr);
}

// The engine's own health, shown only when /metrics carries an engine's series.
function renderEngine(series) {
  const section = document.getElementById("engine");
  if (!series.lakelog_buffer_fill_ratio) { section.hidden = true; return; }
  section.hidden = false;
  const tiles = document.getElementById("engine-tiles");
  tiles.replaceChildren();
  for (const [label, value, id] of [
      ["events accepted", sum(series, "lakelog_events_accepted_total"), "engine-accepted"],
      ["events flushed", sum(series, "lakelog_events_flushed_total"), "engine-flushed"],
      ["events dropped", sum(series, "lakelog_events_dropped_total"), "engine-dropped"],
      ["flushes ok", sum(series, "lakelog_flushes_total", {result: "ok"}), "engine-flushes"],
      ["flush p99", ms(quantile(series, "lakelog_flush_duration_seconds", 0.99)), "engine-p99"]]) {
    const t = el("div", {class: "tile", id: id});
    t.appendChild(el("b", {}, value));
    t.appendChild(document.createTextNode(label));
    tiles.appendChild(t);
  }
  const pipelines = document.querySelector("#engine-pipelines tbody");
  pipelines.replaceChildren();
  for (const s of series.lakelog_buffer_fill_ratio) {
    const p = {pipeline: s.labels.pipeline};
    row(pipelines, {"data-pipeline": p.pipeline}, [
      [p.pipeline, "name"], [pct(s.value), "fill"],
      [sum(series, "lakelog_buffered_events", p), "buffered"],
      [sum(series, "lakelog_events_accepted_total", p), "accepted"],
      [sum(series, "lakelog_events_flushed_total", p), "flushed"],
      [reasons(series, "lakelog_events_dropped_total", p), "dropped"],
      [age(sum(series, "lakelog_oldest_unflushed_event_age_seconds", p)), "oldest"]]);
  }
  const sinks = document.querySelector("#engine-sinks tbody");
  sinks.replaceChildren();
  const names = [...new Set((series.lakelog_flushes_total || []).map(s => s.labels.sink))];
  for (const sink of names) {
    const k = {sink};
    row(sinks, {"data-sink": sink}, [
      [sink, "name"], [sum(series, "lakelog_flushes_total", {sink, result: "ok"}), "ok"],
      [sum(series, "lakelog_flushes_total", {sink, result: "error"}), "error"],
      [sum(series, "lakelog_flushes_total", {sink, result: "given_up"}), "given_up"],
      [sum(series, "lakelog_sink_retries_total", k), "retries"],
      [sum(series, "lakelog_commit_conflicts_total", k), "conflicts"],
      [ms(quantile(series, "lakelog_flush_duration_seconds", 0.5, k)), "p50"],
      [ms(quantile(series, "lakelog_flush_duration_seconds", 0.99, k)), "p99"],
      [sum(series, "lakelog_sink_backlog_bytes", k), "backlog"],
      [reasons(series, "lakelog_sink_events_dropped_total", k), "dropped"]]);
  }
  document.body.setAttribute("data-engine-rendered", String(Number(document.body.getAttribute("data-engine-rendered") || 0) + 1));
}

async function refresh() {
  const headers = token ? {"Authorization": "Bearer " + token} : {};
  try {
    const query = new URLSearchParams(API_QUERY);
    for (const [k, v] of params) if (k !== "token") query.set(k, v);
    const response = await fetch("api/report?" + query.toString(), {headers});
    const report = await response.json();
    render(response.ok ? report : {error: report.error || response.statusText});
  } catch (e) {
    render({error: String(e)});
  }
  try {
    const response = await fetch("metrics", {headers});
    if (response.ok) renderEngine(parseMetrics(await response.text()));
  } catch (e) {
    document.getElementById("engine").hidden = true;
  }
}

render(JSON.parse(document.getElementById("initial-report").textContent));
refresh();
setInterval(refresh, REFRESH_MS);
</script></body></html>
)HTML";

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  for (size_t pos = text->find(from); pos != std::string::npos;
       pos = text->find(from, pos + to.size())) {
    text->replace(pos, from.size(), to);
  }
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string DashboardPage(const std::string& title, const std::string& initial_report_json,
                          const std::string& api_query, int refresh_seconds) {
  std::string head = kHead;
  ReplaceAll(&head, "@TITLE@", HtmlEscape(title));
  // Inside <script>, "</" could end the element: JSON allows "<" to be written as \u003c.
  std::string json = initial_report_json;
  ReplaceAll(&json, "<", "\\u003c");
  std::string tail = kTail;
  std::string query;
  for (char c : api_query) {
    if (c == '"' || c == '\\' || c == '<') continue;  // the server builds it; keep it inert
    query.push_back(c);
  }
  ReplaceAll(&tail, "@API_QUERY@", query);
  ReplaceAll(&tail, "@REFRESH@", std::to_string(refresh_seconds < 1 ? 1 : refresh_seconds));
  return head + json + tail;
}

}  // namespace lakelog::analytics
