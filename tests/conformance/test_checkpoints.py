"""lakelog's own classic checkpoints (every 10 commits): pyarrow reads the file and finds the
table's state in it, and delta-rs, Spark and lakelog read the table through it once the JSON
commits it covers are deleted, as a log cleanup would."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

import lakelog_testlib as tl

BATCH_ROWS = 100
CHECKPOINT = 10  # the default delta.checkpointInterval


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory, lakelog_bin):
    """A table of 1,300 generated events plus the edge cases (hostile and null pipelines),
    ingested in batches of 100: 14 commits after the creation, a checkpoint at version 10."""
    events = tl.generate_events(1300, seed=31) + tl.edge_events()
    table = str(tmp_path_factory.mktemp("checkpoints") / "pipeline_logs")
    run = tl.ingest(table, events, batch_rows=BATCH_ROWS)
    assert run.summary["version"] > CHECKPOINT, run.summary
    return table, events, run.summary


def checkpoint_path(table: str, version: int) -> str:
    return os.path.join(tl.log_dir(table), f"{version:020d}.checkpoint.parquet")


def state_at(table: str, version: int) -> tuple[dict, dict, dict]:
    """(protocol, metaData, live adds by decoded path) replayed from JSON commits 0..version."""
    protocol, metadata, live = {}, {}, {}
    for v in range(version + 1):
        for a in tl.read_commit(table, v):
            if "protocol" in a:
                protocol = a["protocol"]
            elif "metaData" in a:
                metadata = a["metaData"]
            elif "add" in a:
                live[urllib.parse.unquote(a["add"]["path"])] = a["add"]
            elif "remove" in a:
                live.pop(urllib.parse.unquote(a["remove"]["path"]), None)
    return protocol, metadata, live


def test_checkpoint_and_hint_are_written(checkpointed):
    table, _, summary = checkpointed
    names = os.listdir(tl.log_dir(table))
    checkpoints = sorted(n for n in names if n.endswith(".checkpoint.parquet"))
    expected = [f"{v:020d}.checkpoint.parquet"
                for v in range(CHECKPOINT, summary["version"] + 1, CHECKPOINT)]
    assert checkpoints == expected
    assert summary["checkpoints"] == len(expected)
    assert not [n for n in names if ".tmp" in n], names  # no temp file left behind
    with open(os.path.join(tl.log_dir(table), "_last_checkpoint")) as f:
        hint = json.load(f)
    assert hint["version"] == int(expected[-1][:20])
    data = pq.read_table(checkpoint_path(table, hint["version"]))
    assert hint["size"] == data.num_rows
    assert hint["sizeInBytes"] == os.path.getsize(checkpoint_path(table, hint["version"]))


def test_pyarrow_reads_the_state_of_the_version(checkpointed):
    table, _, _ = checkpointed
    data = pq.read_table(checkpoint_path(table, CHECKPOINT))
    schema = data.schema
    add = schema.field("add").type
    assert add.field("path").type == pa.string()
    assert add.field("size").type == pa.int64()
    assert add.field("dataChange").type == pa.bool_()
    assert add.field("partitionValues").type == pa.map_(pa.string(), pa.string())
    protocol_type = schema.field("protocol").type
    assert protocol_type.field("minReaderVersion").type == pa.int32()
    assert schema.field("metaData").type.field("partitionColumns").type.value_type == pa.string()

    protocol, metadata, live = state_at(table, CHECKPOINT)
    rows = data.to_pylist()
    # Every row is exactly one action.
    for row in rows:
        assert sum(row[k] is not None for k in ("txn", "add", "remove", "metaData",
                                                  "protocol")) == 1, row
    protocols = [r["protocol"] for r in rows if r["protocol"] is not None]
    assert len(protocols) == 1
    assert protocols[0]["minReaderVersion"] == protocol["minReaderVersion"]
    assert protocols[0]["minWriterVersion"] == protocol["minWriterVersion"]
    metas = [r["metaData"] for r in rows if r["metaData"] is not None]
    assert len(metas) == 1
    assert metas[0]["id"] == metadata["id"]
    assert metas[0]["schemaString"] == metadata["schemaString"]
    assert metas[0]["partitionColumns"] == metadata["partitionColumns"]
    assert metas[0]["format"]["provider"] == "parquet"

    adds = {urllib.parse.unquote(r["add"]["path"]): r["add"] for r in rows if r["add"] is not None}
    assert sorted(adds) == sorted(live)
    for path, a in adds.items():
        want = live[path]
        assert a["path"] == want["path"]  # the same URI-encoded form as the JSON log
        assert dict(a["partitionValues"]) == want["partitionValues"], path
        assert a["size"] == want["size"]
        assert a["modificationTime"] == want["modificationTime"]
        assert a["stats"] == want["stats"]
        assert a["dataChange"] is False


@pytest.fixture(scope="module")
def truncated(checkpointed, tmp_path_factory):
    """A copy of the table without the JSON commits before the checkpoint."""
    table, events, summary = checkpointed
    t = str(tmp_path_factory.mktemp("truncated") / "pipeline_logs")
    shutil.copytree(table, t)
    for v in range(CHECKPOINT):
        os.remove(os.path.join(tl.log_dir(t), f"{v:020d}.json"))
    return t, events, summary


def test_delta_rs_reads_through_our_checkpoint(truncated):
    t, events, summary = truncated
    dt_ = DeltaTable(t)
    assert dt_.version() == summary["version"]
    actual = tl.rows_from_arrow(dt_.to_pyarrow_table())
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)


def test_spark_reads_through_our_checkpoint(spark, truncated):
    t, events, summary = truncated
    df = spark.read.format("delta").load(t)
    actual = tl.rows_from_spark(df)
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{t}`").first()
    # Every data file lakelog wrote is live (nothing was removed).
    assert detail["numFiles"] == len(tl.data_files_on_disk(t))


def test_lakelog_reads_and_appends_through_our_checkpoint(truncated):
    t, events, summary = truncated
    d = tl.describe(t)
    assert d["version"] == summary["version"]
    assert d["checkpointVersion"] == CHECKPOINT
    assert d["rows"] == len(events)
    more = tl.generate_events(50, seed=32)
    run = tl.ingest(t, more, batch_rows=1000)
    assert run.summary["version"] == summary["version"] + 1
    assert DeltaTable(t).to_pyarrow_table().num_rows == len(events) + len(more)


def test_a_table_we_cannot_checkpoint_gets_a_warning_not_a_failure(tmp_path, lakelog_bin):
    """A table whose protocol lists domainMetadata (state lakelog does not carry) is appended to
    as before, but its checkpoint is refused: `ingest` says so on stderr and writes none."""
    t = str(tmp_path / "domains")
    tl.ingest(t, tl.generate_events(5, seed=33))
    commit0 = os.path.join(tl.log_dir(t), f"{0:020d}.json")
    with open(commit0, encoding="utf-8") as f:
        actions = [json.loads(line) for line in f if line.strip()]
    for a in actions:
        if "protocol" in a:
            a["protocol"] = {"minReaderVersion": 1, "minWriterVersion": 7,
                             "writerFeatures": ["domainMetadata"]}
    with open(commit0, "w", encoding="utf-8") as f:
        f.write("".join(json.dumps(a) + "\n" for a in actions))
    events = tl.generate_events(1000, seed=34)
    run = tl.ingest(t, events, batch_rows=100)
    assert run.summary["version"] == 11
    assert run.summary["checkpoints"] == 0
    stderr = run.proc.stderr.decode()
    assert "checkpoint of version 10 not written" in stderr and "domainMetadata" in stderr, stderr
    assert not [n for n in os.listdir(tl.log_dir(t)) if "checkpoint" in n]
    assert DeltaTable(t).to_pyarrow_table().num_rows == 1005


def test_checkpoint_command_checkpoints_the_latest_version(tmp_path, lakelog_bin):
    """`lakelog checkpoint` on a table of 4 versions (no automatic checkpoint yet): the file and
    hint for version 3 appear, its figures match the table, and delta-rs reads the table with
    commits 0-2 deleted. A directory without a table is exit 1 with a message."""
    t = str(tmp_path / "manual")
    events = tl.generate_events(300, seed=35)
    run = tl.ingest(t, events, batch_rows=100)
    version = run.summary["version"]
    assert version == 3 and run.summary["checkpoints"] == 0
    proc = tl.run_lakelog(["checkpoint", "--table", t, "--compression", "snappy"])
    assert proc.returncode == 0, tl.describe_proc(proc)
    out = tl.parse_single_json(proc)
    assert out["version"] == version
    assert out["addFiles"] == len(tl.data_files_on_disk(t))
    assert out["actions"] == out["addFiles"] + 2  # + protocol, metaData (no txn, no removes)
    assert out["sizeInBytes"] == os.path.getsize(checkpoint_path(t, version))
    assert pq.ParquetFile(checkpoint_path(t, version)).metadata.row_group(0).column(0) \
        .compression == "SNAPPY"
    for v in range(version):
        os.remove(os.path.join(tl.log_dir(t), f"{v:020d}.json"))
    assert DeltaTable(t).to_pyarrow_table().num_rows == len(events)
    assert tl.describe(t)["checkpointVersion"] == version

    proc = tl.run_lakelog(["checkpoint", "--table", str(tmp_path / "nothing")])
    assert proc.returncode == 1, tl.describe_proc(proc)
    assert b"checkpoint" in proc.stderr


SPARK_TABLE_COLUMNS = ("pipeline STRING, log_date DATE, ts TIMESTAMP, level STRING, stage STRING, "
                       "status STRING, message STRING, run_id STRING, host STRING, "
                       "attributes MAP<STRING, STRING>")


def test_checkpoint_keeps_the_comment_of_a_spark_table(spark, tmp_path, lakelog_bin):
    """Spark creates the table with a COMMENT (its metaData.description); lakelog appends ten
    commits and so writes the checkpoint of version 10. pyarrow finds the comment in that
    checkpoint's metaData row, and once the JSON commits before it are deleted (commit 10, which
    has no metaData, stays), Spark's DESCRIBE DETAIL, which can now only learn the table's
    metaData from our checkpoint, still shows it."""
    comment = "Pipeline logs — kept 90 days, 'quoted'"
    t = str(tmp_path / "commented")
    escaped = comment.replace("\\", "\\\\").replace("'", "\\'")
    spark.sql(f"CREATE TABLE delta.`{t}` ({SPARK_TABLE_COLUMNS}) USING delta "
              f"COMMENT '{escaped}' PARTITIONED BY (pipeline, log_date)")
    created = [a["metaData"] for a in tl.read_commit(t, 0) if "metaData" in a]
    assert len(created) == 1 and created[0].get("description") == comment, created
    # Spark leaves the name of a path-based table null; lakelog must not invent one either.
    assert created[0].get("name") is None, created

    events = tl.generate_events(1000, seed=36)
    run = tl.ingest(t, events, batch_rows=BATCH_ROWS)
    assert run.summary["version"] == CHECKPOINT, run.summary
    assert run.summary["checkpoints"] == 1, run.summary
    cp = checkpoint_path(t, CHECKPOINT)
    assert os.path.exists(cp)
    assert pq.ParquetFile(cp).metadata.created_by.startswith("lakelog"), \
        pq.ParquetFile(cp).metadata.created_by
    metas = [r["metaData"] for r in pq.read_table(cp).to_pylist() if r["metaData"] is not None]
    assert len(metas) == 1
    assert metas[0]["description"] == comment
    assert metas[0]["name"] is None
    assert metas[0]["id"] == created[0]["id"]

    # A fresh path, so that no DeltaLog Spark cached while creating the table is reused.
    truncated = str(tmp_path / "commented_truncated")
    shutil.copytree(t, truncated)
    for v in range(CHECKPOINT):
        os.remove(os.path.join(tl.log_dir(truncated), f"{v:020d}.json"))
    assert tl.commit_versions(truncated) == [CHECKPOINT]
    assert not [a for a in tl.read_commit(truncated, CHECKPOINT) if "metaData" in a]
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{truncated}`").first()
    assert detail["description"] == comment, detail
    assert detail["id"] == created[0]["id"], detail
    assert spark.read.format("delta").load(truncated).count() == len(events)
    # lakelog opens the table through its checkpoint and appends; the comment is still there.
    more = tl.generate_events(50, seed=37)
    run = tl.ingest(truncated, more, batch_rows=1000)
    assert run.summary["version"] == CHECKPOINT + 1
    assert spark.sql(f"DESCRIBE DETAIL delta.`{truncated}`").first()["description"] == comment
    described = tl.describe(truncated)
    assert described["description"] == comment, described
    assert described["name"] is None, described


def test_lakelog_reads_through_a_delta_rs_checkpoint(tmp_path, lakelog_bin):
    """delta-rs appends to our table, compacts it (tombstones) and writes the checkpoint in its
    own layout (its column types, stats_parsed and partitionValues_parsed where it writes them);
    once the JSON commits before the checkpoint are deleted, lakelog's columnar checkpoint
    reader alone rebuilds the table and agrees with delta-rs on version, files, rows and bytes.
    Then lakelog appends on top, and delta-rs reads every row."""
    from deltalake import write_deltalake

    t = str(tmp_path / "deltars_checkpoint")
    events = tl.generate_events(800, seed=41) + tl.edge_events()
    tl.ingest(t, events, batch_rows=100)
    more = tl.generate_events(200, seed=42)
    write_deltalake(t, tl.events_to_arrow(more), mode="append",
                    partition_by=["pipeline", "log_date"])
    DeltaTable(t).optimize.compact()
    dt = DeltaTable(t)
    dt.create_checkpoint()
    version = dt.version()
    with open(os.path.join(tl.log_dir(t), "_last_checkpoint")) as f:
        assert json.load(f)["version"] == version
    cp = checkpoint_path(t, version)
    assert not pq.ParquetFile(cp).metadata.created_by.startswith("lakelog")
    # The checkpoint carries tombstones (the compaction's removes): they must not come back.
    cp_rows = pq.read_table(cp).to_pylist()
    assert any(r.get("remove") is not None for r in cp_rows)
    for v in range(version):
        os.remove(os.path.join(tl.log_dir(t), f"{v:020d}.json"))

    d = tl.describe(t)
    adds = pa.table(DeltaTable(t).get_add_actions(flatten=True))
    assert d["version"] == version
    assert d["checkpointVersion"] == version
    assert d["files"] == adds.num_rows
    assert d["bytes"] == sum(adds.column("size_bytes").to_pylist())
    assert d["rows"] == len(events) + len(more)

    ours = tl.generate_events(100, seed=43)
    run = tl.ingest(t, ours, batch_rows=1000)
    assert run.summary["version"] == version + 1
    assert DeltaTable(t).to_pyarrow_table().num_rows == len(events) + len(more) + len(ours)
