"""Operator mistakes in the event lines themselves (issue 18, points 2, 9, 11): timestamps that
no Delta reader can hold, repeated keys, level names in other spellings. Each case mixes them
with valid lines and asserts the exit code (3: finished, some lines rejected), the reason of
every rejected line, and that delta-rs reads back exactly the valid lines — the whole table,
since one bad date used to make every read of it fail."""

from __future__ import annotations

import json

import operator_lib as ol

RANGE = "0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z"

# The out-of-range timestamps of the issue, each with a part of the reason it must get.
OUT_OF_RANGE = [
    ("9999-12-31T23:59:59-01:00", "10000-01-01T00:59:59"),  # after 9999 once in UTC
    ("0000-01-01T00:00:00Z", "out of range"),
    ("0001-01-01T00:30:00+01:00", "0000-12-31T23:30:00"),  # before year 1 once in UTC
    (9223372036854775, "out of range"),
    (-9223372036854775, "out of range"),
    (-62135596800001, "out of range"),  # one millisecond before 0001-01-01
    (253402300800000, "out of range"),  # 10000-01-01T00:00:00Z
]


def read_rejects(path: str) -> dict[int, str]:
    """The rejects file as {line number: reason}."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            r = json.loads(raw)
            out[r["line"]] = r["reason"]
    return out


def ingest_with_rejects(table: str, tmp_path, lines):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), lines)
    rejects = str(tmp_path / "rejects.ndjson")
    proc = ol.run(["ingest", "--table", table, "--input", path, "--rejects", rejects])
    return proc, rejects


def test_out_of_range_timestamps_are_rejected_and_the_table_stays_readable(table, tmp_path):
    lines, expected, bad_lines = [], [], {}
    for i, (ts, _) in enumerate(OUT_OF_RANGE):
        lines.append(ol.event(2 * i))
        expected.append(f"e-{2 * i}")
        lines.append(ol.event(2 * i + 1, ts=ts))
        bad_lines[len(lines)] = i
    proc, rejects = ingest_with_rejects(table, tmp_path, lines)
    ol.expect(proc, 3)
    reasons = read_rejects(rejects)
    assert sorted(reasons) == sorted(bad_lines), reasons
    for line, i in bad_lines.items():
        reason = reasons[line]
        assert "field 'ts' is out of range" in reason, (OUT_OF_RANGE[i], reason)
        assert RANGE in reason, (OUT_OF_RANGE[i], reason)
        assert OUT_OF_RANGE[i][1] in reason, (OUT_OF_RANGE[i], reason)
    rows = ol.assert_readable(table, expected)
    assert all("0001-01-01" <= r[1] <= "9999-12-31" for r in rows), rows


def test_out_of_range_timestamp_reason_on_stderr_without_rejects_file(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [
        ol.event(0), ol.event(1, ts="9999-12-31T23:59:59-01:00")])
    proc = ol.run(["ingest", "--table", table, "--input", path])
    ol.expect(proc, 3, "line 2 rejected", "field 'ts' is out of range", RANGE)
    ol.assert_readable(table, ["e-0"])


def test_only_out_of_range_lines_create_no_table(table, tmp_path):
    proc, rejects = ingest_with_rejects(table, tmp_path, [
        ol.event(0, ts="0000-01-01T00:00:00Z"), ol.event(1, ts=-62135596800001)])
    ol.expect(proc, 3)
    assert sorted(read_rejects(rejects)) == [1, 2]
    ol.assert_readable(table, [])


def test_range_edges_are_accepted_and_read_back_exactly(table, tmp_path):
    first_micros = -62135596800000000
    last_micros = 253402300799999999
    lines = [
        ol.event(0, ts="0001-01-01T00:00:00Z"),
        ol.event(1, ts="9999-12-31T23:59:59.999999Z"),
        ol.event(2, ts=-62135596800000),  # the first millisecond as epoch milliseconds
        ol.event(3, ts="9999-12-31T22:59:59.999999-01:00"),  # the last instant, with an offset
        ol.event(4),
    ]
    proc, rejects = ingest_with_rejects(table, tmp_path, lines)
    ol.expect(proc, 0)
    assert read_rejects(rejects) == {}
    rows = {r[7]: r for r in ol.assert_readable(table, [f"e-{i}" for i in range(5)])}
    assert (rows["e-0"][1], rows["e-0"][2]) == ("0001-01-01", first_micros)
    assert (rows["e-1"][1], rows["e-1"][2]) == ("9999-12-31", last_micros)
    assert (rows["e-2"][1], rows["e-2"][2]) == ("0001-01-01", first_micros)
    assert (rows["e-3"][1], rows["e-3"][2]) == ("9999-12-31", last_micros)


def test_duplicate_keys_are_rejected_naming_the_key(table, tmp_path):
    lines = [
        ol.event(0),
        '{"pipeline":"p","ts":1764000000001,"level":"INFO","level":"ERROR","run_id":"dup-1"}',
        ol.event(2, attributes={"k": "1"}),
        '{"pipeline":"p","ts":1764000000003,"run_id":"dup-3","attributes":{"k":"1","k":"2"}}',
        '{"pipeline":"a","ts":1764000000004,"run_id":"dup-4","pipeline":"b"}',
        # the same name at the top level and inside attributes is not a repeat
        ol.event(5, attributes={"run_id": "x", "pipeline": "y"}),
        '{"pipeline":"p","ts":1764000000006,"run_id":"dup-6","attributes":{"k":"1","\\u006b":"2"}}',
    ]
    proc, rejects = ingest_with_rejects(table, tmp_path, lines)
    ol.expect(proc, 3)
    assert read_rejects(rejects) == {
        2: "duplicate field 'level'",
        4: "duplicate attribute 'k'",
        5: "duplicate field 'pipeline'",
        7: "duplicate attribute 'k'",
    }
    rows = {r[7]: r for r in ol.assert_readable(table, ["e-0", "e-2", "e-5"])}
    assert rows["e-5"][9] == (("pipeline", "y"), ("run_id", "x"))


def test_level_names_in_any_case_and_warning_are_accepted_others_rejected(table, tmp_path):
    accepted = {"info": "INFO", "WARNING": "WARN", "warning": "WARN", "Warn": "WARN",
                "trace": "TRACE", "fatal": "FATAL"}
    rejected = ["CRITICAL", "ERR", "notice", "", " INFO", 3]
    lines, want = [], {}
    for i, name in enumerate(accepted):
        lines.append(ol.event(i, level=name))
        want[f"e-{i}"] = accepted[name]
    bad_lines = []
    for j, name in enumerate(rejected):
        lines.append(ol.event(100 + j, level=name))
        bad_lines.append(len(lines))
    proc, rejects = ingest_with_rejects(table, tmp_path, lines)
    ol.expect(proc, 3)
    reasons = read_rejects(rejects)
    assert sorted(reasons) == bad_lines, reasons
    for reason in reasons.values():
        assert "field 'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL" in reason
        assert "WARNING" in reason, reason
    rows = ol.assert_readable(table, list(want))
    assert {r[7]: r[3] for r in rows} == want
