"""`lakelog serve` in a real browser: the suite starts the server on a table with known content
(and a bearer token), opens the dashboard in Debian's headless Chromium, and checks the DOM the
page's script rendered: the pipelines worst first with the report's numbers, a drawn chart per
pipeline (one success-rate point per bucket that has a SUCCESS or FAILED, one red bar per bucket
with failures), and that the page's own refresh through /api/report worked. Also the API's
answers, the token and /metrics. And `lakelog demo --serve`: the same page inside a running
engine shows the engine's live series (buffer fill, flushes, latency) read from /metrics."""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import analytics_data as ad  # noqa: E402
import lakelog_testlib as tl  # noqa: E402

TOKEN = "s3cret-token"
SERVE_ARGS = ["--now", ad.NOW, "--window", "3d", "--bucket", "6h", "--refresh", "1"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium not found: scripts/setup.sh installs Debian's chromium",
                    pytrace=False)
    return path


class Dom(html.parser.HTMLParser):
    """The parts of the rendered page the test reads."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.rows = []          # [{"pipeline", "state", cells by class}] of #pipelines
        self.tables = {}        # table id -> its rows (cells by class; data-* attributes)
        self.hidden = set()     # ids of elements with the hidden attribute
        self.charts = {}        # pipeline -> {"fail": n, "points": n, "events": n}
        self.health = ""
        self._cell = None
        self._row = None
        self._chart = None
        self._in_health = False
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "hidden" in a and "id" in a:
            self.hidden.add(a["id"])
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "body":
            self.body = a
        elif tag == "div" and a.get("id") == "health":
            self._in_health = True
            self.health_class = a.get("class")
        elif tag == "tr" and self._table == "pipelines" and "data-pipeline" in a:
            self._row = {"pipeline": a["data-pipeline"], "state": a["data-state"]}
            self.rows.append(self._row)
            self.tables[self._table].append(self._row)
        elif tag == "tr" and self._table is not None and ("data-pipeline" in a or "data-sink" in a):
            self._row = {k: v for k, v in a.items() if k.startswith("data-")}
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = a.get("class")
            self._row[self._cell] = ""
        elif tag == "svg" and "chart" in a.get("class", ""):
            self._chart = {"fail": 0, "points": 0, "events": 0}
            self.charts[a["data-pipeline"]] = self._chart
        elif self._chart is not None and tag == "rect":
            self._chart["fail" if a.get("class") == "fail" else "events"] += 1
        elif self._chart is not None and tag == "path" and a.get("class") == "rate":
            self._chart["points"] = int(a["data-points"])
            assert a["d"].startswith("M")

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        if tag == "div":
            self._in_health = False
        elif tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "svg":
            self._chart = None

    def handle_data(self, data):
        if self._in_health:
            self.health += data
        if self._row is not None and self._cell is not None:
            self._row[self._cell] += data


@pytest.fixture(scope="module")
def served(tmp_path_factory, lakelog_bin):
    root = tmp_path_factory.mktemp("dashboard")
    table = str(root / "pipeline_logs")
    tl.ingest(table, ad.make_events(), batch_rows=101)
    sla = root / "sla.toml"
    sla.write_text(ad.SLA_TOML)
    env = dict(os.environ, LAKELOG_SERVE_TOKEN=TOKEN)
    proc = subprocess.Popen([lakelog_bin, "serve", "--table", table, "--port", "0", "--sla",
                             str(sla), *SERVE_ARGS], stderr=subprocess.PIPE, env=env)
    line = proc.stderr.readline().decode()
    assert "lakelog serve: http://127.0.0.1:" in line, line
    port = int(line.split("127.0.0.1:")[1].split("/")[0])
    yield {"table": table, "sla": str(sla), "url": f"http://127.0.0.1:{port}", "root": root}
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def get(url, token=TOKEN):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def cli_report(served) -> dict:
    proc = tl.run_lakelog(["report", "--table", served["table"], "--format", "json", "--now",
                           ad.NOW, "--since", "3d", "--sla", served["sla"], "--bucket", "6h",
                           "--runs", "10"])
    assert proc.returncode == 0, tl.describe_proc(proc)
    return json.loads(proc.stdout)


def test_token_guards_everything_but_healthz(served):
    assert get(served["url"] + "/healthz", token=None) == (200, b"ok\n")
    for path in ("/", "/api/report", "/api/query", "/metrics"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(served["url"] + path, token=None)
        assert refused.value.code == 401, path
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(served["url"] + path, token="wrong")
        assert refused.value.code == 401, path
    assert get(served["url"] + f"/api/report?token={TOKEN}", token=None)[0] == 200


def test_api_answers_as_the_cli(served):
    status, body = get(served["url"] + "/api/report")
    assert status == 200
    api = json.loads(body)
    cli = cli_report(served)
    api.pop("scan"), cli.pop("scan")
    assert api == cli
    status, body = get(served["url"] + "/api/query?status=FAILED&pipeline=billing&limit=5")
    events = json.loads(body)["events"]
    proc = tl.run_lakelog(["query", "--table", served["table"], "--status", "FAILED",
                           "--pipeline", "billing", "--limit", "5", "--format", "json"])
    assert events == json.loads(proc.stdout) and len(events) == 5
    with pytest.raises(urllib.error.HTTPError) as bad:
        get(served["url"] + "/api/query?since=tomorrowish")
    assert bad.value.code == 400 and b"since 'tomorrowish'" in bad.value.read()


def test_metrics_carry_the_report(served):
    _, body = get(served["url"] + "/metrics")
    text = body.decode()
    cli = cli_report(served)
    for p in cli["pipelines"]:
        label = p["pipeline"] if p["pipeline"] is not None else ""
        label = label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        if p["events"]:
            assert f'lakelog_report_events{{pipeline="{label}"}} {p["events"]}' in text, label
    assert "lakelog_report_healthy 0" in text
    assert 'lakelog_serve_requests_total{code="200",path="/metrics"}' in text or \
        'lakelog_serve_requests_total{code="401"' in text


def test_dashboard_renders_in_chromium(served):
    url = served["url"] + f"/?token={TOKEN}"
    proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=5000", "--dump-dom", url],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = Dom()
    dom.feed(proc.stdout.decode())
    # The initial render, then at least one refresh through /api/report with the token.
    assert int(dom.body.get("data-rendered", "0")) >= 2, proc.stdout[-3000:]
    # No engine behind `lakelog serve`: its panel stays hidden and empty.
    assert "engine" in dom.hidden and dom.tables["engine-pipelines"] == []
    report = cli_report(served)
    assert dom.health.strip() == report["health"]
    assert dom.health_class == "bad"
    names = [p["pipeline"] if p["pipeline"] is not None else "(null)" for p in report["pipelines"]]
    assert [r["pipeline"] for r in dom.rows] == names  # worst first, as the report orders them
    for row, p in zip(dom.rows, report["pipelines"]):
        assert row["state"] == p["state"]
        assert int(row["events"]) == p["events"] and int(row["failures"]) == p["failures"]
        rate = "-" if p["success_rate"] is None else f'{p["success_rate"] * 100:.1f}%'
        assert row["success"] == rate, row
        chart = dom.charts[row["pipeline"]]
        decided = [b for b in p["timeline"] if b["successes"] + b["failures"] > 0]
        assert chart["points"] == len(decided), (row["pipeline"], chart)
        assert chart["fail"] == sum(1 for b in p["timeline"] if b["failures"] > 0)
        assert chart["events"] == len(p["timeline"])
    # Something was drawn: pipelines with events have bars and a success-rate line.
    assert sum(c["points"] for c in dom.charts.values()) > 10


def test_dashboard_screenshot(served):
    shot = served["root"] / "dashboard.png"
    proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--virtual-time-budget=3000", "--window-size=1400,1000",
                           f"--screenshot={shot}", served["url"] + f"/?token={TOKEN}"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def flushes_ok(port: int) -> int:
    _, body = get(f"http://127.0.0.1:{port}/metrics", token=None)
    found = re.search(r'^lakelog_flushes_total\{result="ok",sink="delta"\} (\d+)', body.decode(),
                      re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_demo_serve_shows_the_live_engine(tmp_path, lakelog_bin):
    """`lakelog demo --serve 0`: the demo's engine writes a table while the dashboard over it
    runs in the same process; Chromium renders the engine panel from /metrics."""
    demo = subprocess.Popen([lakelog_bin, "demo", "--table", str(tmp_path / "t"), "--seconds",
                             "25", "--rate", "500", "--quiet", "--serve", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = None
        for _ in range(50):
            line = demo.stderr.readline().decode()
            if "dashboard: http://127.0.0.1:" in line:
                port = int(line.split("127.0.0.1:")[1].split("/")[0])
                break
        assert port is not None, "demo printed no dashboard address"
        # Let a few flush rounds land first, so every number on the page is live.
        deadline = time.monotonic() + 60
        while flushes_ok(port) < 3:
            assert time.monotonic() < deadline and demo.poll() is None, "no flush landed"
            time.sleep(0.2)
        proc = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                               "--virtual-time-budget=5000", "--dump-dom",
                               f"http://127.0.0.1:{port}/"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
    finally:
        demo.terminate()
        demo.wait(timeout=60)
    dom = Dom()
    dom.feed(proc.stdout.decode())
    assert int(dom.body.get("data-engine-rendered", "0")) >= 1, proc.stdout[-3000:]
    assert "engine" not in dom.hidden
    pipelines = {r["data-pipeline"]: r for r in dom.tables["engine-pipelines"]}
    assert set(pipelines) == {"ingestion", "enrichment", "index_loader"}, pipelines
    for name, r in pipelines.items():
        assert int(r["accepted"]) > 0 and int(r["flushed"]) > 0, (name, r)
        assert int(r["flushed"]) <= int(r["accepted"]), (name, r)
        assert r["fill"].endswith("%") and 0 <= float(r["fill"][:-1]) <= 100, (name, r)
        assert r["dropped"] == "0", (name, r)
    sinks = {r["data-sink"]: r for r in dom.tables["engine-sinks"]}
    assert set(sinks) == {"delta"}, sinks
    assert int(sinks["delta"]["ok"]) >= 3 and int(sinks["delta"]["error"]) == 0, sinks
    for q in ("p50", "p99"):
        assert sinks["delta"][q].endswith(" ms") and float(sinks["delta"][q][:-3]) > 0, sinks
