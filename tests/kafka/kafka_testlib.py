"""Helpers of the Kafka suite: events, running `lakelog kafka-ingest`, reading the table back
with delta-rs."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import time
import urllib.request

import lakelog_testlib as tl


def event(i: int, prefix: str = "m") -> dict:
    """A valid NDJSON event with the unique run_id `<prefix>-<i>`."""
    return {"pipeline": f"p{i % 7}", "ts": "2026-11-24T10:15:30.123456Z", "level": "INFO",
            "stage": "s", "status": "SUCCESS", "message": f"event {i}", "run_id": f"{prefix}-{i}"}


def messages(ids, prefix: str = "m"):
    for i in ids:
        e = event(i, prefix)
        yield e["pipeline"].encode(), json.dumps(e).encode()


def ingest_cmd(kafka, table: str, topics, group: str, *extra: str) -> list[str]:
    cmd = [tl.lakelog_path(), "kafka-ingest", "--brokers", kafka.bootstrap, "--group", group,
           "--table", table]
    for t in topics:
        cmd += ["--topic", t]
    return cmd + list(extra)


def run_ingest(kafka, table, topics, group, *extra, timeout=180) -> subprocess.CompletedProcess:
    proc = subprocess.run(ingest_cmd(kafka, table, topics, group, "--available-now", *extra),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert proc.returncode == 0, tl.describe_proc(proc)
    return proc


def summary(proc) -> dict:
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def table_run_ids(table: str) -> list[str]:
    from deltalake import DeltaTable
    if not os.path.isdir(os.path.join(table, "_delta_log")):
        return []
    return DeltaTable(table).to_pyarrow_table(columns=["run_id"]).column("run_id").to_pylist()


def assert_exactly_once(table: str, expected) -> None:
    got = collections.Counter(table_run_ids(table))
    doubled = [k for k, c in got.items() if c > 1]
    assert not doubled, f"{len(doubled)} run_ids twice in the table, e.g. {doubled[:5]}"
    expected = set(expected)
    missing = sorted(expected - set(got))
    extra = sorted(set(got) - expected)
    assert not missing and not extra, (f"{len(missing)} missing (e.g. {missing[:5]}), "
                                       f"{len(extra)} unexpected (e.g. {extra[:5]})")


def wait_for(predicate, timeout: float, what: str, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def metric_sum(port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


# ---------------------------------------------------------------------------------------------
# The seed's consumer: Spark Structured Streaming, Kafka source → Delta (its Strategy 2)

# The NDJSON event format (docs/kafka.md, "Message format"). `ts` is read as text: RFC 3339 is
# cast (which keeps microseconds and any offset; JSON's default timestampFormat has milliseconds
# only), an integer is epoch milliseconds, as kafka-ingest reads it. A missing level is INFO and
# WARNING is WARN, as in our parser.
EVENT_JSON_SCHEMA = ("pipeline STRING, ts STRING, level STRING, stage STRING, status STRING, "
                     "message STRING, run_id STRING, host STRING, attributes MAP<STRING, STRING>")


def spark_stream_topic_to_delta(spark, bootstrap: str, topic: str, table: str, checkpoint: str,
                                max_offsets_per_trigger: int | None = None) -> dict:
    """Runs the seed's job once with the availableNow trigger: every committed message of `topic`
    (read_committed, from the earliest offset) parsed from JSON and appended to the Delta table
    at `table`, partitioned like ours. Blocks until the job has drained the topic; returns the
    rows and batches of its recent progress reports (Spark keeps the last 100)."""
    from pyspark.sql import functions as F
    source = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", bootstrap)
              .option("subscribe", topic)
              .option("startingOffsets", "earliest")
              .option("kafka.isolation.level", "read_committed"))
    if max_offsets_per_trigger:
        source = source.option("maxOffsetsPerTrigger", str(max_offsets_per_trigger))
    events = (source.load()
              .select(F.from_json(F.col("value").cast("string"), EVENT_JSON_SCHEMA).alias("e"))
              .select("e.*")
              .withColumn("ts", F.expr("CASE WHEN ts RLIKE '^-?[0-9]+$' THEN "
                                       "timestamp_millis(CAST(ts AS BIGINT)) "
                                       "ELSE CAST(ts AS TIMESTAMP) END"))
              .withColumn("level", F.expr("CASE upper(coalesce(level, 'INFO')) WHEN 'WARNING' "
                                          "THEN 'WARN' ELSE upper(coalesce(level, 'INFO')) END"))
              .withColumn("log_date", F.to_date("ts"))
              .select("pipeline", "log_date", "ts", "level", "stage", "status", "message",
                      "run_id", "host", "attributes"))
    query = (events.writeStream.format("delta")
             .outputMode("append")
             .option("checkpointLocation", checkpoint)
             .partitionBy("pipeline", "log_date")
             .trigger(availableNow=True)
             .start(table))
    query.awaitTermination()
    if query.exception() is not None:
        raise RuntimeError(f"the streaming query failed: {query.exception()}")
    progress = query.recentProgress
    return {"rows": sum(p["numInputRows"] for p in progress), "batches": len(progress)}
