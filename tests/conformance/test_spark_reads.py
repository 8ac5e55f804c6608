"""Spark 4.2 + Delta reads a table lakelog wrote, then writes to it (append, OPTIMIZE,
checkpoints), and lakelog's own snapshot reader agrees with Spark afterwards."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse

import pytest

import lakelog_testlib as tl

BATCH_ROWS = 400


@pytest.fixture(scope="module")
def landed(tmp_path_factory, lakelog_bin):
    """A table of 1,500 generated events plus the edge cases, ingested in batches of 400."""
    events = tl.generate_events(1500, seed=11) + tl.edge_events()
    table = str(tmp_path_factory.mktemp("spark") / "pipeline_logs")
    run = tl.ingest(table, events, batch_rows=BATCH_ROWS)
    return table, events, run.summary


def test_rows_equal_input(spark, landed):
    table, events, summary = landed
    assert summary["accepted"] == len(events) and summary["rejected"] == 0, summary
    df = spark.read.format("delta").load(table)
    assert df.count() == len(events)
    actual = tl.rows_from_spark(df)
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)


def test_schema_types(spark, landed):
    table, _, _ = landed
    fields = {f.name: f.dataType.simpleString() for f in
              spark.read.format("delta").load(table).schema.fields}
    assert fields == {
        "pipeline": "string", "log_date": "date", "ts": "timestamp", "level": "string",
        "stage": "string", "status": "string", "message": "string", "run_id": "string",
        "host": "string", "attributes": "map<string,string>"}
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{table}`").collect()[0]
    assert list(detail["partitionColumns"]) == ["pipeline", "log_date"]
    assert detail["minReaderVersion"] == 1 and detail["minWriterVersion"] == 2
    adds = tl.active_adds(table)
    assert detail["numFiles"] == len(adds)
    assert detail["sizeInBytes"] == sum(a["size"] for a in adds.values())


def _busiest_partition(events):
    counts = tl.events_by_key(events)
    return max((k for k in counts if k[0] is not None), key=lambda k: counts[k]), counts


def test_partition_filter_reads_only_that_partition(spark, landed, tmp_path):
    """`WHERE pipeline = .. AND log_date = ..` reads exactly the files the log lists for that
    partition. Checked twice: input_file_name() of the rows, and on a copy of the table whose
    other data files were deleted — the query only succeeds if Spark pruned them away."""
    from pyspark.sql import functions as F
    table, events, _ = landed
    (pipeline, log_date), counts = _busiest_partition(events)
    part_files = {p for p, a in tl.active_adds(table).items()
                  if a["partitionValues"] == {"pipeline": pipeline, "log_date": log_date}}
    assert part_files, "no add action carries the partition values of the busiest partition"

    def query(path):
        return (spark.read.format("delta").load(path)
                .where((F.col("pipeline") == pipeline) & (F.col("log_date") == log_date)))

    df = query(table)
    names = {r[0] for r in df.select(F.input_file_name()).distinct().collect()}
    read = {os.path.relpath(urllib.parse.unquote(urllib.parse.urlparse(n).path), table)
            for n in names}
    assert read == part_files
    assert df.count() == counts[(pipeline, log_date)]

    pruned = str(tmp_path / "pruned")
    shutil.copytree(table, pruned)
    for rel in tl.data_files_on_disk(pruned):
        if rel not in part_files:
            os.remove(os.path.join(pruned, rel))
    expected = tl.sort_rows(tl.expected_row(e) for e in events
                            if e["pipeline"] == pipeline
                            and tl.date_of_micros(tl.ts_micros(e["ts"])) == log_date)
    assert tl.rows_from_spark(query(pruned)) == expected


def test_per_pipeline_summary(spark, landed):
    table, events, _ = landed
    got = spark.sql(f"""
        SELECT pipeline, count(*) AS total_logs, count_if(status = 'FAILED') AS failures
        FROM delta.`{table}` GROUP BY pipeline""").collect()
    expected: dict = {}
    for e in events:
        total, failed = expected.get(e["pipeline"] or None, (0, 0))
        expected[e["pipeline"] or None] = (total + 1, failed + (e.get("status") == "FAILED"))
    assert {r["pipeline"]: (r["total_logs"], r["failures"]) for r in got} == expected


def test_history_lists_our_commits(spark, landed):
    table, events, summary = landed
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()
    versions = sorted(r["version"] for r in rows)
    assert versions == list(range(summary["version"] + 1))
    commits = tl.expected_commits(len(events), BATCH_ROWS)
    assert summary["commits"] == commits
    writes = sorted((r for r in rows if r["operation"] == "WRITE"), key=lambda r: r["version"])
    assert len(writes) == commits
    # The WRITE commits are the last ones (version 0 may be a separate table creation).
    assert [r["version"] for r in writes] == versions[-commits:]
    for r in writes:
        assert r["timestamp"] is not None


def test_history_metrics_in_spark_names(spark, landed):
    """Spark's WRITE metrics are numFiles / numOutputRows / numOutputBytes; lakelog's commits
    should carry the same names so DESCRIBE HISTORY reads the same across writers."""
    table, events, summary = landed
    rows = [r for r in spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()
            if r["operation"] == "WRITE"]
    metrics = [dict(r["operationMetrics"] or {}) for r in rows]
    assert all({"numFiles", "numOutputRows", "numOutputBytes"} <= m.keys() for m in metrics), \
        metrics
    assert sum(int(m["numOutputRows"]) for m in metrics) == len(events)
    assert sum(int(m["numFiles"]) for m in metrics) == summary["files"]


def test_spark_append_optimize_checkpoint_then_lakelog_agrees(spark, landed, tmp_path):
    """Spark writes to our table (checkpointInterval=2, an append, OPTIMIZE): lakelog's
    describe reads Spark's commits and classic checkpoint and agrees on version, files, rows and
    bytes. Then lakelog appends on top of Spark's checkpoint and Spark reads everything."""
    table, events, _ = landed
    t = str(tmp_path / "shared")
    shutil.copytree(table, t)
    spark.sql(f"ALTER TABLE delta.`{t}` SET TBLPROPERTIES ('delta.checkpointInterval' = '2')")
    more = tl.generate_events(600, seed=12)
    tl.events_to_spark(spark, more).write.format("delta").mode("append").save(t)
    spark.sql(f"OPTIMIZE delta.`{t}`").collect()
    # One more small append so the latest version is past the last checkpoint.
    extra = tl.generate_events(50, seed=13)
    tl.events_to_spark(spark, extra).write.format("delta").mode("append").save(t)

    spark_version = spark.sql(f"DESCRIBE HISTORY delta.`{t}`").agg({"version": "max"}).first()[0]
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{t}`").first()
    spark_count = spark.read.format("delta").load(t).count()
    assert spark_count == len(events) + len(more) + len(extra)
    with open(os.path.join(t, "_delta_log", "_last_checkpoint")) as f:
        last_checkpoint = json.load(f)["version"]
    assert last_checkpoint >= 2

    d = tl.describe(t)
    assert d["version"] == spark_version
    assert d["rows"] == spark_count
    assert d["files"] == detail["numFiles"]
    assert d["bytes"] == detail["sizeInBytes"]
    assert d["checkpointVersion"] == last_checkpoint
    assert sum(p["rows"] for p in d["partitions"]) == spark_count
    assert sum(p["files"] for p in d["partitions"]) == detail["numFiles"]

    # lakelog appends on top of Spark's checkpoint and configuration.
    ours = tl.generate_events(300, seed=14)
    run = tl.ingest(t, ours, batch_rows=100)
    assert run.summary["version"] == spark_version + 3
    df = spark.read.format("delta").load(t)
    everything = events + more + extra + ours
    actual = tl.rows_from_spark(df)
    expected = tl.expected_rows(everything)
    assert actual == expected, tl.first_diff(actual, expected)
    d = tl.describe(t)
    assert d["version"] == run.summary["version"]
    assert d["rows"] == len(everything)


def test_checkpoint_from_spark_on_lakelog_only_history(spark, tmp_path, lakelog_bin):
    """Spark writes a checkpoint of a table whose every commit is lakelog's; lakelog then reads
    the table from that checkpoint (its JSON commits up to it removed, as a log cleanup would)."""
    t = str(tmp_path / "cp")
    events = tl.generate_events(500, seed=15)
    run = tl.ingest(t, events, batch_rows=100)
    version = run.summary["version"]
    spark.sql(f"ALTER TABLE delta.`{t}` SET TBLPROPERTIES ('delta.checkpointInterval' = '1')")
    # The ALTER is version+1 and, with interval 1, is checkpointed.
    with open(os.path.join(t, "_delta_log", "_last_checkpoint")) as f:
        cp = json.load(f)["version"]
    assert cp == version + 1
    for v in range(cp):
        os.remove(os.path.join(t, "_delta_log", f"{v:020d}.json"))
    d = tl.describe(t)
    assert d["version"] == cp
    assert d["checkpointVersion"] == cp
    assert d["rows"] == len(events)
    assert d["files"] == spark.sql(f"DESCRIBE DETAIL delta.`{t}`").first()["numFiles"]
    more = tl.generate_events(100, seed=16)
    run = tl.ingest(t, more, batch_rows=1000)
    assert run.summary["version"] == cp + 1
    assert spark.read.format("delta").load(t).count() == len(events) + len(more)
