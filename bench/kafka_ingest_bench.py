#!/usr/bin/env python3
"""Kafka → Delta benchmark, one run on one local Kafka 3.9.1 broker (started here):

1. Throughput on the same pre-filled topic (--n events of ~300 bytes, --partitions partitions,
   key = pipeline, uncompressed like the sink's default), read once the broker has written the
   prefill out (--settle): `lakelog kafka-ingest --available-now` (default batch settings; the
   median of --repeats runs, each into a new table) against the seed's Spark Structured Streaming job (Kafka source with
   read_committed, the JSON parsed to our columns, Delta sink partitioned like ours, availableNow
   trigger; tests/kafka/kafka_testlib.spark_stream_topic_to_delta, the job the Kafka suite
   checks). Each side starts from an empty table and reads the whole topic once. Events/s over
   the wall time (kafka-ingest: the whole process, from exec to exit; Spark: the query from
   start() to termination, the session started beforehand and not counted), CPU seconds,
   peak RSS, files, bytes and commits written, and the ratio. Both tables are checked to hold
   the same rows (count, per-pipeline counts and the sum of ts).
2. End-to-end latency from `log()` to visible in a kafka-ingest table: `lakelog demo --kafka`
   (the engine at its default settings: 3 pipelines at 2,000 events/s each, flush interval 5 s /
   4,096 events, a WAL with group sync; it also writes its own table) feeds a topic that a
   running `lakelog kafka-ingest --max-latency S` (S = --max-latency, default 1 s; its own
   default is 60 s) commits. A poller lists the daemon's _delta_log every 20 ms; for each new
   commit it reads the `ts` (the log() time, stamped by the engine's clock) of every row the
   commit added: latency = the moment the poller saw the commit - ts. p50/p99/max over every event.

    .venv/bin/python bench/kafka_ingest_bench.py [--n 2000000] [--partitions 4] [--repeats 3]
        [--settle 10] [--latency-seconds 30] [--max-latency 1]

Needs scripts/setup.sh (broker, Spark and its Kafka source jars) and the lakelog binary
(build/src/cli/lakelog or $LAKELOG_BUILD_DIR). Not part of the test suite.
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
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "conformance"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "kafka"))
import gen_events  # noqa: E402
import kafka_testlib as kt  # noqa: E402
import lakelog_testlib as tl  # noqa: E402
from kafka_broker import KafkaBroker  # noqa: E402

CHUNK = 100_000


def padded_lines(n: int):
    """n NDJSON events of ~300 bytes (gen_events' ~240-byte events plus a trace id and a span
    id attribute), in chunks; unique by the id gen_events puts in each message."""
    for k, start in enumerate(range(0, n, CHUNK)):
        # ts as our sink writes it (RFC 3339 UTC, microseconds), not gen_events' mixed forms.
        events = gen_events.generate_events(min(CHUNK, n - start), seed=1000 + k, ts_forms=False)
        out = []
        for i, e in enumerate(events):
            attributes = dict(e.get("attributes") or {})
            attributes["trace_id"] = f"{(start + i) * 2654435761 % (1 << 64):016x}{k:016x}"
            attributes["span"] = f"{i:08x}"
            e["attributes"] = attributes
            out.append((e["pipeline"].encode(), gen_events.to_line(e).encode()))
        yield out


def prefill(broker: KafkaBroker, topic: str, n: int) -> dict:
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all",
                         "enable.idempotence": True, "linger.ms": 50,
                         "batch.size": 1_000_000, "queue.buffering.max.messages": 1_000_000,
                         "queue.buffering.max.kbytes": 512 * 1024})
    errors = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(err)

    t0 = time.perf_counter()
    total_bytes = 0
    for chunk in padded_lines(n):
        for key, value in chunk:
            total_bytes += len(value)
            while True:
                try:
                    producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.poll(0)
    left = producer.flush(300)
    assert left == 0 and not errors, f"prefill: {left} left, errors {errors[:3]}"
    return {"events": n, "value_bytes": total_bytes, "seconds": time.perf_counter() - t0}


def table_files(table: str) -> dict:
    adds = tl.active_adds(table)
    return {"files": len(adds), "bytes": sum(a["size"] for a in adds.values()),
            "commits": len(tl.commit_versions(table))}


def table_fingerprint(spark, table: str) -> dict:
    df = spark.read.format("delta").load(table)
    total = df.selectExpr("count(*) AS n", "sum(CAST(unix_micros(ts) AS DECIMAL(38, 0))) AS ts_sum").collect()[0]
    per_pipeline = {r["pipeline"]: r["n"] for r in df.groupBy("pipeline").count()
                    .withColumnRenamed("count", "n").collect()}
    return {"rows": total["n"], "ts_sum": total["ts_sum"], "per_pipeline": per_pipeline}


def run_kafka_ingest(broker: KafkaBroker, topic: str, table: str, work: str) -> dict:
    cmd = [tl.lakelog_path(), "kafka-ingest", "--brokers", broker.bootstrap, "--topic", topic,
           "--group", "bench-" + os.path.basename(table), "--table", table, "--available-now"]
    out_path, err_path = os.path.join(work, "ingest.out"), os.path.join(work, "ingest.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this process's own CPU and peak RSS
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path) as f:
        assert proc.returncode == 0, f"kafka-ingest exited {proc.returncode}: {f.read()[-3000:]}"
    return {"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024,
            "summary": json.loads(stdout.strip().splitlines()[-1])}


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_spark(spark, broker: KafkaBroker, topic: str, table: str, checkpoint: str) -> dict:
    """The Spark side; CPU and peak RSS are the Spark JVM's (local mode: driver and executor)."""
    jvm = spark.sparkContext._gateway.proc.pid
    cpu0 = proc_cpu_seconds(jvm)
    t0 = time.perf_counter()
    progress = kt.spark_stream_topic_to_delta(spark, broker.bootstrap, topic, table, checkpoint)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "cpu_seconds": proc_cpu_seconds(jvm) - cpu0,
            "peak_rss_mib": proc_peak_rss_mib(jvm), "batches": progress["batches"]}


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def measure_latency(broker: KafkaBroker, work: str, seconds: int, max_latency: float) -> dict:
    """log() → visible in the kafka-ingest table, for every event of a `lakelog demo --kafka`
    run (module docstring)."""
    import pyarrow.parquet as pq
    topic = broker.create_topic("latency", partitions=4)
    table = os.path.join(work, "latency_table")
    daemon = subprocess.Popen(
        [tl.lakelog_path(), "kafka-ingest", "--brokers", broker.bootstrap, "--topic", topic,
         "--group", "latency", "--table", table, "--max-latency", str(max_latency)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    latencies: list[float] = []
    seen: set[int] = set()
    stop = threading.Event()

    def poll() -> None:
        log = os.path.join(table, "_delta_log")
        while not stop.is_set():
            now = time.time()
            try:
                names = os.listdir(log)
            except FileNotFoundError:
                names = []
            for name in sorted(names):
                if not (name.endswith(".json") and name[:20].isdigit()):
                    continue
                version = int(name[:20])
                if version in seen:
                    continue
                seen.add(version)
                for add in tl.added_in(table, version):
                    path = os.path.join(table, urllib.parse.unquote(add["path"]))
                    ts = pq.read_table(path, columns=["ts"]).column("ts")
                    for t in ts.cast("int64").to_pylist():
                        latencies.append(now - t / 1e6)
            time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(3)  # the daemon joins its group and creates the table before the first event
    demo = subprocess.run(
        [tl.lakelog_path(), "demo", "--table", os.path.join(work, "demo_table"), "--seconds",
         str(seconds), "--quiet", "--wal", os.path.join(work, "demo_wal"), "--kafka",
         broker.bootstrap, "--kafka-topic", topic],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert demo.returncode == 0, tl.describe_proc(demo)
    expected = len(kt.table_run_ids(os.path.join(work, "demo_table")))
    deadline = time.monotonic() + 60 + max_latency
    while len(latencies) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    poller.join()
    daemon.terminate()
    daemon.wait(timeout=60)
    values = sorted(latencies)
    return {"events": len(values), "expected": expected,
            "p50": percentile(values, 0.50), "p99": percentile(values, 0.99),
            "max": values[-1], "mean": statistics.fmean(values),
            "commits": len(seen)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--latency-seconds", type=int, default=30,
                        help="how long the demo logs in the latency run (0: skip it)")
    parser.add_argument("--max-latency", type=float, default=1.0,
                        help="kafka-ingest --max-latency in the latency run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="kafka-ingest runs (each into a new table); the median is reported")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds to let the broker write the prefill out before measuring")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="lakelog-kafka-bench-")
    broker_dir = os.path.join(work, "broker")
    os.makedirs(broker_dir)
    broker = KafkaBroker(broker_dir)
    broker.start()
    spark = None
    try:
        print(f"load average at start: {os.getloadavg()}", flush=True)
        topic = broker.create_topic("pipeline_logs", partitions=args.partitions)
        fill = prefill(broker, topic, args.n)
        print(f"prefill: {fill['events']:,} events, {fill['value_bytes'] / fill['events']:.0f} "
              f"bytes each on average, {fill['seconds']:.1f} s", flush=True)

        # The broker writes the prefill out in the background for a while; both engines read
        # a settled broker (the first drain measured right after the prefill ran ~1.5x slower).
        os.sync()
        time.sleep(args.settle)
        runs = []
        for k in range(args.repeats):
            table = os.path.join(work, f"kafka_ingest_table_{k}")
            run = run_kafka_ingest(broker, topic, table, work)
            run.update(table_files(table))
            run["table"] = table
            print(f"kafka-ingest run {k + 1}: {run}", flush=True)
            runs.append(run)
        ingest = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run
        ours = ingest["table"]

        t0 = time.perf_counter()
        spark = tl.make_spark_session("lakelog-kafka-bench")
        spark_start = time.perf_counter() - t0
        theirs = os.path.join(work, "spark_table")
        streaming = run_spark(spark, broker, topic, theirs, os.path.join(work, "checkpoint"))
        streaming.update(table_files(theirs))
        streaming["session_start_seconds"] = spark_start
        print(f"spark: {streaming}", flush=True)

        ours_fp, theirs_fp = table_fingerprint(spark, ours), table_fingerprint(spark, theirs)
        assert ours_fp["rows"] == args.n, (ours_fp["rows"], args.n)
        assert ours_fp == theirs_fp, (ours_fp, theirs_fp)

        rate_ours = args.n / ingest["seconds"]
        rate_spark = args.n / streaming["seconds"]
        print()
        print(f"Kafka → Delta, {args.n:,} events of ~{fill['value_bytes'] / args.n:.0f} bytes, "
              f"{args.partitions} partitions (both tables hold the same rows)")
        print(f"{'':34} {'events/s':>10} {'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13} "
              f"{'files':>6} {'MiB':>7} {'commits':>8}")
        for name, r, rate in (("lakelog kafka-ingest --available-now", ingest, rate_ours),
                              ("Spark Structured Streaming", streaming, rate_spark)):
            print(f"{name:34} {rate:>10,.0f} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.1f} "
                  f"{r['peak_rss_mib']:>13.0f} {r['files']:>6} {r['bytes'] / 2**20:>7.1f} "
                  f"{r['commits']:>8}")
        walls = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"kafka-ingest: the median of {len(runs)} runs (wall s: {walls}); Spark: one run")
        print(f"ratio kafka-ingest / Spark: {rate_ours / rate_spark:.1f}x events/s, "
              f"{ingest['cpu_seconds'] / max(1e-9, streaming['cpu_seconds']):.2f}x the CPU, "
              f"{ingest['files']} files against {streaming['files']} "
              f"(Spark session start, not counted: {spark_start:.1f} s)")
        spark.stop()
        spark = None

        if args.latency_seconds > 0:
            lat = measure_latency(broker, work, args.latency_seconds, args.max_latency)
            print(f"\nlog() → visible in the kafka-ingest table (demo defaults + kafka-ingest "
                  f"--max-latency {args.max_latency:g}): {lat['events']:,} of {lat['expected']:,} "
                  f"events in {lat['commits']} commits, p50 {lat['p50']:.2f} s, "
                  f"p99 {lat['p99']:.2f} s, max {lat['max']:.2f} s, mean {lat['mean']:.2f} s")
        print(f"load average at end: {os.getloadavg()}")
    finally:
        if spark is not None:
            spark.stop()
        broker.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
