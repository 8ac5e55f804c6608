"""`lakelog demo --wal`: killed with SIGKILL mid-run, its WAL is committed by `lakelog recover`
(exactly once: a second recover commits nothing, and the table never loses rows), and a demo
run again on the same WAL continues under the same writer id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from deltalake import DeltaTable

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
LAKELOG = os.path.join(BUILD_DIR, "src", "cli", "lakelog")


def rows(table: str) -> int:
    return DeltaTable(table).to_pyarrow_dataset().count_rows()


def test_demo_wal_killed_then_recovered(tmp_path):
    table, wal = str(tmp_path / "table"), str(tmp_path / "wal")
    demo = subprocess.Popen([LAKELOG, "demo", "--table", table, "--wal", wal, "--sync", "group",
                             "--seconds", "30", "--rate", "3000", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.5)
    demo.send_signal(signal.SIGKILL)
    assert demo.wait() == -signal.SIGKILL
    writer_id = json.load(open(os.path.join(wal, "engine.json")))["writer_id"]
    before = rows(table) if os.path.isdir(os.path.join(table, "_delta_log")) else 0

    first = subprocess.run([LAKELOG, "recover", "--table", table, "--wal", wal, "--json"],
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["writer_id"] == writer_id
    assert report["wal_corruptions"] == 0
    after = rows(table)
    assert after == before + report["recovered"]

    again = subprocess.run([LAKELOG, "recover", "--table", table, "--wal", wal, "--json"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["recovered"] == 0
    assert rows(table) == after

    rerun = subprocess.run([LAKELOG, "demo", "--table", table, "--wal", wal, "--seconds", "1",
                            "--rate", "500", "--quiet"], capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert writer_id in rerun.stderr
    assert rows(table) > after
