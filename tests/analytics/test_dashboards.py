"""dashboards/grafana/lakelog.json and dashboards/prometheus/alerts.yml use only series lakelog
exports: every metric name in their expressions is documented (docs/metrics.md, docs/kafka.md,
docs/analytics.md), and every one but kafka-ingest's (which needs a broker) is served live by a
`lakelog demo --wal ... --serve PORT` (the engine's series and the report's on one /metrics)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.request

import lakelog_testlib as tl

ROOT = tl.REPO_ROOT
NAME = re.compile(r"\blakelog_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def grafana():
    with open(os.path.join(ROOT, "dashboards", "grafana", "lakelog.json")) as f:
        return json.load(f)


def dashboard_exprs() -> list[str]:
    d = grafana()
    exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
    exprs += [v.get("definition", "") for v in d["templating"]["list"]]
    return exprs


def alert_exprs() -> list[str]:
    with open(os.path.join(ROOT, "dashboards", "prometheus", "alerts.yml")) as f:
        return [m.group(1) for m in re.finditer(r"^\s*expr:\s*(.+)$", f.read(), re.M)]


def documented() -> set[str]:
    names = set()
    for doc in ("metrics.md", "kafka.md", "analytics.md"):
        with open(os.path.join(ROOT, "docs", doc)) as f:
            names |= set(re.findall(r"`(lakelog_[a-z0-9_]+)", f.read()))
    return names


def base(name: str, known: set[str]) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return name[: -len(suffix)]
    return name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_names(url: str, until: tuple[str, ...]) -> set[str]:
    text = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                text = r.read().decode()
            if all(s in text for s in until):
                break
        except OSError:
            pass
        time.sleep(0.5)
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, re.M)}


def served_with_sla_names(table: str, tmp_path) -> set[str]:
    """The SLA series appear only with an SLA: `lakelog serve --sla` on the demo's table."""
    sla = tmp_path / "sla.toml"
    sla.write_text('[default]\nmax_run_duration = "1h"\nmax_staleness = "1h"\n')
    port = free_port()
    proc = subprocess.Popen([tl.lakelog_path(), "serve", "--table", table, "--port", str(port),
                             "--sla", str(sla)], stderr=subprocess.DEVNULL)
    try:
        return scrape_names(f"http://127.0.0.1:{port}/metrics",
                            ("lakelog_report_sla_compliance_ratio{",))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def live_names(tmp_path) -> set[str]:
    port = free_port()
    proc = subprocess.Popen([tl.lakelog_path(), "demo", "--table", str(tmp_path / "t"), "--wal",
                             str(tmp_path / "wal"), "--seconds", "8", "--rate", "200",
                             "--serve", str(port), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        names = scrape_names(f"http://127.0.0.1:{port}/metrics",
                             ("lakelog_report_events{", "lakelog_flush_duration_seconds"))
    finally:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    return names | served_with_sla_names(str(tmp_path / "t"), tmp_path)


def test_every_metric_used_is_exported(tmp_path):
    docs = documented()
    used = {}
    for source, exprs in (("grafana", dashboard_exprs()), ("alerts", alert_exprs())):
        assert exprs, source
        for expr in exprs:
            for name in NAME.findall(expr):
                used.setdefault(base(name, docs), set()).add(source)
    undocumented = sorted(n for n in used if n not in docs)
    assert not undocumented, f"not in docs/metrics.md, kafka.md or analytics.md: {undocumented}"
    live = live_names(tmp_path)
    assert "lakelog_events_accepted_total" in live and "lakelog_report_events" in live, live
    missing = sorted(n for n in used if not n.startswith("lakelog_kafka_ingest_")
                     and n not in live)
    assert not missing, f"not on a live demo's /metrics: {missing}"
    # What the issue asks the dashboard to show is there.
    for wanted in ("lakelog_events_accepted_total", "lakelog_events_dropped_total",
                   "lakelog_buffer_fill_ratio", "lakelog_flush_duration_seconds",
                   "lakelog_flushes_total", "lakelog_kafka_ingest_consumer_lag",
                   "lakelog_sink_retries_total"):
        assert "grafana" in used.get(wanted, set()), wanted


def test_grafana_pipeline_variable_filters_per_pipeline_series():
    d = grafana()
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert variables["pipeline"]["multi"] and variables["pipeline"]["includeAll"]
    per_pipeline = ("lakelog_events_accepted_total", "lakelog_events_flushed_total",
                    "lakelog_events_dropped_total", "lakelog_buffer_fill_ratio",
                    "lakelog_oldest_unflushed_event_age_seconds", "lakelog_report_")
    for expr in dashboard_exprs():
        if any(name in expr for name in per_pipeline) and "label_values" not in expr:
            assert 'pipeline=~"$pipeline"' in expr, expr
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    percentiles = [t["expr"] for p in d["panels"] for t in p.get("targets", [])
                   if "histogram_quantile" in t["expr"]]
    assert {e.split("(")[1].split(",")[0] for e in percentiles} == {"0.5", "0.9", "0.99"}
