"""The `lakelog ingest | describe | history` contract: rejects, exit codes, the --json summary,
one commit per batch, describe/history shapes and numbers, compression codecs, checkpoints."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.parse

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

import lakelog_testlib as tl

GOOD = {"pipeline": "cli", "ts": "2026-11-24T10:15:30.123456Z", "status": "SUCCESS"}


def _good(i: int, **extra) -> dict:
    return {**GOOD, "message": f"good {i}", **extra}


def test_malformed_lines_are_rejected_and_good_lines_land(table, tmp_path):
    long_bad = json.dumps({**GOOD, "unknown_long": "z" * 3000})
    lines: list = [
        _good(1),                                                        # 1
        '{"pipeline": "cli", "ts": ',                                    # 2 bad JSON
        _good(3, ts=1795516530123, level="error"),                       # 3
        json.dumps({"ts": GOOD["ts"], "message": "no pipeline"}),        # 4 missing pipeline
        json.dumps({**GOOD, "ts": "yesterday"}),                         # 5 bad ts
        json.dumps({**GOOD, "attributes": {"k": 1}}),                    # 6 non-string attribute
        b'{"pipeline": "cli\xff\xfe", "ts": "2026-11-24T10:15:30Z"}',   # 7 invalid UTF-8
        json.dumps({**GOOD, "colour": "blue"}),                          # 8 unknown field
        _good(9, attributes={"a": "b"}, host=None),                      # 9
        json.dumps({**GOOD, "pipeline": 42}),                            # 10 wrong type
        json.dumps({"pipeline": "cli", "message": "no ts"}),             # 11 missing ts
        "[1, 2, 3]",                                                     # 12 not an object
        long_bad,                                                        # 13 long, unknown field
        json.dumps({**GOOD, "level": 3}),                                # 14 level not a string
        json.dumps({**GOOD, "ts": "2026-13-45T99:00:00Z"}),              # 15 impossible date
        json.dumps({**GOOD, "message": 17}),                             # 16 message not a string
        json.dumps({**GOOD, "attributes": ["k", "v"]}),                  # 17 attributes not object
        _good(18, level="fatal", stage="s", run_id="r"),                 # 18
    ]
    good_lines = {1: lines[0], 3: lines[2], 9: lines[8], 18: lines[17]}
    bad_numbers = [n for n in range(1, len(lines) + 1) if n not in good_lines]
    rejects = str(tmp_path / "rejects.ndjson")
    run = tl.ingest(table, lines, rejects=rejects, expect_exit=3)
    assert run.summary["accepted"] == len(good_lines)
    assert run.summary["rejected"] == len(bad_numbers)

    with open(rejects, "rb") as f:
        raw = f.read()
    records = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    assert [r["line"] for r in records] == bad_numbers
    for r in records:
        assert set(r) >= {"line", "reason", "text"}, r
        assert isinstance(r["reason"], str) and r["reason"].strip(), r
        original = lines[r["line"] - 1]
        if isinstance(original, bytes):
            continue  # invalid UTF-8 cannot come back verbatim in a JSON string
        assert r["text"].encode("utf-8") == original.encode("utf-8")[:1000], r["line"]
    assert len(records[bad_numbers.index(13)]["text"].encode("utf-8")) == 1000

    actual = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    expected = tl.expected_rows(good_lines.values())
    assert actual == expected, tl.first_diff(actual, expected)


def test_all_rejected_commits_nothing(table, tmp_path):
    tl.ingest(table, [_good(0)])
    before = tl.commit_versions(table)
    run = tl.ingest(table, ["nope", "{}"], rejects=str(tmp_path / "r.ndjson"), expect_exit=3)
    assert run.summary["accepted"] == 0 and run.summary["rejected"] == 2
    assert run.summary["commits"] == 0 and run.summary["files"] == 0
    assert run.summary["version"] == before[-1]
    assert tl.commit_versions(table) == before


def test_json_summary_and_one_commit_per_batch(table):
    events = tl.generate_events(1000, seed=51)
    run = tl.ingest(table, events, batch_rows=300)
    s = run.summary
    # The contract's keys; extra ones (recovered, resumed_after_line) are tolerated.
    assert set(s) >= {"accepted", "rejected", "files", "commits", "version"}, s
    assert (s["accepted"], s["rejected"]) == (1000, 0)
    assert s["commits"] == 4
    assert s["files"] == tl.expected_files(events, 300)
    versions = tl.commit_versions(table)
    assert s["version"] == versions[-1]
    writes = [v for v in versions
              if tl.commit_info(tl.read_commit(table, v))["operation"] == "WRITE"]
    assert len(writes) == 4 and writes == versions[-4:]
    # Batch i is commit writes[i]: one file per (pipeline, log_date) of those lines.
    for i, v in enumerate(writes):
        chunk = tl.events_by_key(events[i * 300:(i + 1) * 300])
        adds = tl.added_in(table, v)
        keys = [(a["partitionValues"]["pipeline"], a["partitionValues"]["log_date"]) for a in adds]
        assert sorted(keys) == sorted(chunk), f"commit {v}"
        for a in adds:
            key = (a["partitionValues"]["pipeline"], a["partitionValues"]["log_date"])
            assert json.loads(a["stats"])["numRecords"] == chunk[key], (v, key)
            assert a["dataChange"] is True
            assert a["size"] == os.path.getsize(
                os.path.join(table, urllib.parse.unquote(a["path"])))

    # A second run on the existing table continues the version sequence.
    run2 = tl.ingest(table, tl.generate_events(120, seed=52), batch_rows=50)
    assert run2.summary["commits"] == 3
    assert run2.summary["version"] == s["version"] + 3
    assert DeltaTable(table).to_pyarrow_table().num_rows == 1120


@pytest.mark.parametrize("how", ["dash", "absent"])
def test_stdin_input(table, how):
    events = tl.generate_events(200, seed=53)
    data = tl.lines_to_bytes(events)
    args = ["ingest", "--table", table, "--json"] + (["--input", "-"] if how == "dash" else [])
    proc = tl.run_lakelog(args, stdin=data)
    assert proc.returncode == 0, tl.describe_proc(proc)
    assert tl.parse_single_json(proc)["accepted"] == 200
    actual = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    assert actual == tl.expected_rows(events)


def test_describe_shape_and_numbers(table):
    events = tl.generate_events(800, seed=54) + tl.edge_events()
    run = tl.ingest(table, events, batch_rows=250)
    d = tl.describe(table)
    # The contract's keys; extra ones (e.g. the table id, configuration) are allowed.
    assert set(d) >= {"table", "version", "files", "rows", "bytes", "partitions", "protocol",
                      "schema", "partitionColumns", "checkpointVersion"}, sorted(d)
    assert os.path.realpath(d["table"]) == os.path.realpath(table)
    adds = tl.active_adds(table)
    assert d["version"] == run.summary["version"] == tl.commit_versions(table)[-1]
    assert d["files"] == len(adds) == run.summary["files"]
    assert d["rows"] == len(events)
    on_disk = sum(os.path.getsize(os.path.join(table, p)) for p in adds)
    assert d["bytes"] == on_disk == sum(a["size"] for a in adds.values())
    expected_parts: dict = {}
    for a in adds.values():
        key = (a["partitionValues"]["pipeline"], a["partitionValues"]["log_date"])
        f, r, b = expected_parts.get(key, (0, 0, 0))
        expected_parts[key] = (f + 1, r + json.loads(a["stats"])["numRecords"], b + a["size"])
    got_parts = {(p["pipeline"], p["log_date"]): (p["files"], p["rows"], p["bytes"])
                 for p in d["partitions"]}
    assert len(got_parts) == len(d["partitions"]), "a partition is listed twice"
    assert got_parts == expected_parts
    rows_per_key = tl.events_by_key(events)
    assert {k: v[1] for k, v in got_parts.items()} == rows_per_key
    assert d["protocol"]["minReaderVersion"] == 1 and d["protocol"]["minWriterVersion"] == 2
    assert d["partitionColumns"] == ["pipeline", "log_date"]
    assert d["schema"]["type"] == "struct"
    types = {f["name"]: f["type"] for f in d["schema"]["fields"]}
    assert types == {"pipeline": "string", "log_date": "date", "ts": "timestamp",
                     "level": "string", "stage": "string", "status": "string",
                     "message": "string", "run_id": "string", "host": "string",
                     "attributes": {"type": "map", "keyType": "string", "valueType": "string",
                                    "valueContainsNull": True}}
    assert d["checkpointVersion"] is None  # fewer than 10 commits


def test_describe_missing_table_is_runtime_failure(tmp_path, lakelog_bin):
    proc = tl.run_lakelog(["describe", "--table", str(tmp_path / "nothing")])
    assert proc.returncode == 1, tl.describe_proc(proc)
    assert not os.path.exists(tmp_path / "nothing"), "describe must not create a table"


_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"


def test_history_text_and_json(table):
    events = tl.generate_events(300, seed=55)
    run = tl.ingest(table, events, batch_rows=100)
    hist = tl.history_json(table)
    assert [h["version"] for h in hist] == list(range(run.summary["version"] + 1))
    now_ms = dt.datetime.now(dt.timezone.utc).timestamp() * 1000
    for h in hist:
        assert set(h) >= {"version", "timestamp", "operation", "parameters", "metrics"}, h
        assert isinstance(h["timestamp"], int) and now_ms - 600_000 < h["timestamp"] <= now_ms
        assert isinstance(h["parameters"], dict) and isinstance(h["metrics"], dict)
        ci = tl.commit_info(tl.read_commit(table, h["version"]))
        assert h["operation"] == ci["operation"]
        assert h["timestamp"] == ci["timestamp"]
    writes = [h for h in hist if h["operation"] == "WRITE"]
    assert len(writes) == 3

    proc = tl.run_lakelog(["history", "--table", table])
    assert proc.returncode == 0, tl.describe_proc(proc)
    lines = proc.stdout.decode("utf-8").splitlines()
    assert len(lines) == len(hist), lines
    for line, h in zip(lines, hist):
        m = re.match(rf"^(\d+)\s+({_ISO})\s+(.*)$", line)
        assert m, line
        assert int(m.group(1)) == h["version"]
        when = dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        assert abs(when.timestamp() * 1000 - h["timestamp"]) < 1000, (line, h["timestamp"])
        rest = m.group(3)
        assert rest.startswith(h["operation"]), (line, h["operation"])
        if h["operation"] == "WRITE":
            pairs = dict(kv.split("=", 1) for kv in rest[len("WRITE"):].split())  # space or tab
            for k, v in h["metrics"].items():
                assert pairs.get(k) == str(v), (line, k, v)


CODECS = {"zstd": "ZSTD", "snappy": "SNAPPY", "lz4_raw": "LZ4", "none": "UNCOMPRESSED",
          None: "ZSTD"}  # pyarrow names LZ4_RAW "LZ4" (legacy Hadoop LZ4 is "LZ4_HADOOP")


@pytest.mark.parametrize("codec", list(CODECS), ids=[str(c) for c in CODECS])
def test_compression_codecs(table, codec):
    events = tl.generate_events(300, seed=56)
    tl.ingest(table, events, compression=codec)
    files = tl.data_files_on_disk(table)
    assert files
    for rel in files:
        meta = pq.ParquetFile(os.path.join(table, rel)).metadata
        assert meta.created_by.startswith("lakelog version"), meta.created_by
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                got = meta.row_group(g).column(c).compression
                assert got == CODECS[codec], (rel, meta.row_group(g).column(c).path_in_schema, got)
    actual = tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())
    assert actual == tl.expected_rows(events)


@pytest.mark.parametrize("args", [
    [],
    ["ingest"],
    ["ingest", "--table"],
    ["ingest", "--table", "{table}", "--compression", "brotli9"],
    ["ingest", "--table", "{table}", "--batch-rows", "zero"],
    ["ingest", "--table", "{table}", "--no-such-flag"],
    ["no-such-command"],
    ["describe"],
], ids=["nothing", "no_table", "table_without_value", "bad_codec", "bad_batch_rows",
        "unknown_flag", "unknown_command", "describe_no_table"])
def test_usage_errors_exit_2(table, args):
    proc = tl.run_lakelog([a.replace("{table}", table) for a in args], stdin=b"")
    assert proc.returncode == 2, tl.describe_proc(proc)
    assert not os.path.exists(os.path.join(table, "_delta_log")), "usage error touched the table"


def test_runtime_failures_exit_1(tmp_path, lakelog_bin):
    a_file = tmp_path / "plain_file"
    a_file.write_text("not a table")
    good = tl.lines_to_bytes([_good(1)])
    proc = tl.run_lakelog(["ingest", "--table", str(a_file), "--json"], stdin=good)
    assert proc.returncode == 1, tl.describe_proc(proc)
    assert a_file.read_text() == "not a table"
    proc = tl.run_lakelog(["ingest", "--table", str(tmp_path / "t"), "--input",
                           str(tmp_path / "missing.ndjson")])
    assert proc.returncode == 1, tl.describe_proc(proc)

