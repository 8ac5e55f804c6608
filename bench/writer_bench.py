#!/usr/bin/env python3
"""Writer throughput: the same N prepared events landed in a committed Delta table partitioned by
(pipeline, log_date), by lakelog, delta-rs and Spark, in one run.

- lakelog: the C++ program `writer_bench` (bench/writer_bench.cc) parses the NDJSON into memory
  (untimed), then times DeltaTable::Open + one Append of everything. zstd at --zstd-level
  (default 1, lakelog's default). "lakelog-1cpu" is the same program restricted to one CPU
  (sched_setaffinity): the figure for the "1 M events/s on one core" target.
- delta-rs: `write_deltalake(mode="append", partition_by=[...])` of a prepared pyarrow Table
  (preparation untimed), WriterProperties(compression="ZSTD"): parquet-rs's default zstd level,
  which is 1.
- Spark: `df.write.format("delta").partitionBy(...).mode("append")` of a cached DataFrame
  (count() first to materialise it; untimed), spark.sql.parquet.compression.codec=zstd.

Each writer runs --repeats times into a fresh table; medians are printed, with events/s, MB/s of
the NDJSON input, data files, bytes on disk, and ratios against lakelog. Timings are noisy on a
shared 2-core machine: compare the ratios of one run, not absolute figures across runs.

Besides wall time, lakelog and delta-rs report the CPU time of the write (all threads of the
writing process; Spark's JVM is another process and is not measured): "events per CPU second"
is what one core sustains, and is much less sensitive to other load on the machine.

    .venv/bin/python bench/writer_bench.py --n 1000000 \
        --writer-bench build-bench/bench/writer_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_events  # noqa: E402

STRING_COLUMNS = ("level", "stage", "status", "message", "run_id", "host")


def dir_stats(table: str) -> tuple[int, int, int]:
    """(data files, data bytes, _delta_log bytes) of a table directory."""
    files = data_bytes = log_bytes = 0
    for dirpath, _, filenames in os.walk(table):
        for name in filenames:
            size = os.path.getsize(os.path.join(dirpath, name))
            if os.path.basename(dirpath) == "_delta_log" or "_delta_log" in dirpath:
                log_bytes += size
            elif name.endswith(".parquet"):
                files += 1
                data_bytes += size
    return files, data_bytes, log_bytes


def prepare_arrow(events: list[dict]):
    """The events as a pyarrow Table in the pipeline_logs schema."""
    import pyarrow as pa
    n = len(events)
    pipeline, log_date, ts = [None] * n, [0] * n, [0] * n
    strings = {c: [None] * n for c in STRING_COLUMNS}
    attributes = [None] * n
    for i, e in enumerate(events):
        micros = gen_events.parse_ts_micros(e["ts"])
        pipeline[i] = e["pipeline"] or None
        ts[i] = micros
        log_date[i] = micros // 86_400_000_000
        for c in STRING_COLUMNS:
            strings[c][i] = e.get(c)
        strings["level"][i] = (e.get("level") or "INFO").upper()
        attributes[i] = list((e.get("attributes") or {}).items())
    schema = pa.schema([
        ("pipeline", pa.string()), ("log_date", pa.date32()), ("ts", pa.timestamp("us", tz="UTC")),
        *((c, pa.string()) for c in STRING_COLUMNS),
        ("attributes", pa.map_(pa.string(), pa.string()))])
    return pa.Table.from_arrays([
        pa.array(pipeline, pa.string()),
        pa.array(log_date, pa.int32()).cast(pa.date32()),
        pa.array(ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        *(pa.array(strings[c], pa.string()) for c in STRING_COLUMNS),
        pa.array(attributes, schema.field("attributes").type)], schema=schema)


def run_lakelog(binary: str, input_path: str, table: str, zstd_level: int,
                cpu: int | None = None) -> dict:
    """Runs writer_bench; with `cpu`, the process may only run on that CPU."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    proc = subprocess.run([binary, "--input", input_path, "--table", table,
                           "--compression", "zstd", "--zstd-level", str(zstd_level)],
                          capture_output=True, text=True, preexec_fn=pin)
    if proc.returncode != 0:
        raise RuntimeError(f"writer_bench failed ({proc.returncode}): {proc.stderr}")
    out = json.loads(proc.stdout)
    return {"seconds": out["seconds"], "cpu_seconds": out["cpu_seconds"], "rows": out["rows"]}


def run_deltars(arrow_table, table: str) -> dict:
    from deltalake import WriterProperties, write_deltalake
    cpu_start = time.process_time()
    start = time.perf_counter()
    write_deltalake(table, arrow_table, mode="append", partition_by=["pipeline", "log_date"],
                    writer_properties=WriterProperties(compression="ZSTD"))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu_seconds": time.process_time() - cpu_start,
            "rows": arrow_table.num_rows}


def make_spark():
    from pyspark.sql import SparkSession
    jars = sorted(glob.glob(os.path.join(REPO_ROOT, ".cache", "jars", "*.jar")))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[2]").appName("writer-bench")
             .config("spark.jars", ",".join(jars))
             .config("spark.driver.memory", "2g")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog",
                     "org.apache.spark.sql.delta.catalog.DeltaCatalog")
             .config("spark.databricks.delta.snapshotPartitions", "2")
             .config("spark.sql.parquet.compression.codec", "zstd")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark(spark, df, table: str, n: int) -> dict:
    start = time.perf_counter()
    df.write.format("delta").partitionBy("pipeline", "log_date").mode("append").save(table)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": n}


def summarise(name: str, runs: list[dict], n: int, input_bytes: int) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    cpu = [r["cpu_seconds"] for r in runs if "cpu_seconds" in r]
    cpu_seconds = statistics.median(cpu) if cpu else None
    return {
        "writer": name, "events": n, "runs": len(runs),
        "seconds_median": seconds,
        "seconds_all": [round(r["seconds"], 3) for r in runs],
        "events_per_s": n / seconds,
        "cpu_seconds_median": cpu_seconds,
        "cpu_seconds_all": [round(c, 3) for c in cpu],
        "events_per_cpu_s": n / cpu_seconds if cpu_seconds else None,
        "input_mb_per_s": input_bytes / seconds / 1e6,
        "files": statistics.median(r["files"] for r in runs),
        "data_bytes": statistics.median(r["data_bytes"] for r in runs),
        "log_bytes": statistics.median(r["log_bytes"] for r in runs),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--spark-n", type=int, default=None,
                        help="events for Spark (default: --n); its figures are per event")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", default="/tmp/lakelog-writer-bench")
    parser.add_argument("--writer-bench", default=os.environ.get(
        "LAKELOG_WRITER_BENCH", os.path.join(REPO_ROOT, "build-bench", "bench", "writer_bench")))
    parser.add_argument("--writers", default="lakelog,lakelog-1cpu,delta-rs,spark")
    parser.add_argument("--zstd-level", type=int, default=1, help="lakelog's zstd level")
    parser.add_argument("--json-out", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    writers = args.writers.split(",")
    spark_n = args.spark_n or args.n

    os.makedirs(args.work_dir, exist_ok=True)
    input_path = os.path.join(args.work_dir, f"events-{args.n}-{args.seed}.ndjson")
    t0 = time.perf_counter()
    # lakelog reads the NDJSON file; only the peers need the events in Python.
    needs_events = "delta-rs" in writers or "spark" in writers
    events = None
    if needs_events or not os.path.exists(input_path):
        events = gen_events.generate_events(args.n, args.seed)
    if not os.path.exists(input_path):
        gen_events.write_ndjson(events, input_path)
    input_bytes = os.path.getsize(input_path)
    print(f"# {args.n} events, {input_bytes / 1e6:.1f} MB NDJSON "
          f"({input_bytes / args.n:.0f} B/event), generated in {time.perf_counter() - t0:.1f}s",
          file=sys.stderr)

    results = []

    def measure(name: str, n: int, once) -> None:
        runs = []
        for r in range(args.repeats):
            table = os.path.join(args.work_dir, f"table-{name}-{r}")
            shutil.rmtree(table, ignore_errors=True)
            out = once(table)
            assert out["rows"] == n, (name, out)
            files, data_bytes, log_bytes = dir_stats(table)
            out.update(files=files, data_bytes=data_bytes, log_bytes=log_bytes)
            runs.append(out)
            cpu = f" ({out['cpu_seconds']:.3f}s CPU)" if "cpu_seconds" in out else ""
            print(f"#   {name} run {r + 1}: {out['seconds']:.3f}s{cpu}, {files} files",
                  file=sys.stderr)
            shutil.rmtree(table, ignore_errors=True)
        results.append(summarise(name, runs, n, input_bytes * n // args.n))

    if "lakelog" in writers:
        if not os.path.exists(args.writer_bench):
            print(f"writer_bench not found at {args.writer_bench}", file=sys.stderr)
            return 1
        measure("lakelog", args.n,
                lambda t: run_lakelog(args.writer_bench, input_path, t, args.zstd_level))
    if "lakelog-1cpu" in writers:
        cpu = min(os.sched_getaffinity(0))
        measure("lakelog-1cpu", args.n,
                lambda t: run_lakelog(args.writer_bench, input_path, t, args.zstd_level, cpu))

    arrow_table = None
    if needs_events:
        arrow_table = prepare_arrow(events)
    del events
    gc.collect()

    if "delta-rs" in writers:
        measure("delta-rs", args.n, lambda t: run_deltars(arrow_table, t))

    if "spark" in writers:
        spark = make_spark()
        source = arrow_table.slice(0, spark_n)
        # createDataFrame(arrow) yields one partition per Arrow batch (~100 for 1M rows), and
        # each would write its own file per (pipeline, log_date): 2 partitions = the 2 cores.
        df = spark.createDataFrame(source).coalesce(2).cache()
        assert df.count() == spark_n
        del source
        # One warm-up write, untimed: JIT and Delta's first-use initialisation.
        warm = os.path.join(args.work_dir, "table-spark-warmup")
        shutil.rmtree(warm, ignore_errors=True)
        df.limit(1000).write.format("delta").partitionBy("pipeline", "log_date").save(warm)
        shutil.rmtree(warm, ignore_errors=True)
        measure("spark", spark_n, lambda t: run_spark(spark, df, t, spark_n))
        df.unpersist()
        spark.stop()

    base = next((r for r in results if r["writer"] == "lakelog"), None)
    print(f"\n(lakelog zstd level {args.zstd_level}; delta-rs zstd level 1, its default)")
    print(f"\n| writer | events | median s | events/s | MB/s (NDJSON) | CPU s | events/CPU-s | "
          f"files | data MB | log KB | events/s vs lakelog |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        ratio = f"{r['events_per_s'] / base['events_per_s']:.2f}x" if base else "n/a"
        cpu = f"{r['cpu_seconds_median']:.2f}" if r["cpu_seconds_median"] else "n/a"
        per_cpu = f"{r['events_per_cpu_s']:,.0f}" if r["events_per_cpu_s"] else "n/a"
        print(f"| {r['writer']} | {r['events']:,} | {r['seconds_median']:.2f} | "
              f"{r['events_per_s']:,.0f} | {r['input_mb_per_s']:.1f} | {cpu} | {per_cpu} | "
              f"{r['files']:.0f} | {r['data_bytes'] / 1e6:.1f} | {r['log_bytes'] / 1e3:.0f} | "
              f"{ratio} |")
    if base:
        print("\nbytes on disk vs lakelog: " + ", ".join(
            f"{r['writer']} {r['data_bytes'] / r['events'] / (base['data_bytes'] / base['events']):.2f}x"
            for r in results) + " (data bytes per event)")
    one_cpu = next((r for r in results if r["writer"] == "lakelog-1cpu"), None)
    if one_cpu:
        verdict = "met" if one_cpu["events_per_s"] >= 1e6 else "NOT met"
        print(f"\none-core target (>= 1,000,000 events/s, zstd): lakelog-1cpu "
              f"{one_cpu['events_per_s']:,.0f} events/s (median of {one_cpu['runs']}): {verdict}")
    print(f"\nall runs (s): " + "; ".join(f"{r['writer']} {r['seconds_all']}" for r in results))
    print(f"all runs (CPU s): " + "; ".join(f"{r['writer']} {r['cpu_seconds_all']}"
                                            for r in results if r["cpu_seconds_all"]))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"n": args.n, "input_bytes": input_bytes, "zstd_level": args.zstd_level,
                       "when": dt.datetime.now(
                dt.timezone.utc).isoformat(), "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
