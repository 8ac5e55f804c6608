"""Hostile pipeline names round-trip exactly through Spark and delta-rs (the empty name reads
back as NULL, as the Delta protocol says), and no file is ever created outside the table
directory."""

from __future__ import annotations

import json
import os
import urllib.parse

import pyarrow as pa
import pytest
from deltalake import DeltaTable

import lakelog_testlib as tl

HOSTILE = [
    "a/b", "/leading/slash", "trailing/", "..", ".", "../../etc", "../../../../../../tmp/escape",
    "x/../../../../escape", "a=b", "pipeline=evil/log_date=1999-01-01", "100%", "%2F", "%25",
    "%", "it's", 'say "hi"', "with space", " leading and trailing ", "tab\there", "new\nline",
    "back\\slash", "colon:semi;", "star*?[]{}#^~`|<>", "中文管道", "パイプライン", "🚀🔥 emoji",
    "مرحبا עברית", "e\u0301 combining", "zero\u200bwidth", "__HIVE_DEFAULT_PARTITION__",
    "nul\u0000byte", "",
]


def _events():
    events = []
    for i, name in enumerate(HOSTILE):
        # Two UTC days per name, a few rows each.
        for j in range(3):
            events.append({"pipeline": name, "ts": f"2026-11-2{3 + j % 2}T0{j}:00:0{i % 10}.{i:06d}Z",
                           "status": "FAILED" if j == 0 else "SUCCESS",
                           "message": f"name #{i} row {j}", "run_id": f"run-{i}"})
    return events


@pytest.fixture(scope="module")
def landed(tmp_path_factory, lakelog_bin):
    sandbox = tmp_path_factory.mktemp("hostile")
    deep = sandbox / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (sandbox / "a" / "keep.txt").write_text("untouched")
    table = str(deep / "pipeline_logs")
    # The whole pytest temp tree, so that escapes several levels up are seen too.
    base = str(tmp_path_factory.getbasetemp())
    events = _events()
    input_path = sandbox / "input.ndjson"
    input_path.write_bytes(tl.lines_to_bytes(events))
    before = tl.tree_listing(base), os.path.exists("/tmp/escape"), os.path.exists("/escape")
    run = tl.ingest(table, events, batch_rows=40, input_path=str(input_path))
    after = tl.tree_listing(base, exclude=table), os.path.exists("/tmp/escape"), \
        os.path.exists("/escape")
    return table, events, run, base, before, after


def test_nothing_created_outside_the_table(landed):
    table, _, _, base, (before, *escapes_before), (after, *escapes_after) = landed
    created = after - before - {os.path.relpath(table, base)}
    assert not created, f"files created outside the table directory: {sorted(created)}"
    assert before - after == set(), "files disappeared outside the table directory"
    assert escapes_after == escapes_before, "/tmp/escape or /escape appeared"


def test_every_file_and_add_path_is_inside_the_table(landed):
    table, events, run, _, _, _ = landed
    assert run.summary["accepted"] == len(events)
    root = os.path.realpath(table)
    for dirpath, dirnames, filenames in os.walk(table):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            assert not os.path.islink(full), f"symlink in the table: {full}"
            assert tl.is_inside(root, full), full
    adds = tl.active_adds(table)
    on_disk = set(tl.data_files_on_disk(table))
    for rel, add in adds.items():
        assert not os.path.isabs(rel) and not urllib.parse.urlparse(add["path"]).scheme, rel
        assert tl.is_inside(root, os.path.join(root, rel)), f"add.path escapes: {add['path']!r}"
        assert os.path.normpath(rel) in on_disk, f"add.path has no file: {add['path']!r}"
    assert len(adds) == len(on_disk), "orphan or missing data files"


def test_partition_values_in_log_are_the_names(landed):
    table, events, _, _, _, _ = landed
    got = {(a["partitionValues"]["pipeline"], a["partitionValues"]["log_date"])
           for a in tl.active_adds(table).values()}
    expected = set(tl.events_by_key(events))
    assert got == expected


def test_each_name_has_its_own_directory(landed):
    """Distinct names never share a directory, except the two the protocol maps to the null
    partition directory (the empty name, and the literal __HIVE_DEFAULT_PARTITION__ text)."""
    table, _, _, _, _, _ = landed
    dirs: dict[str, set] = {}
    for rel, add in tl.active_adds(table).items():
        dirs.setdefault(os.path.dirname(os.path.dirname(rel)), set()).add(
            add["partitionValues"]["pipeline"])
    for d, names in dirs.items():
        assert len(names) == 1 or names == {None, "__HIVE_DEFAULT_PARTITION__"}, (d, names)
    assert os.path.isdir(os.path.join(table, "pipeline=__HIVE_DEFAULT_PARTITION__"))


def test_round_trip_delta_rs(landed):
    table, events, _, _, _, _ = landed
    actual = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)
    names = set(pa.table(DeltaTable(table).get_add_actions(flatten=True))
                .column("partition.pipeline").to_pylist())
    assert names == {n or None for n in HOSTILE}


def test_round_trip_spark(spark, landed):
    from pyspark.sql import functions as F
    table, events, _, _, _, _ = landed
    df = spark.read.format("delta").load(table)
    actual = tl.rows_from_spark(df)
    expected = tl.expected_rows(events)
    assert actual == expected, tl.first_diff(actual, expected)
    counts = {r[0]: r[1] for r in df.groupBy("pipeline").count().collect()}
    assert counts == {n or None: 3 for n in HOSTILE}
    # Filtering on each name (partition pruning on the log's value) finds its rows.
    for name in HOSTILE:
        cond = F.col("pipeline").isNull() if name == "" else F.col("pipeline") == name
        assert df.where(cond).count() == 3, repr(name)


def test_overlong_name_is_rejected_or_lands(tmp_path, lakelog_bin):
    """A name longer than a directory entry may be (here 300 CJK characters, 900 bytes) either
    lands and reads back exactly, or is a counted rejection; the other lines land either way
    and the process never fails."""
    table = str(tmp_path / "t")
    long_name = "长" * 300
    events = [{"pipeline": long_name, "ts": "2026-11-24T01:00:00Z", "message": "long"},
              {"pipeline": "ok", "ts": "2026-11-24T01:00:00Z", "message": "fine"}]
    rejects = str(tmp_path / "rejects.ndjson")
    run = tl.ingest(table, events, rejects=rejects, expect_exit=None)
    assert run.exit_code in (0, 3), tl.describe_proc(run.proc)
    names = DeltaTable(table).to_pyarrow_table().column("pipeline").to_pylist()
    if run.exit_code == 0:
        assert sorted(names) == sorted(["ok", long_name])
    else:
        assert names == ["ok"] and run.summary["rejected"] == 1
        with open(rejects, encoding="utf-8") as f:
            assert [json.loads(line)["line"] for line in f] == [1]
    outside = tl.tree_listing(str(tmp_path), exclude=table)
    assert outside <= {"t.input.ndjson", "rejects.ndjson", "t"}, outside
