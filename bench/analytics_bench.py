#!/usr/bin/env python3
"""`lakelog report` and a selective `lakelog query` against DuckDB and Spark SQL computing the
same answers on the same table.

The table: --n events of bench/gen_events.py (20 pipelines, 3 UTC days, 40 runs per pipeline
and seed) landed by `lakelog ingest` and compacted by `lakelog optimize`, built once and cached
in --dir. Each engine answers two questions:

- report: per pipeline events, FAILED, SUCCESS, ERROR/FATAL rows, max(ts), failures per stage,
  and per run (pipeline, run_id) first/last event, events and outcome (the latest row's status,
  FAILED winning a tie), counted per pipeline by outcome: docs/analytics.md's definitions;
- query: pipeline = 'fraud_scoring', status = 'FAILED', ts >= the third day, message containing
  'Timeout', newest 100 rows.

lakelog: the whole `lakelog report --format json` / `lakelog query --format ndjson` process.
DuckDB (the venv's, in process): connect + read_parquet over the live files (from delta-rs,
untimed: the time delta-rs took is printed apart) with hive partitioning + the SQL. lakelog and
DuckDB answer --repeat times (5) in turns and their medians are compared. Spark 4.2 + Delta
(local[2], 2g): the SQL over `delta.`T`` in a session already started (the JVM start is not
counted), once.
Every engine's answers are compared; a mismatch fails the run.

    .venv/bin/python bench/analytics_bench.py --n 10000000           # ~6 min to build the table
    .venv/bin/python bench/analytics_bench.py --n 1000000 --no-spark

Timings are noisy on a shared 2-core machine: compare the ratios of the medians of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LAKELOG = os.path.join(os.environ.get("LAKELOG_BUILD_DIR", os.path.join(ROOT, "build")),
                       "src", "cli", "lakelog")
SINCE = "2026-11-24T00:00:00Z"
NOW = "2026-11-25T00:00:00Z"
PIPELINE = "fraud_scoring"
RANK = "CASE WHEN status = 'FAILED' THEN 2 WHEN status = 'SUCCESS' THEN 1 ELSE 0 END"

PER_PIPELINE = """
SELECT pipeline, count(*) AS events, count_if(status = 'FAILED') AS failures,
       count_if(status = 'SUCCESS') AS successes,
       count_if(level IN ('ERROR', 'FATAL')) AS errors, max(ts) AS last
FROM w GROUP BY pipeline"""
STAGES = """
SELECT pipeline, stage, count(*) AS n FROM w WHERE status = 'FAILED' GROUP BY pipeline, stage"""
RUNS = f"""
WITH r AS (SELECT pipeline, run_id, min(ts) AS s, max(ts) AS e, count(*) AS n
           FROM w WHERE run_id IS NOT NULL GROUP BY pipeline, run_id),
     l AS (SELECT w.pipeline, w.run_id, max({RANK}) AS rank
           FROM w JOIN r ON w.pipeline = r.pipeline AND w.run_id = r.run_id AND w.ts = r.e
           GROUP BY w.pipeline, w.run_id)
SELECT r.pipeline, count(*) AS runs, count_if(l.rank = 1) AS ok, count_if(l.rank = 2) AS failed,
       count_if(l.rank = 0) AS running
FROM r JOIN l ON r.pipeline = l.pipeline AND r.run_id = l.run_id GROUP BY r.pipeline"""
QUERY = f"""
SELECT ts, message FROM w
WHERE pipeline = '{PIPELINE}' AND status = 'FAILED' AND ts >= TIMESTAMP '2026-11-24 00:00:00'
  AND message LIKE '%Timeout%'
ORDER BY ts DESC LIMIT 100"""


def micros(value) -> int:
    import datetime as dt
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        microseconds=1)


def build_table(args) -> str:
    """gen_events.py holds its events in memory, so the table is built from chunks of at most
    1M events (seeds 7, 8, ...; each seed its own run ids), one `lakelog ingest` each."""
    table = os.path.join(args.dir, f"table-{args.n}")
    if os.path.isdir(os.path.join(table, "_delta_log")):
        return table
    chunk = os.path.join(args.dir, "chunk.ndjson")
    done = 0
    seed = 7
    while done < args.n:
        n = min(1_000_000, args.n - done)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_events.py"), "--n",
                        str(n), "--seed", str(seed), "--days", "3", "--out", chunk], check=True)
        subprocess.run([LAKELOG, "ingest", "--table", table, "--input", chunk], check=True,
                       stdout=subprocess.DEVNULL)
        done += n
        seed += 1
    os.remove(chunk)
    # Compacted, as a table under maintenance is (ten ingests leave ~100 small files per
    # partition otherwise).
    subprocess.run([LAKELOG, "optimize", "--table", table], check=True, stdout=subprocess.DEVNULL)
    return table


def answers_from_sql(rows_pipeline, rows_stages, rows_runs) -> dict:
    out = {}
    for r in rows_pipeline:
        out[r[0]] = {"events": r[1], "failures": r[2], "successes": r[3], "errors": r[4],
                     "last": micros(r[5]), "stages": {}, "runs": None}
    for p, stage, n in rows_stages:
        out[p]["stages"][stage] = n
    for p, runs, ok, failed, running in rows_runs:
        out[p]["runs"] = {"total": runs, "succeeded": ok, "failed": failed, "running": running}
    for p in out.values():
        p["stages"] = sorted(p["stages"].items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return out


def answers_from_lakelog(report: dict) -> dict:
    out = {}
    for p in report["pipelines"]:
        runs = p["runs"]
        out[p["pipeline"]] = {
            "events": p["events"], "failures": p["failures"], "successes": p["successes"],
            "errors": p["errors"], "last": p["last_event_micros"],
            "stages": [(s["stage"], s["failures"]) for s in p["top_failing_stages"]],
            "runs": {"total": runs["total"], "succeeded": runs["succeeded"],
                     "failed": runs["failed"], "running": runs["running"]}}
    return out


SCANS_PRINTED = set()


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_lakelog(table):
    def report():
        proc = subprocess.run([LAKELOG, "report", "--table", table, "--format", "json", "--now",
                               NOW, "--top-stages", "5"], stdout=subprocess.PIPE, check=True)
        return answers_from_lakelog(json.loads(proc.stdout))

    def query():
        proc = subprocess.run([LAKELOG, "query", "--table", table, "--pipeline", PIPELINE,
                               "--status", "FAILED", "--since", SINCE, "--contains", "Timeout",
                               "--limit", "100", "--format", "ndjson", "--explain"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        scan = proc.stderr.decode().strip().split("; ", 1)[1]
        if scan not in SCANS_PRINTED:
            SCANS_PRINTED.add(scan)
            print("  lakelog query scan:", scan)
        return [(micros(r["ts"]), r["message"]) for r in map(json.loads, proc.stdout.splitlines())]

    return timed(report), timed(query)


def run_duckdb(table, files):
    import duckdb

    def connect():
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE VIEW w AS SELECT * FROM read_parquet([{listing}], "
                    "hive_partitioning = true)")
        return con

    def report():
        con = connect()
        return answers_from_sql(con.execute(PER_PIPELINE).fetchall(),
                                con.execute(STAGES).fetchall(), con.execute(RUNS).fetchall())

    def query():
        con = connect()
        return [(micros(t), m) for t, m in con.execute(QUERY).fetchall()]

    return timed(report), timed(query)


def run_spark(table):
    sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
    import lakelog_testlib as tl
    spark = tl.make_spark_session("lakelog-analytics-bench")
    try:
        def view():
            spark.read.format("delta").load(table).createOrReplaceTempView("w")

        def report():
            view()
            return answers_from_sql([tuple(r) for r in spark.sql(PER_PIPELINE).collect()],
                                    [tuple(r) for r in spark.sql(STAGES).collect()],
                                    [tuple(r) for r in spark.sql(RUNS).collect()])

        def query():
            view()
            return [(micros(r[0]), r[1]) for r in spark.sql(QUERY).collect()]

        return timed(report), timed(query)
    finally:
        spark.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--dir", default="/tmp/lakelog-analytics-bench")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of lakelog and DuckDB, interleaved; medians are compared "
                             "(Spark runs once)")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    table = build_table(args)
    from deltalake import DeltaTable
    list_seconds, files = timed(lambda: DeltaTable(table).file_uris())
    size = sum(os.path.getsize(f) for f in files)
    print(f"table: {args.n} events, {len(files)} live files, {size / 1e6:.1f} MB; load average "
          f"{os.getloadavg()[0]:.1f}")
    for f in files:  # warm the page cache for everyone
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass
    # lakelog and DuckDB in turns, so that a noisy moment of the machine hits both alike.
    runs = {"lakelog": [], "duckdb": []}
    for _ in range(max(1, args.repeat)):
        runs["lakelog"].append(run_lakelog(table))
        runs["duckdb"].append(run_duckdb(table, files))
    results = {}
    for engine, attempts in runs.items():
        report_s = statistics.median(r for (r, _), _ in attempts)
        query_s = statistics.median(q for _, (q, _) in attempts)
        (_, report), (_, query) = attempts[-1]
        results[engine] = ((report_s, report), (query_s, query))
        print(f"  {engine} runs: report " + " ".join(f"{r:.3f}" for (r, _), _ in attempts) +
              " s; query " + " ".join(f"{q:.3f}" for _, (q, _) in attempts) + " s")
    if not args.no_spark:
        results["spark"] = run_spark(table)
    (_, report_ref), (_, query_ref) = results["lakelog"]
    assert len(query_ref) == 100 or len(query_ref) > 0, query_ref
    for engine, ((_, report), (_, query)) in results.items():
        assert report == report_ref, f"{engine}'s report differs from lakelog's"
        assert [t for t, _ in query] == [t for t, _ in query_ref], f"{engine}'s query differs"
    print(f"answers equal across engines ({len(report_ref)} pipelines, "
          f"{len(query_ref)} query rows)")
    print(f"medians of {max(1, args.repeat)} runs (Spark: one run)")
    print(f"{'engine':8} {'report s':>9} {'vs lakelog':>10} {'query s':>8} {'vs lakelog':>10}")
    (lr, _), (lq, _) = results["lakelog"]
    for engine, ((r, _), (q, _)) in results.items():
        print(f"{engine:8} {r:9.2f} {r / lr:9.1f}x {q:8.2f} {q / lq:9.1f}x")
    print(f"DuckDB's times exclude listing the live files; delta-rs took {list_seconds:.2f} s "
          f"for it (lakelog's and Spark's times include their own log replay)")
    print(f"max RSS of this driver and its children: "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB (children)")


if __name__ == "__main__":
    main()
