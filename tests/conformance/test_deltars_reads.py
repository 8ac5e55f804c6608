"""delta-rs reads a table lakelog wrote — values and per-file statistics — then appends to it,
and lakelog's describe/history see delta-rs's commit."""

from __future__ import annotations

import os
import urllib.parse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

import lakelog_testlib as tl

STAT_STRING_COLUMNS = tl.DATA_STRING_COLUMNS
STRING_PREFIX = 32  # Delta stats cut strings to 32 characters


@pytest.fixture(scope="module")
def landed(tmp_path_factory, lakelog_bin):
    events = tl.generate_events(1200, seed=21) + tl.edge_events()
    table = str(tmp_path_factory.mktemp("deltars") / "pipeline_logs")
    run = tl.ingest(table, events, batch_rows=500)
    return table, events, run.summary


def test_values_equal_input(landed):
    table, events, summary = landed
    dt_ = DeltaTable(table)
    assert dt_.version() == summary["version"]
    data = dt_.to_pyarrow_table()
    actual = tl.rows_from_arrow(data)
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)


def test_schema_as_delta_rs_sees_it(landed):
    table, _, _ = landed
    dt_ = DeltaTable(table)
    assert dt_.metadata().partition_columns == ["pipeline", "log_date"]
    fields = {f.name: f.type for f in pa.schema(dt_.schema().to_arrow())}
    assert fields["ts"] == pa.timestamp("us", tz="UTC")
    assert fields["log_date"] == pa.date32()
    assert pa.types.is_map(fields["attributes"])
    protocol = dt_.protocol()
    assert (protocol.min_reader_version, protocol.min_writer_version) == (1, 2)


def _file_truth(table: str, rel_path: str) -> pa.Table:
    return pq.ParquetFile(os.path.join(table, rel_path)).read()


def _check_string_min(stat, actual, where):
    if len(actual) <= STRING_PREFIX:
        assert stat == actual, f"{where}: {stat!r} vs {actual!r}"
    else:  # a cut min is a prefix of the true min
        assert actual.startswith(stat) and 0 < len(stat) <= STRING_PREFIX, \
            f"{where}: {stat!r} vs {actual!r:.80}"


def _check_string_max(stat, actual, where):
    if len(actual) <= STRING_PREFIX:
        assert stat == actual, f"{where}: {stat!r} vs {actual!r}"
    else:  # a cut max keeps a prefix plus a tie-breaker, so it stays >= the true max
        assert 0 < len(stat) <= STRING_PREFIX + 1 and actual.startswith(stat[:-1]), \
            f"{where}: {stat!r} vs {actual!r:.80}"
        assert stat.encode("utf-8") > actual.encode("utf-8"), f"{where}: {stat!r} vs {actual!r:.80}"


def test_per_file_stats_match_file_contents(landed):
    table, _, _ = landed
    actions = pa.table(DeltaTable(table).get_add_actions(flatten=True)).to_pylist()
    assert actions, "no add actions"
    on_disk = set(tl.data_files_on_disk(table))
    for a in actions:
        path = urllib.parse.unquote(a["path"])  # delta-rs reports add.path URI-encoded
        assert path in on_disk, f"add.path {path!r} is not a data file in the table"
        assert a["size_bytes"] == os.path.getsize(os.path.join(table, path))
        data = _file_truth(table, path)
        where = f"file {path}"
        assert a["num_records"] == data.num_rows, where
        # ts: truncated to milliseconds
        ts = pc.cast(data.column("ts"), pa.int64())
        assert a["null_count.ts"] == ts.null_count, where
        mn, mx = pc.min(ts).as_py(), pc.max(ts).as_py()
        stat_min = tl.ts_micros_of(a["min.ts"])
        stat_max = tl.ts_micros_of(a["max.ts"])
        assert stat_min == mn - mn % 1000, f"{where}: min.ts {a['min.ts']} vs {mn}"
        assert stat_max == mx - mx % 1000, f"{where}: max.ts {a['max.ts']} vs {mx}"
        for col in STAT_STRING_COLUMNS:
            values = [v for v in data.column(col).to_pylist() if v is not None]
            nulls = data.num_rows - len(values)
            assert a.get(f"null_count.{col}") == nulls, f"{where} null_count.{col}"
            if not values:
                assert a.get(f"min.{col}") is None and a.get(f"max.{col}") is None, where
                continue
            # Delta orders strings by their UTF-8 bytes.
            lo = min(values, key=lambda s: s.encode("utf-8"))
            hi = max(values, key=lambda s: s.encode("utf-8"))
            _check_string_min(a[f"min.{col}"], lo, f"{where} min.{col}")
            _check_string_max(a[f"max.{col}"], hi, f"{where} max.{col}")
        if "null_count.attributes" in a and a["null_count.attributes"] is not None:
            assert a["null_count.attributes"] == data.column("attributes").null_count, where
        # partition values come from the log and match the rows' content
        pipelines = set(data.column("pipeline").to_pylist()) if "pipeline" in \
            data.column_names else None
        if pipelines is not None:  # a data file need not hold partition columns; if it does:
            assert pipelines == {a["partition.pipeline"]}, where
        days = {tl.date_of_micros(v) for v in ts.to_pylist() if v is not None}
        assert days == {a["partition.log_date"].isoformat()}, where


def test_delta_rs_append_seen_by_lakelog(landed, tmp_path):
    import shutil
    table, events, summary = landed
    t = str(tmp_path / "appended")
    shutil.copytree(table, t)
    more = tl.generate_events(250, seed=22) + [
        {"pipeline": "", "ts": "2026-11-23T01:02:03.000004Z", "message": "delta-rs null part"}]
    write_deltalake(t, tl.events_to_arrow(more), mode="append",
                    partition_by=["pipeline", "log_date"])
    dt_ = DeltaTable(t)
    assert dt_.version() == summary["version"] + 1

    d = tl.describe(t)
    assert d["version"] == dt_.version()
    assert d["rows"] == len(events) + len(more)
    actions = pa.table(dt_.get_add_actions(flatten=True))
    assert d["files"] == actions.num_rows
    assert d["bytes"] == sum(actions.column("size_bytes").to_pylist())

    hist = tl.history_json(t)
    assert [h["version"] for h in hist] == list(range(dt_.version() + 1))
    assert hist[-1]["operation"] == "WRITE"
    assert hist[-1]["timestamp"] == dt_.history(1)[0]["timestamp"]

    # lakelog appends after delta-rs, and delta-rs reads the lot.
    ours = tl.generate_events(100, seed=23)
    run = tl.ingest(t, ours)
    assert run.summary["version"] == dt_.version() + 1
    actual = tl.rows_from_arrow(DeltaTable(t).to_pyarrow_table())
    expected = tl.expected_rows(events + more + ours)
    assert actual == expected, tl.first_diff(actual, expected)


def test_history_matches_delta_rs(landed):
    table, _, summary = landed
    ours = tl.history_json(table)
    theirs = sorted(DeltaTable(table).history(), key=lambda h: h["version"])
    assert [h["version"] for h in ours] == [h["version"] for h in theirs]
    assert [h["operation"] for h in ours] == [h["operation"] for h in theirs]
    assert [h["timestamp"] for h in ours] == [h["timestamp"] for h in theirs]
    for h in ours:
        assert isinstance(h["parameters"], dict) and isinstance(h["metrics"], dict), h
