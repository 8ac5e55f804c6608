#!/usr/bin/env python3
"""`lakelog ingest` against pyarrow's JSON reader + delta-rs, whole process against whole process.

The same NDJSON file (--n events of ~310 bytes: bench/gen_events.py's events with a trace id and
a span id attribute, RFC 3339 `ts` with microseconds) is landed in an empty Delta table
partitioned by (pipeline, log_date), each side at its defaults, as a new user would run it:

- lakelog: `lakelog ingest --table T --input FILE` (exec to exit: parsing, writing, commits);
- peer: one Python process that reads the file with `pyarrow.json.read_json` (`ts` given as
  timestamp[us, UTC] in an explicit schema, the other columns inferred), adds
  `log_date = cast(ts, date32)` and calls `deltalake.write_deltalake(T, table,
  partition_by=["pipeline", "log_date"])` (interpreter start and imports included: that is
  what the user waits for).

The two run in turns, --repeats times each, every run into a new table. Printed: the median
wall time, CPU seconds and peak RSS (wait4 of each process), files and bytes written, and the
ratios; both tables are checked to hold the same rows (count, per-pipeline counts, and the sum
of ts) through delta-rs.

    .venv/bin/python bench/ingest_bench.py [--n 1000000] [--repeats 3]

Needs scripts/setup.sh and the lakelog binary (build/src/cli/lakelog or $LAKELOG_BUILD_DIR).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "conformance"))
import lakelog_testlib as tl  # noqa: E402
from kafka_ingest_bench import padded_lines  # noqa: E402

PEER = r"""
import sys
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
from deltalake import write_deltalake

path, table_path = sys.argv[1], sys.argv[2]
schema = pa.schema([("ts", pa.timestamp("us", tz="UTC"))])
table = pj.read_json(path, parse_options=pj.ParseOptions(
    explicit_schema=schema, unexpected_field_behavior="infer"))
table = table.append_column("log_date", pc.cast(table.column("ts"), pa.date32()))
write_deltalake(table_path, table, partition_by=["pipeline", "log_date"])
"""


def run(cmd: list[str]) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    assert code == 0, f"{cmd[:3]} exited {code}: {err[-2000:]}"
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024}


def table_stats(table: str) -> dict:
    files = data_bytes = 0
    for dirpath, _, names in os.walk(table):
        if "_delta_log" in dirpath:
            continue
        for name in names:
            if name.endswith(".parquet"):
                files += 1
                data_bytes += os.path.getsize(os.path.join(dirpath, name))
    return {"files": files, "bytes": data_bytes}


def fingerprint(table: str) -> dict:
    from deltalake import DeltaTable
    import pyarrow.compute as pc
    t = DeltaTable(table).to_pyarrow_table(columns=["pipeline", "ts"])
    per_pipeline = {}
    for name, count in zip(*[c.to_pylist() for c in
                             pc.value_counts(t.column("pipeline")).flatten()]):
        per_pipeline[name] = count
    ts_sum = pc.sum(pc.cast(pc.cast(t.column("ts"), "timestamp[us]"), "int64")).as_py()
    return {"rows": t.num_rows, "per_pipeline": per_pipeline, "ts_sum": ts_sum}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="lakelog-ingest-bench-")
    try:
        path = os.path.join(work, "events.ndjson")
        size = 0
        with open(path, "wb") as f:
            for chunk in padded_lines(args.n):
                for _, value in chunk:
                    f.write(value + b"\n")
                    size += len(value) + 1
        print(f"load average at start: {os.getloadavg()}", flush=True)
        print(f"input: {args.n:,} events, {size / args.n:.0f} bytes each on average, "
              f"{size / 2**20:.0f} MiB", flush=True)
        ours, theirs = [], []
        for k in range(args.repeats):
            t_ours = os.path.join(work, f"lakelog_{k}")
            r = run([tl.lakelog_path(), "ingest", "--table", t_ours, "--input", path])
            r.update(table_stats(t_ours), table=t_ours)
            print(f"lakelog ingest run {k + 1}: {r}", flush=True)
            ours.append(r)
            t_theirs = os.path.join(work, f"delta_rs_{k}")
            r = run([sys.executable, "-c", PEER, path, t_theirs])
            r.update(table_stats(t_theirs), table=t_theirs)
            print(f"pyarrow.json + delta-rs run {k + 1}: {r}", flush=True)
            theirs.append(r)
        fp_ours, fp_theirs = fingerprint(ours[0]["table"]), fingerprint(theirs[0]["table"])
        assert fp_ours["rows"] == args.n, (fp_ours["rows"], args.n)
        assert fp_ours == fp_theirs, (fp_ours, fp_theirs)

        def median(runs, key):
            return statistics.median(r[key] for r in runs)

        print()
        print(f"NDJSON → Delta, {args.n:,} events of ~{size / args.n:.0f} bytes, whole process, "
              f"median of {args.repeats} runs in turns (both tables hold the same rows)")
        print(f"{'':28} {'events/s':>10} {'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13} "
              f"{'files':>6} {'MiB':>7}")
        for name, runs in (("lakelog ingest", ours), ("pyarrow.json + delta-rs", theirs)):
            wall = median(runs, "seconds")
            print(f"{name:28} {args.n / wall:>10,.0f} {wall:>8.2f} "
                  f"{median(runs, 'cpu_seconds'):>7.1f} {median(runs, 'peak_rss_mib'):>13.0f} "
                  f"{runs[0]['files']:>6} {runs[0]['bytes'] / 2**20:>7.1f}")
        walls_ours = ", ".join(f"{r['seconds']:.2f}" for r in ours)
        walls_theirs = ", ".join(f"{r['seconds']:.2f}" for r in theirs)
        print(f"wall s, lakelog: {walls_ours}; peer: {walls_theirs}")
        print(f"ratio: lakelog ingest is {median(theirs, 'seconds') / median(ours, 'seconds'):.2f}x "
              f"faster (wall), on {median(ours, 'cpu_seconds') / median(theirs, 'cpu_seconds'):.2f}x "
              f"the CPU and {median(ours, 'peak_rss_mib') / median(theirs, 'peak_rss_mib'):.2f}x "
              f"the peak RSS")
        print(f"load average at end: {os.getloadavg()}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
