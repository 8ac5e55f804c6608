"""`lakelog optimize --zorder-by`, judged by the real engines.

- data skipping shown: on a table of many small files of random (stage, status), the files
  whose add stats (min/max in _delta_log) can match `stage = X AND status = 'FAILED'` are far
  fewer after the Z-order than before;
- delta-rs and Spark read every row back, and Spark's DESCRIBE HISTORY shows our OPTIMIZE with
  its zOrderBy;
- a partition column or an unknown column is refused (exit 2) and the table is untouched.
"""

from __future__ import annotations

import json
import random

from deltalake import DeltaTable

import lakelog_testlib as tl

STAGES = [f"stage_{i:02d}" for i in range(24)]
STATUSES = ["SUCCESS", "FAILED", "RUNNING", "SKIPPED"]


def scattered_events(n: int, seed: int = 13) -> list[dict]:
    """Events of two pipelines over one day, stage and status uniformly at random."""
    rng = random.Random(seed)
    events = tl.generate_events(n, seed=seed, days=1)
    for i, e in enumerate(events):
        e["pipeline"] = "loader" if i % 2 else "indexer"
        e["stage"] = rng.choice(STAGES)
        e["status"] = rng.choice(STATUSES)
    return events


def files_that_may_match(table: str, stage: str, status: str) -> tuple[int, int]:
    """(files whose stats cannot rule out stage = `stage` AND status = `status`, live files)."""
    adds = tl.active_adds(table)
    may = 0
    for add in adds.values():
        stats = json.loads(add["stats"])
        lo, hi = stats["minValues"], stats["maxValues"]
        if "stage" not in lo or "status" not in lo:
            may += 1  # no bounds: a reader must read the file
            continue
        if lo["stage"] <= stage <= hi["stage"] and lo["status"] <= status <= hi["status"]:
            may += 1
    return may, len(adds)


def test_zorder_lets_readers_skip_files_and_every_engine_reads_every_row(table, spark):
    events = scattered_events(6000)
    tl.ingest(table, events, batch_rows=100)  # 60 commits of small files in every partition
    before_may, before_files = files_that_may_match(table, "stage_07", "FAILED")
    assert before_files >= 100
    assert before_may >= before_files * 0.9, (before_may, before_files)

    proc = tl.run_lakelog(["optimize", "--table", table, "--zorder-by", "stage,status",
                           "--target-file-size", "8192", "--json"])
    assert proc.returncode == 0, tl.describe_proc(proc)
    result = tl.parse_single_json(proc)
    assert result["files_removed"] == before_files
    assert result["rows"] == len(events)

    after_may, after_files = files_that_may_match(table, "stage_07", "FAILED")
    assert after_files >= 8, after_files  # cut near the target, not one file per partition
    assert 1 <= after_may <= before_may / 5, (before_may, after_may, after_files)
    for stage in ("stage_00", "stage_23"):  # the corners of the curve skip as well
        may, _ = files_that_may_match(table, stage, "SUCCESS")
        assert may <= after_files / 3, (stage, may, after_files)

    expected = tl.expected_rows(events)
    got = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    assert got == expected, tl.first_diff(got, expected)
    spark_rows = tl.sort_rows(tl.rows_from_spark(spark.read.format("delta").load(table)))
    assert spark_rows == expected, tl.first_diff(spark_rows, expected)
    # The filtered query gives the same answer as the events say.
    failed = spark.read.format("delta").load(table).where(
        "stage = 'stage_07' AND status = 'FAILED'").count()
    assert failed == sum(1 for e in events if e["stage"] == "stage_07" and e["status"] == "FAILED")

    history = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()
    latest = history[0]
    assert latest["operation"] == "OPTIMIZE"
    assert json.loads(latest["operationParameters"]["zOrderBy"]) == ["stage", "status"]


def test_zorder_by_a_partition_or_unknown_column_is_refused_untouched(table):
    events = scattered_events(300)
    tl.ingest(table, events, batch_rows=100)
    versions = tl.commit_versions(table)
    for columns, message in (("pipeline", "partition column"), ("stage,log_date", "partition column"),
                             ("nosuch", "no such column"), ("attributes", "map column")):
        proc = tl.run_lakelog(["optimize", "--table", table, "--zorder-by", columns])
        assert proc.returncode == 2, tl.describe_proc(proc)
        assert message in proc.stderr.decode(), tl.describe_proc(proc)
    assert tl.commit_versions(table) == versions
    got = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    assert got == tl.expected_rows(events)
