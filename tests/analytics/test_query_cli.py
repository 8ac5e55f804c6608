"""`lakelog query` on tables written by lakelog, by delta-rs and by Spark: each filter, the
order and limit, every output format, and the scan summary's pruning and skipping, checked
against the events filtered in Python."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import analytics_data as ad  # noqa: E402
import lakelog_testlib as tl  # noqa: E402

FIELDS = ("pipeline", "log_date", "ts", "level", "stage", "status", "message", "run_id", "host")


def expected(events, *, pipeline=None, stage=None, status=None, levels=None, run_id=None,
             since=None, until=None, contains=None):
    out = []
    for e in events:
        row = dict(zip(FIELDS, tl.expected_row(e)[:9]))
        row["attributes"] = tl.expected_row(e)[9]
        if pipeline is not None and row["pipeline"] not in pipeline:
            continue
        if stage is not None and row["stage"] not in stage:
            continue
        if status is not None and row["status"] not in status:
            continue
        if levels is not None and row["level"] not in levels:
            continue
        if run_id is not None and row["run_id"] not in run_id:
            continue
        if since is not None and row["ts"] < since:
            continue
        if until is not None and row["ts"] > until:
            continue
        if contains is not None and (row["message"] is None or contains not in row["message"]):
            continue
        out.append(row)
    out.sort(key=lambda r: -r["ts"])
    return out


def query(table, *args, fmt="ndjson"):
    proc = tl.run_lakelog(["query", "--table", table, "--format", fmt, *args])
    assert proc.returncode == 0, tl.describe_proc(proc)
    return proc


def rows_of(proc):
    rows = []
    for line in proc.stdout.decode().splitlines():
        r = json.loads(line)
        r["ts"] = tl.ts_micros(r["ts"])
        r["attributes"] = tuple(sorted(r["attributes"].items()))
        rows.append({k: r[k] for k in FIELDS + ("attributes",)})
    return rows


def scan_counts(proc):
    m = re.search(r"files: (\d+) in table, (\d+) read, (\d+) pruned by partition, "
                  r"(\d+) skipped by stats", proc.stderr.decode())
    assert m, tl.describe_proc(proc)
    return tuple(int(x) for x in m.groups())


def check_queries(table, events):
    """The same questions on any writer's table; answers compared as sorted rows (ties in ts
    have no defined order) and, for limits, by the ts sequence."""
    key = lambda r: (r["ts"], json.dumps(r, sort_keys=True))  # noqa: E731
    cases = [
        ([], {}),
        (["--pipeline", "billing"], {"pipeline": {"billing"}}),
        (["--pipeline", "ingest", "--pipeline", "billing", "--status", "FAILED"],
         {"pipeline": {"ingest", "billing"}, "status": {"FAILED"}}),
        (["--stage", "load", "--level", "ERROR+"],
         {"stage": {"load"}, "levels": {"ERROR", "FATAL"}}),
        (["--run-id", "index_-3", "--run-id", "billin-5"], {"run_id": {"index_-3", "billin-5"}}),
        (["--contains", "disk full"], {"contains": "disk full"}),
        (["--since", "2026-11-23T00:00:00Z", "--until", "2026-11-23T12:00:00.5Z"],
         {"since": tl.ts_micros("2026-11-23T00:00:00Z"),
          "until": tl.ts_micros("2026-11-23T12:00:00.5Z")}),
        (["--since", "36h", "--now", ad.NOW, "--level", "warning,fatal"],
         {"since": tl.ts_micros(ad.NOW) - 36 * 3600 * 10**6, "levels": {"WARN", "FATAL"}}),
        (["--pipeline", ad.PIPELINES[3]], {"pipeline": {ad.PIPELINES[3]}}),
    ]
    for args, filters in cases:
        want = expected(events, **filters)
        got = rows_of(query(table, *args, "--limit", "0"))
        assert sorted(got, key=key) == sorted(want, key=key), (args, len(got), len(want))
        assert [r["ts"] for r in got] == [r["ts"] for r in want], args  # newest first
        limited = rows_of(query(table, *args, "--limit", "7"))
        assert [r["ts"] for r in limited] == [r["ts"] for r in want[:7]], args
    oldest = rows_of(query(table, "--oldest-first", "--limit", "3"))
    assert [r["ts"] for r in oldest] == sorted(r["ts"] for r in expected(events))[:3]


@pytest.fixture(scope="module")
def events():
    return ad.make_events()


def test_query_on_a_lakelog_table(table, events):
    tl.ingest(table, events, batch_rows=53)
    check_queries(table, events)
    total_files = len(tl.active_adds(table))
    # Partition pruning: another pipeline's files are never opened.
    files, read, pruned, _ = scan_counts(query(table, "--pipeline", "billing", "--limit", "0"))
    billing_files = sum(1 for a in tl.active_adds(table).values()
                        if a["partitionValues"]["pipeline"] == "billing")
    assert (files, read, pruned) == (total_files, billing_files, total_files - billing_files)
    # log_date pruning by the time window.
    _, read, pruned, _ = scan_counts(query(table, "--since", "2026-11-24T00:00:00Z",
                                           "--limit", "0"))
    day_files = sum(1 for a in tl.active_adds(table).values()
                    if a["partitionValues"]["log_date"] >= "2026-11-24")
    assert (read, pruned) == (day_files, total_files - day_files)
    # Statistics: no file of the table holds a status below "FAILED" but some hold only other
    # values, so a status nobody logged is skipped in every file by min/max.
    _, read, _, skipped = scan_counts(query(table, "--status", "AAA", "--limit", "0"))
    assert (read, skipped) == (0, total_files)


def test_query_formats(table, events):
    tl.ingest(table, events)
    want = expected(events, contains="heartbeat")
    as_json = json.loads(query(table, "--contains", "heartbeat", fmt="json").stdout)
    assert [tl.ts_micros(r["ts"]) for r in as_json] == [r["ts"] for r in want]
    assert as_json[0]["message"] == "heartbeat\nline two"
    assert as_json[0]["attributes"] == {"quote\"d": "a\\b", "ключ": "значение"}
    text = query(table, "--contains", "heartbeat", fmt="text").stdout.decode().splitlines()
    assert text[0].split() == ["TS", "PIPELINE", "LEVEL", "STAGE", "STATUS", "RUN_ID", "HOST",
                               "MESSAGE", "ATTRIBUTES"]
    assert len(text) == 1 + len(want)
    # The attributes, as one JSON object on the row's line (the message's newline flattened).
    assert text[1].endswith('{"quote\\"d":"a\\\\b","ключ":"значение"}'), text[1]
    # aligned: every row's PIPELINE column starts where the header's does
    col = text[0].index("PIPELINE")
    assert all(line[col - 2:col] == "  " and line[col] != " " for line in text[1:])
    rows = list(csv.DictReader(io.StringIO(
        query(table, "--pipeline", ad.PIPELINES[3], fmt="csv").stdout.decode())))
    assert rows and all(r["pipeline"] == ad.PIPELINES[3] for r in rows)
    # attributes: a JSON object per row, the same as the json format's.
    by_ts = {r["ts"]: r for r in as_json}
    heartbeat_rows = list(csv.DictReader(io.StringIO(
        query(table, "--contains", "heartbeat", fmt="csv").stdout.decode())))
    assert [json.loads(r["attributes"]) for r in heartbeat_rows] == \
        [by_ts[r["ts"]]["attributes"] for r in heartbeat_rows]
    assert all(isinstance(json.loads(r["attributes"]), dict) for r in rows)
    bad = tl.run_lakelog(["query", "--table", table, "--since", "yesterday"])
    assert bad.returncode == 2 and b"--since 'yesterday'" in bad.stderr, tl.describe_proc(bad)
    bad = tl.run_lakelog(["query", "--table", table, "--level", "LOUD"])
    assert bad.returncode == 2, tl.describe_proc(bad)


def test_query_on_a_deltars_table(tmp_path, events):
    from deltalake import write_deltalake
    table = str(tmp_path / "deltars")
    write_deltalake(table, tl.events_to_arrow(events), partition_by=["pipeline", "log_date"])
    check_queries(table, events)


def test_query_on_a_spark_table(spark, tmp_path, events):
    table = str(tmp_path / "spark")
    tl.events_to_spark(spark, events).repartition(3).write.format("delta") \
        .partitionBy("pipeline", "log_date").save(table)
    check_queries(table, events)
