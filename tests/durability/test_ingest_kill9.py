"""`lakelog ingest --wal` under kill -9: every line reported `durable` is committed exactly once,
by `lakelog recover` or by running the same ingest again, and nothing is committed twice.

The reader of truth is delta-rs. Each input line carries a unique id in `run_id` (`line-N`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter

import pytest
from deltalake import DeltaTable

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
LAKELOG = os.path.join(BUILD_DIR, "src", "cli", "lakelog")

PIPELINES = ["ingestion", "enrichment", "index_loader", "billing", "search"]


def write_input(path: str, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(1, n + 1):
            event = {
                "pipeline": PIPELINES[i % len(PIPELINES)],
                "ts": 1_795_000_000_000 + rng.randrange(0, 3 * 86_400_000),
                "level": rng.choice(["INFO", "WARN", "ERROR"]),
                "stage": rng.choice(["extract", "delta_merge", "publish"]),
                "status": rng.choice(["SUCCESS", "FAILED", "RUNNING"]),
                "message": "event %d %s" % (i, "x" * rng.randrange(40, 160)),
                "run_id": "line-%d" % i,
                "host": "etl-%d" % rng.randrange(8),
            }
            if i % 997 == 0:
                f.write("{this line is not json}\n")  # a reject: handled, never committed
            else:
                f.write(json.dumps(event) + "\n")


def run_ids(table: str) -> Counter:
    if not os.path.exists(os.path.join(table, "_delta_log")):
        return Counter()
    ids = DeltaTable(table).to_pyarrow_table(columns=["run_id"]).column("run_id").to_pylist()
    return Counter(ids)


def ingest_cmd(table: str, wal: str, input_path: str, sync: str) -> list[str]:
    return [LAKELOG, "ingest", "--table", table, "--wal", wal, "--input", input_path,
            "--batch-rows", "4000", "--sync", sync, "--rejects", input_path + ".rejects"]


def ingest_and_kill(cmd: list[str], kill_after_durable: int) -> int:
    """Runs the ingest, SIGKILLs it once it reported at least `kill_after_durable` lines
    durable, and returns the highest durable line it reported."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    durable = 0
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode(errors="replace").strip()
        if line.startswith("durable "):
            durable = max(durable, int(line.split()[1]))
            if durable >= kill_after_durable:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=120)
    return durable


def accepted_lines_up_to(n: int) -> set[str]:
    return {"line-%d" % i for i in range(1, n + 1) if i % 997 != 0}


@pytest.mark.parametrize("sync", ["group", "interval", "none"])
def test_recover_commits_every_durable_line_once(tmp_path, sync):
    n = 30_000
    input_path = str(tmp_path / "events.ndjson")
    write_input(input_path, n, seed=7)
    table, wal = str(tmp_path / "table"), str(tmp_path / "wal")

    durable = ingest_and_kill(ingest_cmd(table, wal, input_path, sync),
                              kill_after_durable=random.Random(sync).randrange(3_000, 20_000))
    assert durable > 0, "the ingest never reported a durable line"

    recovered = subprocess.run([LAKELOG, "recover", "--table", table, "--wal", wal, "--json"],
                               capture_output=True, timeout=300)
    assert recovered.returncode == 0, recovered.stderr.decode()
    report = json.loads(recovered.stdout)
    assert report["resume_after_line"] >= durable

    counts = run_ids(table)
    duplicates = {k: c for k, c in counts.items() if c > 1}
    assert not duplicates, f"committed twice: {list(duplicates)[:5]}"
    missing = accepted_lines_up_to(durable) - set(counts)
    assert not missing, f"{len(missing)} durable lines lost, e.g. {sorted(missing)[:5]}"

    # Recovering again changes nothing.
    again = subprocess.run([LAKELOG, "recover", "--table", table, "--wal", wal, "--json"],
                           capture_output=True, timeout=300)
    assert again.returncode == 0, again.stderr.decode()
    assert json.loads(again.stdout)["recovered"] == 0
    assert run_ids(table) == counts

    # The same ingest again resumes after what the WAL held and finishes the input.
    finished = subprocess.run(ingest_cmd(table, wal, input_path, sync), capture_output=True,
                              timeout=300)
    assert finished.returncode == 3, finished.stderr.decode()  # 3: the input has rejected lines
    counts = run_ids(table)
    assert set(counts) == accepted_lines_up_to(n)
    assert max(counts.values()) == 1
    assert not os.path.exists(os.path.join(wal, "ingest.json")), "a finished run clears its WAL"


def test_rerunning_the_same_ingest_recovers_without_a_separate_step(tmp_path):
    n = 20_000
    input_path = str(tmp_path / "events.ndjson")
    write_input(input_path, n, seed=11)
    table, wal = str(tmp_path / "table"), str(tmp_path / "wal")
    cmd = ingest_cmd(table, wal, input_path, "group")

    for kill_at in (2_500, 9_000):
        durable = ingest_and_kill(cmd, kill_after_durable=kill_at)
        assert durable >= kill_at
    finished = subprocess.run(cmd, capture_output=True, timeout=300)
    assert finished.returncode == 3, finished.stderr.decode()
    counts = run_ids(table)
    assert set(counts) == accepted_lines_up_to(n)
    assert max(counts.values()) == 1, "a line was committed twice"


def test_wal_bound_to_another_input_is_refused(tmp_path):
    input_a, input_b = str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson")
    write_input(input_a, 20_000, seed=1)
    write_input(input_b, 100, seed=2)
    table, wal = str(tmp_path / "table"), str(tmp_path / "wal")
    ingest_and_kill(ingest_cmd(table, wal, input_a, "group"), kill_after_durable=2_000)
    other = subprocess.run(ingest_cmd(table, wal, input_b, "group"), capture_output=True,
                           timeout=120)
    assert other.returncode == 1  # a refusal of what is on disk, not a usage error
    assert b"unfinished ingest" in other.stderr
