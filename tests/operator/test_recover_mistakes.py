"""Operator mistakes with `lakelog recover` (issue 18: points 3 and 10). recover never creates a
WAL directory or a table; with nothing to recover it says so and succeeds. Each case asserts the
exit code, the message, and what delta-rs reads back (or that no table was created)."""

from __future__ import annotations

import json
import os

import operator_lib as ol
from test_ingest_mistakes import big_input, ids, ingest_and_kill, listing, wal_args


def stdout_text(proc) -> str:
    return proc.stdout.decode("utf-8", "replace")


def test_recover_on_a_missing_wal_creates_nothing(table, tmp_path):
    wal = str(tmp_path / "no-wal")
    proc = ol.run(["recover", "--table", table, "--wal", wal])
    ol.expect(proc, 0)
    assert "nothing to recover" in stdout_text(proc)
    assert not os.path.exists(wal)
    ol.assert_readable(table, [])  # no table either


def test_recover_on_an_empty_or_finished_wal_is_a_no_op(table, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = ol.run(["recover", "--table", table, "--wal", str(empty), "--json"])
    ol.expect(proc, 0)
    assert json.loads(proc.stdout)["nothing_to_recover"] is True
    assert listing(str(empty)) == []
    ol.assert_readable(table, [])

    # A finished ingest leaves its WAL clean.
    wal = str(tmp_path / "wal")
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(i) for i in range(5)])
    ol.expect(ol.run(["ingest", "--table", table, "--input", path, "--wal", wal]), 0)
    proc = ol.run(["recover", "--table", table, "--wal", wal])
    ol.expect(proc, 0)
    assert "nothing to recover" in stdout_text(proc)
    ol.assert_readable(table, ids(range(5)))


def test_recover_with_a_mistyped_table_creates_no_table(tmp_path):
    table = str(tmp_path / "table")
    src = str(tmp_path / "events.ndjson")
    big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    durable = ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    typo = str(tmp_path / "tabel")
    proc = ol.run(["recover", "--table", typo, "--wal", wal])
    ol.expect(proc, 1, f"unfinished ingest into table {table}, not {typo}")
    assert not os.path.exists(typo)
    # Every spelling of the right table works: relative, with a trailing slash.
    proc = ol.run(["recover", "--table", "table/", "--wal", wal, "--json"], cwd=str(tmp_path))
    ol.expect(proc, 0)
    held = json.loads(proc.stdout)["resume_after_line"]
    assert held >= durable
    ol.assert_readable(table, ids(range(1, held + 1)))
    again = ol.run(["recover", "--table", "./table", "--wal", "wal/", "--json"], cwd=str(tmp_path))
    ol.expect(again, 0)
    assert json.loads(again.stdout)["recovered"] == 0
    ol.assert_readable(table, ids(range(1, held + 1)))


def test_recover_never_creates_a_deleted_table(tmp_path):
    table = str(tmp_path / "table")
    src = str(tmp_path / "events.ndjson")
    big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    os.rename(table, table + ".moved")
    proc = ol.run(["recover", "--table", table, "--wal", wal])
    ol.expect(proc, 1, f"table {table} does not exist", "never creates a table")
    assert not os.path.exists(table)
    ol.assert_readable(table, [])


def test_recover_refuses_segments_without_a_journal(table, tmp_path):
    wal = tmp_path / "wal"
    wal.mkdir()
    (wal / "000001.wal").write_bytes(b"\0" * 64)
    proc = ol.run(["recover", "--table", table, "--wal", str(wal)])
    ol.expect(proc, 1, "WAL segments (000001.wal) but no ingest.json")
    assert listing(str(wal)) == ["000001.wal"]
    ol.assert_readable(table, [])


def test_recover_refuses_a_journal_of_the_old_format(table, tmp_path):
    wal = tmp_path / "wal"
    wal.mkdir()
    (wal / "ingest.json").write_text(json.dumps(
        {"app_id": "lakelog-ingest-old", "table": table, "input": "events.ndjson"}))
    proc = ol.run(["recover", "--table", table, "--wal", str(wal)])
    ol.expect(proc, 1, "older lakelog", "format 1")
    ol.assert_readable(table, [])


def test_recover_on_an_engine_wal_creates_no_table(tmp_path):
    engine_table, wal = str(tmp_path / "engine-table"), str(tmp_path / "engine-wal")
    demo = ol.run(["demo", "--table", engine_table, "--wal", wal, "--seconds", "1", "--rate",
                   "200", "--quiet"])
    ol.expect(demo, 0)
    rows = ol.assert_readable(engine_table)
    # A mistyped table: never created. The engine's newest segment keeps its (committed)
    # records after a clean stop, so this WAL holds events, and recover names the missing table.
    typo = str(tmp_path / "engine-tabel")
    proc = ol.run(["recover", "--table", typo, "--wal", wal])
    ol.expect(proc, 1, f"table {typo} does not exist", "give that table with --table")
    assert not os.path.exists(typo)
    ol.assert_readable(typo, [])
    # The right table: the engine stopped cleanly, everything in its WAL is committed.
    proc = ol.run(["recover", "--table", engine_table, "--wal", wal])
    ol.expect(proc, 0)
    assert "nothing to recover" in stdout_text(proc)
    assert ol.assert_readable(engine_table) == rows


def test_recover_on_an_engine_wal_without_events_is_a_no_op(tmp_path):
    wal = tmp_path / "engine-wal"
    wal.mkdir()
    (wal / "engine.json").write_text(json.dumps({"writer_id": "lakelog-test-wal-0"}))
    typo = str(tmp_path / "no-table")
    proc = ol.run(["recover", "--table", typo, "--wal", str(wal)])
    ol.expect(proc, 0)
    assert "nothing to recover" in stdout_text(proc)
    assert not os.path.exists(typo)
    assert listing(str(wal)) == ["engine.json"]
