"""The kill -9 torture harness for the logging engine's write-ahead log.

Each trial starts `lakelog_torture_writer` on the same table and WAL directory. The writer first
replays what the previous (killed) trial left, then logs uniquely numbered events
(`<trial>:<thread>:<seq>`) from several threads into several pipelines and prints `ack` lines
for what Engine::Sync() acknowledged. The harness kills it with SIGKILL at a random moment, or
has it kill itself inside a WAL append, a segment roll, a WAL fsync, a data-file write or a
Delta commit. After every trial, delta-rs must read the table. At the end one clean run drains
the WAL, and every acknowledged event must be in the table exactly once (no event at all may
appear twice), checked by delta-rs and, unless --no-spark, by Spark.

    .venv/bin/python tests/durability/torture.py --trials 100          # the long run
    .venv/bin/python tests/durability/torture.py --trials 8 --seed 20261124   # the suite's run
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import unquote
from collections import Counter
from dataclasses import dataclass, field

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
WRITER = os.path.join(BUILD_DIR, "tests", "durability", "lakelog_torture_writer")

# Where a trial ends. "timer" is a SIGKILL from outside at a random moment; the others make
# the writer SIGKILL itself right before its N-th call of that kind.
KILL_POINTS = ("timer", "wal-append", "segment-roll", "wal-sync", "data-file", "commit")
SYNC_MODES = ("none", "interval", "group")


@dataclass
class Outcome:
    trials: int = 0
    kills_by_point: Counter = field(default_factory=Counter)
    acked: dict = field(default_factory=dict)  # (trial, thread) -> highest acknowledged seq
    rows: int = 0
    duplicates: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    spark_checked: bool = False
    seen_files: set = field(default_factory=set)  # data files delta-rs has opened


def deltars_count(table: str, seen: set) -> int:
    """Rows delta-rs sees. delta-rs replays the whole log; the data files added since the last
    call (not yet in `seen`, which is updated) are opened and their rows counted and checked
    against the log's numRecords. Opening only the new files keeps a trial's check independent
    of the table's age; the final check reads every file."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import DeltaTable
    dt = DeltaTable(table)
    actions = pa.table(dt.get_add_actions(flatten=True)).to_pydict()
    rows = 0
    new_files, new_records = [], 0
    for path, records in zip(actions["path"], actions["num_records"]):
        rows += records
        if path not in seen:
            seen.add(path)
            new_files.append(os.path.join(table, unquote(path)))
            new_records += records
    if new_files:
        opened = ds.dataset(new_files, format="parquet").count_rows()
        if opened != new_records:
            raise AssertionError(f"{len(new_files)} new files hold {opened} rows, "
                                 f"the log says {new_records}")
    return rows


def deltars_messages(table: str) -> list[str]:
    from deltalake import DeltaTable
    return DeltaTable(table).to_pyarrow_table(columns=["message"]).column("message").to_pylist()


def spark_messages(table: str) -> list[str]:
    sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "conformance"))
    import lakelog_testlib as tl  # noqa: E402
    spark = tl.make_spark_session()
    try:
        return [r[0] for r in spark.read.format("delta").load(table).select("message").collect()]
    finally:
        spark.stop()


def run_trial(trial: int, table: str, wal: str, rng: random.Random, outcome: Outcome,
              log) -> None:
    point = rng.choice(KILL_POINTS)
    sync = rng.choice(SYNC_MODES)
    cmd = [WRITER, "--table", table, "--wal", wal, "--trial", str(trial), "--sync", sync,
           "--threads", str(rng.randint(2, 4)), "--pipelines", str(rng.randint(2, 6)),
           "--ack-every", str(rng.choice([10, 50, 200]))]
    if point != "timer":
        # Small N lands in the first flush rounds (or in the replay); larger N later.
        limit = {"wal-append": 60, "segment-roll": 8, "wal-sync": 40, "data-file": 60,
                 "commit": 20}[point]
        cmd += ["--die-at", f"{point}:{rng.randint(1, limit)}"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = time.monotonic() + (rng.uniform(0.05, 1.5) if point == "timer" else 3.0)
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        killed_by = point if proc.poll() is not None else "timer"
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        rc = proc.wait()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode()
        stderr = err.read().decode()
    if rc != -signal.SIGKILL:
        raise AssertionError(f"trial {trial}: writer exited with {rc}, not by SIGKILL\n{stderr}")
    acks = 0
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "ack":
            key = (int(parts[1]), int(parts[2]))
            outcome.acked[key] = max(outcome.acked.get(key, 0), int(parts[3]))
            acks += 1
    outcome.kills_by_point[killed_by] += 1
    # Readers never see a partial commit: delta-rs must read the table after every crash.
    rows = (deltars_count(table, outcome.seen_files)
            if os.path.isdir(os.path.join(table, "_delta_log")) else 0)
    log(f"trial {trial:3d}: sync={sync:8s} killed at {killed_by:12s} acks={acks:5d} "
        f"table rows={rows}")


def check(table: str, messages: list[str], outcome: Outcome, reader: str) -> None:
    counts = Counter(messages)
    dups = [m for m, c in counts.items() if c > 1]
    missing = []
    for (trial, thread), top in outcome.acked.items():
        for seq in range(1, top + 1):
            if f"{trial}:{thread}:{seq}" not in counts:
                missing.append(f"{trial}:{thread}:{seq}")
    if dups or missing:
        raise AssertionError(f"{reader}: {len(dups)} duplicated events (e.g. {dups[:5]}), "
                             f"{len(missing)} acknowledged events missing (e.g. {missing[:5]})")


def torture(trials: int, seed: int, work_dir: str, spark: bool, log=print) -> Outcome:
    if not os.access(WRITER, os.X_OK):
        raise FileNotFoundError(f"{WRITER} is missing: build target lakelog_torture_writer")
    table = os.path.join(work_dir, "table")
    wal = os.path.join(work_dir, "wal")
    rng = random.Random(seed)
    outcome = Outcome()
    for trial in range(1, trials + 1):
        run_trial(trial, table, wal, rng, outcome, log)
        outcome.trials += 1
    drained = subprocess.run([WRITER, "--table", table, "--wal", wal, "--drain"],
                             capture_output=True, text=True, timeout=300)
    if drained.returncode != 0:
        raise AssertionError(f"final drain failed: {drained.stdout}{drained.stderr}")
    log(drained.stdout.strip())
    messages = deltars_messages(table)
    outcome.rows = len(messages)
    check(table, messages, outcome, "delta-rs")
    if spark:
        check(table, spark_messages(table), outcome, "Spark")
        outcome.spark_checked = True
    acked = sum(outcome.acked.values())
    log(f"{trials} trials, kills by point {dict(outcome.kills_by_point)}: {acked} acknowledged "
        f"events, {outcome.rows} rows, each acknowledged event exactly once, no duplicates "
        f"(delta-rs{' and Spark' if spark else ''})")
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None, help="random seed [time-based]")
    parser.add_argument("--work-dir", default=None, help="kept afterwards [a temp dir, removed]")
    parser.add_argument("--no-spark", action="store_true", help="check with delta-rs only")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    print(f"seed {seed}")
    work = args.work_dir or tempfile.mkdtemp(prefix="lakelog-torture-")
    os.makedirs(work, exist_ok=True)
    try:
        torture(args.trials, seed, work, spark=not args.no_spark)
    except AssertionError as e:
        print(f"FAILED (seed {seed}, work dir {work}): {e}", file=sys.stderr)
        return 1
    if args.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
