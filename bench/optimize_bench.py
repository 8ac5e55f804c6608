#!/usr/bin/env python3
"""OPTIMIZE and Z-order: lakelog against delta-rs and Spark on the same fragmented table.

One fragmented table is built once: --n events of bench/gen_events.py over one UTC day (its 20
pipelines, so 20 (pipeline, log_date) partitions), landed by `lakelog ingest --batch-rows
n/--files` so that every partition gets about --files small files. Each engine then works on its
own copy of that table, in its own process:

- compaction: `lakelog optimize`, delta-rs `DeltaTable.optimize.compact()`, Spark
  `OPTIMIZE delta.`T``;
- Z-order by (stage, status): `lakelog optimize --zorder-by stage,status`, delta-rs
  `optimize.z_order(["stage", "status"])`, Spark `OPTIMIZE ... ZORDER BY (stage, status)`.

Every engine gets the same target file size (--target-mb; Spark through
spark.databricks.delta.optimize.maxFileSize) and zstd output where it can choose (lakelog's
default; delta-rs WriterProperties(compression="ZSTD"); Spark's parquet codec).

Measured per run: the time of the operation (lakelog: the whole `lakelog optimize` process;
delta-rs and Spark: the optimize call inside their process, so Python imports and the JVM's
start are NOT counted against them), events/s = rows in the table / that time, peak memory =
the largest sum of the RSS of the engine's process tree sampled every 50 ms from /proc
(Spark: the Python driver plus its JVM), and live files before/after (delta-rs's file list).
With --repeats R each run is repeated on a fresh copy and the median is printed.

    .venv/bin/python bench/optimize_bench.py                  # full size (~10 min)
    .venv/bin/python bench/optimize_bench.py --n 200000 --files 50 --no-spark   # ~1 min

Timings are noisy on a shared 2-core machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
COLUMNS = ["stage", "status"]


# ---------------------------------------------------------------------------------------------
# Workers: each runs in its own process, prints one JSON line {"seconds": ...}.


def worker_deltars(op: str, table: str, target: int) -> dict:
    from deltalake import DeltaTable, WriterProperties
    dt = DeltaTable(table)
    props = WriterProperties(compression="ZSTD")
    start = time.perf_counter()
    if op == "compact":
        dt.optimize.compact(target_size=target, writer_properties=props)
    else:
        dt.optimize.z_order(COLUMNS, target_size=target, writer_properties=props)
    return {"seconds": time.perf_counter() - start}


def worker_spark(op: str, table: str, target: int) -> dict:
    sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "conformance"))
    import lakelog_testlib as tl
    spark = tl.make_spark_session("optimize-bench")
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(target))
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
    sql = f"OPTIMIZE delta.`{table}`"
    if op == "zorder":
        sql += " ZORDER BY (" + ", ".join(COLUMNS) + ")"
    start = time.perf_counter()
    spark.sql(sql).collect()
    seconds = time.perf_counter() - start
    spark.stop()
    return {"seconds": seconds}


# ---------------------------------------------------------------------------------------------
# The parent: building the input, running and measuring each engine.


def tree_rss(root_pid: int) -> int:
    """Sum of the RSS of `root_pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(name))
    total, todo = 0, [root_pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float, int]:
    """Runs `cmd`; returns (process, wall seconds, peak RSS of its process tree in bytes)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), wall, peak[0]


def live_files(table: str) -> int:
    from deltalake import DeltaTable
    return len(DeltaTable(table).file_uris())


def build_input(args, work: str) -> tuple[str, int]:
    """The fragmented table (built once, reused by every run); returns (path, rows)."""
    base = os.path.join(work, f"base_{args.n}_{args.files}")
    marker = base + ".done"
    if os.path.exists(marker):
        with open(marker) as f:
            return base, int(f.read())
    shutil.rmtree(base, ignore_errors=True)
    ndjson = os.path.join(work, f"events_{args.n}.ndjson")
    if not os.path.exists(ndjson):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_events.py"), "--n", str(args.n),
                        "--days", "1", "--out", ndjson], check=True)
    batch = max(1, args.n // args.files)
    proc = subprocess.run([args.lakelog, "ingest", "--table", base, "--input", ndjson,
                           "--batch-rows", str(batch), "--json"], capture_output=True)
    if proc.returncode != 0:
        sys.exit("ingest failed: " + proc.stderr.decode())
    from deltalake import DeltaTable
    rows = DeltaTable(base).to_pyarrow_dataset().count_rows()
    with open(marker, "w") as f:
        f.write(str(rows))
    return base, rows


def run_engine(engine: str, op: str, base: str, work: str, args) -> dict:
    table = os.path.join(work, f"{engine}_{op}")
    shutil.rmtree(table, ignore_errors=True)
    shutil.copytree(base, table)
    before = live_files(table)
    target = args.target_mb << 20
    if engine == "lakelog":
        cmd = [args.lakelog, "optimize", "--table", table, "--target-file-size", str(target),
               "--json"]
        if op == "zorder":
            cmd += ["--zorder-by", ",".join(COLUMNS)]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--op", op,
               "--table", table, "--target-mb", str(args.target_mb)]
    proc, wall, peak = run_measured(cmd)
    if proc.returncode != 0:
        sys.exit(f"{engine} {op} failed ({proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    seconds = wall if engine == "lakelog" else json.loads(proc.stdout.decode().splitlines()[-1])[
        "seconds"]
    after = live_files(table)
    shutil.rmtree(table, ignore_errors=True)
    return {"seconds": seconds, "peak_rss": peak, "before": before, "after": after}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000_000, help="events in the table")
    parser.add_argument("--files", type=int, default=200,
                        help="about this many small files per partition (20 partitions)")
    parser.add_argument("--target-mb", type=int, default=128, help="target file size, MiB")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-spark", action="store_true", help="leave Spark out (faster)")
    parser.add_argument("--ops", default="compact,zorder")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "optimize_bench"))
    parser.add_argument("--lakelog",
                        default=os.path.join(os.environ.get(
                            "LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build")),
                            "src", "cli", "lakelog"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        fn = worker_deltars if args.worker == "delta-rs" else worker_spark
        print(json.dumps(fn(args.op, args.table, args.target_mb << 20)))
        return 0

    os.makedirs(args.work, exist_ok=True)
    base, rows = build_input(args, args.work)
    engines = ["lakelog", "delta-rs"] + ([] if args.no_spark else ["spark"])
    print(f"table: {rows} events, {live_files(base)} files in 20 partitions; target "
          f"{args.target_mb} MiB; median of {args.repeats}")
    print(f"{'operation':10} {'engine':9} {'seconds':>8} {'events/s':>11} {'peak MiB':>9} "
          f"{'files':>13}")
    for op in args.ops.split(","):
        results = {}
        for engine in engines:
            runs = [run_engine(engine, op, base, args.work, args) for _ in range(args.repeats)]
            r = {"seconds": statistics.median(x["seconds"] for x in runs),
                 "peak_rss": statistics.median(x["peak_rss"] for x in runs),
                 "before": runs[0]["before"], "after": runs[0]["after"]}
            results[engine] = r
            print(f"{op:10} {engine:9} {r['seconds']:8.2f} {rows / r['seconds']:11,.0f} "
                  f"{r['peak_rss'] / 2**20:9.0f} {r['before']:6} -> {r['after']:4}", flush=True)
        ll, rs = results["lakelog"], results["delta-rs"]
        print(f"{op:10} lakelog/delta-rs: {rs['seconds'] / ll['seconds']:.2f}x events/s, "
              f"{ll['peak_rss'] / rs['peak_rss']:.2f}x peak memory", end="")
        if "spark" in results:
            sp = results["spark"]
            print(f"; lakelog/Spark: {sp['seconds'] / ll['seconds']:.2f}x events/s, "
                  f"{ll['peak_rss'] / sp['peak_rss']:.2f}x peak memory", end="")
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
