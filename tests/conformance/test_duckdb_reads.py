"""DuckDB's own Parquet reader reads every data file of a lakelog table (the file list from
delta-rs; partition values from the log, joined per file)."""

from __future__ import annotations

import urllib.parse

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

import lakelog_testlib as tl


def _local_path(uri: str) -> str:
    if uri.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(uri).path)
    return uri


def test_duckdb_reads_every_row(table):
    events = tl.generate_events(1500, seed=31) + tl.edge_events()
    run = tl.ingest(table, events, batch_rows=700)
    dt_ = DeltaTable(table)
    assert dt_.version() == run.summary["version"]

    # Partition values per file, from the log (as delta-rs reports them).
    adds = pa.table(dt_.get_add_actions(flatten=True)).to_pylist()
    partitions = {}
    for a in adds:
        # delta-rs reports add.path as stored (URI-encoded); file_uris() are decoded paths.
        partitions[urllib.parse.unquote(a["path"])] = (a["partition.pipeline"],
                                                       a["partition.log_date"].isoformat())
    uris = dt_.file_uris()
    assert len(uris) == len(adds) == run.summary["files"]
    by_file = {}
    local_of = {}
    for uri in uris:
        local = _local_path(uri)
        rel = next(p for p in partitions if local.endswith("/" + p))
        by_file[local] = partitions[rel]
        local_of[rel] = local

    con = duckdb.connect()
    result = con.execute(
        """SELECT filename, epoch_us(ts), level, stage, status, message, run_id, host,
                  map_entries(attributes)
           FROM read_parquet(?, filename = true, hive_partitioning = false)""",
        [sorted(by_file)]).fetchall()
    rows = []
    for filename, ts, level, stage, status, message, run_id, host, entries in result:
        pipeline, log_date = by_file[filename]
        attrs = tuple(sorted((e["key"], e["value"]) for e in entries or []))
        rows.append((pipeline, log_date, ts, level, stage, status, message, run_id, host, attrs))
    actual = tl.sort_rows(rows)
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)

    counts = dict(con.execute(
        "SELECT filename, count(*) FROM read_parquet(?, filename = true, hive_partitioning = false)"
        " GROUP BY filename", [sorted(by_file)]).fetchall())
    for a in adds:
        assert counts[local_of[urllib.parse.unquote(a["path"])]] == a["num_records"], \
            f"{a['path']}: numRecords vs DuckDB count"


def test_duckdb_reads_column_types(table):
    tl.ingest(table, tl.generate_events(50, seed=32))
    files = [_local_path(u) for u in DeltaTable(table).file_uris()]
    con = duckdb.connect()
    types = dict(con.execute(
        "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?, "
        "hive_partitioning = false))", [files]).fetchall())
    assert types["ts"] == "TIMESTAMP WITH TIME ZONE"
    for c in tl.DATA_STRING_COLUMNS:
        assert types[c] == "VARCHAR", (c, types)
    assert types["attributes"] == "MAP(VARCHAR, VARCHAR)"
