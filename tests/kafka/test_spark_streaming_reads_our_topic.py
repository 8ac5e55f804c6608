"""The seed's consumer reads our topic: `lakelog demo --kafka` writes the same events to our Delta
table and (through the engine's Kafka sink, one transaction per flush round) to a topic; the
seed's Spark Structured Streaming job (Kafka source with read_committed, JSON parsed, Delta sink,
availableNow trigger; kafka_testlib.spark_stream_topic_to_delta) drains the topic into a table of
its own, and that table holds exactly the rows of ours. An aborted transaction on the same topic
stays out of it."""

from __future__ import annotations

import collections
import glob
import json
import os
import subprocess

import kafka_testlib as kt
import lakelog_testlib as tl

SPARK_KAFKA_JAR = "spark-sql-kafka-0-10_2.13-4.2.0.jar"
KEY_COLUMNS = ("pipeline", "unix_micros(ts) as ts", "stage", "status", "message")


def key_multiset(spark, table: str) -> collections.Counter:
    rows = spark.read.format("delta").load(table).selectExpr(*KEY_COLUMNS).collect()
    return collections.Counter(tuple(r) for r in rows)


def produce_aborted_transaction(kafka, topic: str, n: int) -> None:
    """`n` events in a transaction that is aborted: a read_committed reader never sees them."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": kafka.bootstrap,
                         "transactional.id": "aborted-" + topic})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(n):
        e = kt.event(i, prefix="aborted")
        e["message"] = f"aborted {i}"
        producer.produce(topic, key=e["pipeline"].encode(), value=json.dumps(e).encode())
    producer.flush(30)
    producer.abort_transaction(30)


def test_spark_structured_streaming_reads_what_our_sink_wrote(kafka, spark, lakelog_bin,
                                                              topic_name, tmp_path):
    jars = [os.path.basename(p) for p in glob.glob(os.path.join(tl.JARS_DIR, "*.jar"))]
    assert SPARK_KAFKA_JAR in jars, f"{SPARK_KAFKA_JAR} not in {tl.JARS_DIR}: run scripts/setup.sh"
    kafka.create_topic(topic_name, partitions=3)
    ours = str(tmp_path / "ours")
    proc = subprocess.run(
        [lakelog_bin, "demo", "--table", ours, "--seconds", "2", "--rate", "300", "--quiet",
         "--wal", str(tmp_path / "wal"), "--kafka", kafka.bootstrap, "--kafka-topic", topic_name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    assert proc.returncode == 0, tl.describe_proc(proc)
    produce_aborted_transaction(kafka, topic_name, 50)

    theirs = str(tmp_path / "spark")
    progress = kt.spark_stream_topic_to_delta(spark, kafka.bootstrap, topic_name, theirs,
                                              str(tmp_path / "checkpoint"))

    ours_keys = key_multiset(spark, ours)
    theirs_keys = key_multiset(spark, theirs)
    assert sum(ours_keys.values()) > 500, "the demo wrote too little to compare"
    assert theirs_keys == ours_keys, (
        f"{sum((ours_keys - theirs_keys).values())} of our rows missing from Spark's table "
        f"(e.g. {list((ours_keys - theirs_keys).elements())[:3]}), "
        f"{sum((theirs_keys - ours_keys).values())} rows only in Spark's "
        f"(e.g. {list((theirs_keys - ours_keys).elements())[:3]})")
    assert progress["rows"] == sum(ours_keys.values()), progress
    # Every column, not only the five above: level, run_id, host, attributes, log_date too.
    ours_rows = tl.rows_from_spark(spark.read.format("delta").load(ours))
    theirs_rows = tl.rows_from_spark(spark.read.format("delta").load(theirs))
    assert theirs_rows == ours_rows, tl.first_diff(theirs_rows, ours_rows)
    # delta-rs reads our table with the same number of rows as Spark does.
    assert len(kt.table_run_ids(ours)) == len(ours_rows)
