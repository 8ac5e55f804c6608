"""Table health with the real engines: `lakelog vacuum` and lakelog's log cleanup, judged by
delta-rs and Spark.

- delta-rs's own VACUUM (dry run) lists exactly the files ours deletes, on our table compacted by
  delta-rs and on a table Spark wrote and overwrote;
- after our VACUUM every row is still read by delta-rs and Spark, Spark's DESCRIBE HISTORY shows
  VACUUM START / VACUUM END, and time travel to before the compaction works until the vacuum;
- tables with deletion vectors are refused untouched;
- after the log cleanup that follows a checkpoint (commits older than delta.logRetentionDuration,
  up to the newest old-enough checkpoint), delta-rs, Spark and lakelog read the table whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from deltalake import DeltaTable

import lakelog_testlib as tl

DAY = 86_400


def vacuum(table: str, *args: str, expect_exit: int = 0) -> dict:
    proc = tl.run_lakelog(["vacuum", "--table", table, "--json", *args])
    assert proc.returncode == expect_exit, tl.describe_proc(proc)
    return tl.parse_single_json(proc) if expect_exit == 0 else {}


def deltars_vacuum_list(table: str) -> list[str]:
    """delta-rs's dry-run VACUUM with zero retention, as paths relative to the table root."""
    files = DeltaTable(table).vacuum(retention_hours=0, dry_run=True,
                                     enforce_retention_duration=False)
    root = os.path.abspath(table).rstrip("/") + "/"
    out = []
    for f in files:
        f = f.removeprefix("file://")
        out.append(f[len(root):] if f.startswith(root) else f)
    return sorted(out)


def age_files(paths, seconds: int, root: str = "") -> None:
    """Moves the modification time of `paths` (relative to `root`) `seconds` into the past."""
    then = time.time() - seconds
    for p in paths:
        os.utime(os.path.join(root, p), (then, then))


def test_vacuum_matches_deltars_after_compaction_and_readers_agree(table, spark):
    events = tl.generate_events(600, seed=7)
    tl.ingest(table, events, batch_rows=60)  # 10 commits, several small files per partition
    before = DeltaTable(table).version()
    DeltaTable(table).optimize.compact()
    removed_version = DeltaTable(table).version()
    assert removed_version == before + 1
    # Files younger than the retention are never deleted; age every data file past 1 hour.
    age_files(tl.data_files_on_disk(table), 2 * 3600, table)
    expected = deltars_vacuum_list(table)
    assert expected, "delta-rs's compaction removed no file"

    dry = vacuum(table, "--retain", "0h", "--force", "--dry-run")
    assert sorted(f["path"] for f in dry["files"]) == expected
    assert dry["start_version"] is None
    assert DeltaTable(table).version() == removed_version  # a dry run commits nothing

    # Time travel to before the compaction works until the vacuum...
    old = spark.read.format("delta").option("versionAsOf", before).load(table)
    assert tl.rows_from_spark(old) == tl.sort_rows(tl.expected_rows(events))

    done = vacuum(table, "--retain", "0h", "--force")
    assert sorted(f["path"] for f in done["files"]) == expected
    assert done["end_version"] == done["start_version"] + 1
    for rel in expected:
        assert not os.path.exists(os.path.join(table, rel))

    # ...and every row is still there for both engines.
    expected_rows = tl.sort_rows(tl.expected_rows(events))
    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == expected_rows
    assert tl.rows_from_spark(spark.read.format("delta").load(table)) == expected_rows
    ops = [r["operation"] for r in
           spark.sql(f"DESCRIBE HISTORY delta.`{table}`").orderBy("version").collect()]
    assert ops[-2:] == ["VACUUM START", "VACUUM END"], ops
    assert "OPTIMIZE" in ops
    # After the vacuum, reading the version before the compaction fails: its files are gone.
    with pytest.raises(Exception):
        spark.read.format("delta").option("versionAsOf", before).load(table).collect()


def test_vacuum_keeps_files_within_the_default_retention(table):
    events = tl.generate_events(200, seed=8)
    tl.ingest(table, events, batch_rows=50)
    DeltaTable(table).optimize.compact()
    orphan = os.path.join(table, "pipeline=ingestion", "orphan-of-a-crashed-writer.parquet")
    os.makedirs(os.path.dirname(orphan), exist_ok=True)
    with open(orphan, "wb") as f:
        f.write(b"x" * 10)
    age_files([orphan], 8 * DAY)
    proc = tl.run_lakelog(["vacuum", "--table", table, "--retain", "1h"])
    assert proc.returncode == 1, tl.describe_proc(proc)
    assert b"--force" in proc.stderr and b"deletedFileRetentionDuration" in proc.stderr
    done = vacuum(table)  # the table's week: the removed files (just now) stay, the orphan goes
    assert [f["path"] for f in done["files"]] == ["pipeline=ingestion/orphan-of-a-crashed-writer.parquet"]
    assert not os.path.exists(orphan)
    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == \
        tl.sort_rows(tl.expected_rows(events))


def test_vacuum_of_a_table_spark_wrote_and_overwrote(tmp_path, spark, lakelog_bin):
    table = str(tmp_path / "spark_table")
    spark.range(0, 100).selectExpr("id", "id % 3 AS part").write.format("delta") \
        .partitionBy("part").save(table)
    spark.range(100, 150).selectExpr("id", "id % 3 AS part").write.format("delta") \
        .mode("overwrite").partitionBy("part").save(table)
    age_files(tl.data_files_on_disk(table), 2 * 3600, table)
    expected = deltars_vacuum_list(table)
    assert expected
    done = vacuum(table, "--retain", "0h", "--force")
    assert sorted(f["path"] for f in done["files"]) == expected
    ids = sorted(r["id"] for r in spark.read.format("delta").load(table).collect())
    assert ids == list(range(100, 150))
    assert sorted(DeltaTable(table).to_pyarrow_table().column("id").to_pylist()) == ids


def test_vacuum_refuses_a_table_with_deletion_vectors(tmp_path, spark, lakelog_bin):
    table = str(tmp_path / "dv_table")
    spark.range(0, 100).write.format("delta") \
        .option("delta.enableDeletionVectors", "true").save(table)
    spark.sql(f"DELETE FROM delta.`{table}` WHERE id % 2 = 0")
    files_before = sorted(tl.tree_listing(table))
    proc = tl.run_lakelog(["vacuum", "--table", table, "--retain", "0h", "--force"])
    assert proc.returncode == 1, tl.describe_proc(proc)
    assert b"deletionVectors" in proc.stderr, tl.describe_proc(proc)
    assert sorted(tl.tree_listing(table)) == files_before
    assert spark.read.format("delta").load(table).count() == 50


def test_log_cleanup_after_a_checkpoint_keeps_the_table_readable(table, spark):
    events = tl.generate_events(1500, seed=9)
    tl.ingest(table, events, batch_rows=100)  # versions 1..15, our checkpoint at 10
    log = tl.log_dir(table)
    # Commits 0..12 are 40 days old; 13 and later are recent.
    age_files([os.path.join(log, f"{v:020d}.json") for v in range(13)], 40 * DAY)
    proc = tl.run_lakelog(["checkpoint", "--table", table])  # checkpoint 15, then the cleanup
    assert proc.returncode == 0, tl.describe_proc(proc)
    out = tl.parse_single_json(proc)
    # The newest checkpoint past 30 days is 10 (15's commit is recent): commits 0..9 and
    # nothing else go.
    assert out["logCleanedBelow"] == 10, out
    assert tl.commit_versions(table) == list(range(10, 16))
    expected_rows = tl.sort_rows(tl.expected_rows(events))
    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == expected_rows
    assert tl.rows_from_spark(spark.read.format("delta").load(table)) == expected_rows
    assert tl.describe(table)["rows"] == len(events)
    # Every version still in the log can be rebuilt (time travel from checkpoint 10). Spark
    # refuses time travel to a commit older than delta.deletedFileRetentionDuration (11 and 12
    # are 40 days old here), so it reads 13; delta-rs reads 11.
    assert len(DeltaTable(table, version=11).to_pyarrow_table()) == 1100
    assert spark.read.format("delta").option("versionAsOf", 13).load(table).count() == 1300
    # And appends go on.
    more = tl.generate_events(100, seed=10)
    tl.ingest(table, more)
    assert len(DeltaTable(table).to_pyarrow_table()) == len(events) + 100


def optimize(table: str, *args: str, expect_exit: int = 0) -> dict:
    proc = tl.run_lakelog(["optimize", "--table", table, "--json", *args])
    assert proc.returncode == expect_exit, tl.describe_proc(proc)
    return tl.parse_single_json(proc) if expect_exit == 0 else {}


def test_optimize_is_read_by_spark_and_deltars_and_vacuumed_like_deltars(table, spark):
    ours = tl.generate_events(800, seed=11)
    tl.ingest(table, ours, batch_rows=80)  # 10 small files per partition
    theirs = tl.generate_events(200, seed=12)
    tl.events_to_spark(spark, theirs).write.format("delta").mode("append").save(table)
    events = ours + theirs
    expected_rows = tl.sort_rows(tl.expected_rows(events))
    before = DeltaTable(table).version()
    files_before = len(tl.active_adds(table))

    done = optimize(table)
    assert done["version"] == before + 1
    assert done["rows"] == len(events) and done["files_skipped"] == 0
    assert done["files_removed"] == files_before - len(tl.active_adds(table)) + done["files_added"]
    actions = tl.read_commit(table, done["version"])
    assert all(not a["add"]["dataChange"] for a in actions if "add" in a)
    assert all(not a["remove"]["dataChange"] for a in actions if "remove" in a)

    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == expected_rows
    assert tl.rows_from_spark(spark.read.format("delta").load(table)) == expected_rows
    history = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").orderBy("version").collect()
    last = history[-1]
    assert last["operation"] == "OPTIMIZE"
    assert last["operationMetrics"]["numRemovedFiles"] == str(done["files_removed"])
    assert last["operationMetrics"]["numAddedFiles"] == str(done["files_added"])
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{table}`").collect()[0]
    assert detail["numFiles"] == len(tl.active_adds(table))
    # Time travel to before the compaction reads the old files, until a vacuum removes them.
    old = spark.read.format("delta").option("versionAsOf", before).load(table)
    assert tl.rows_from_spark(old) == expected_rows

    age_files(tl.data_files_on_disk(table), 2 * 3600, table)
    expected_vacuum = deltars_vacuum_list(table)
    assert len(expected_vacuum) == done["files_removed"]
    dry = vacuum(table, "--retain", "0h", "--force", "--dry-run")
    assert sorted(f["path"] for f in dry["files"]) == expected_vacuum
    # A second OPTIMIZE finds nothing left to compact.
    assert optimize(table)["version"] is None


def test_optimize_where_touches_only_matching_partitions(table):
    events = tl.generate_events(600, seed=13)
    tl.ingest(table, events, batch_rows=100)
    adds = tl.active_adds(table)
    pipeline = sorted({a["partitionValues"]["pipeline"] for a in adds.values()})[0]
    done = optimize(table, "--where", f"pipeline = '{pipeline}'")
    removed = [a["remove"] for a in tl.read_commit(table, done["version"]) if "remove" in a]
    assert removed and all(r["partitionValues"]["pipeline"] == pipeline for r in removed)
    proc = tl.run_lakelog(["optimize", "--table", table, "--where", "stage = 'x'"])
    assert proc.returncode == 2 and b"partition columns only" in proc.stderr, tl.describe_proc(proc)
    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == \
        tl.sort_rows(tl.expected_rows(events))


def test_optimize_while_writers_append_loses_and_doubles_nothing(table, tmp_path):
    seed = tl.generate_events(300, seed=14)
    tl.ingest(table, seed, batch_rows=30)
    inputs, procs = [], []
    for p in range(2):
        events = tl.generate_events(600, seed=15 + p)
        path = tmp_path / f"in{p}.ndjson"
        path.write_bytes(tl.lines_to_bytes(events))
        inputs += events
        procs.append(subprocess.Popen(
            [tl.lakelog_path(), "ingest", "--table", table, "--input", str(path),
             "--batch-rows", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    optimized = 0
    while any(p.poll() is None for p in procs):
        proc = tl.run_lakelog(["optimize", "--table", table, "--json"])
        # A compaction may lose to another commit that removed its inputs: never here (only
        # appends run beside it), so every run commits or finds nothing to do.
        assert proc.returncode == 0, tl.describe_proc(proc)
        optimized += tl.parse_single_json(proc)["version"] is not None
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err.decode()
    assert optimized >= 1
    final = optimize(table)
    assert tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table()) == \
        tl.sort_rows(tl.expected_rows(seed + inputs))
    assert tl.commit_versions(table) == list(range(0, DeltaTable(table).version() + 1))
