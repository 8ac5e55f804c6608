"""Who owns a WAL directory: the engine (`lakelog demo --wal`, `lakelog recover` on an engine's
WAL) refuses a directory holding an unfinished ingest or files it cannot account for, before
writing anything into it or creating a table; and a file in its own WAL that holds no WAL record
is counted as damaged and kept in `damaged/`, never reported as "0 damaged records" and
deleted."""

from __future__ import annotations

import json
import os
import random
import re

import operator_lib as ol

DEMO = ["--seconds", "1", "--rate", "200", "--producers", "1", "--quiet"]


def listing(path: str) -> dict[str, bytes]:
    """Every file under `path` with its bytes (directories by their files)."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = f.read()
    return out


def random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def logged(proc) -> int:
    """The events a demo run logged, from its summary line."""
    m = re.search(rb"logged (\d+) events", proc.stdout)
    assert m, ol.describe_proc(proc)
    return int(m.group(1))


def assert_each_event_once(table: str, expected: int) -> None:
    """delta-rs reads exactly `expected` rows, no row twice. A demo event is unique by
    (pipeline, run_id, stage, status), so a duplicate would show as an equal row."""
    rows = ol.assert_readable(table)
    assert len(rows) == expected
    assert len(set(rows)) == len(rows), "a row was committed twice"


def test_demo_refuses_an_unfinished_ingest_and_names_its_recover_command(table, tmp_path):
    wal = tmp_path / "wal"
    wal.mkdir()
    ingest_table = str(tmp_path / "ingest_table")
    (wal / "ingest.json").write_text(json.dumps(
        {"app_id": "lakelog-ingest-x", "table": ingest_table, "input": "in.ndjson"}))
    (wal / "000001.wal").write_bytes(random_bytes(512, 1))
    before = listing(str(wal))

    proc = ol.run(["demo", "--table", table, "--wal", str(wal), *DEMO])
    ol.expect(proc, 1, "unfinished `lakelog ingest`",
              f"lakelog recover --table {ingest_table} --wal {wal}")
    assert listing(str(wal)) == before  # not even a LOCK was written
    ol.assert_readable(table, [])
    ol.assert_readable(ingest_table, [])


def test_demo_refuses_files_it_cannot_account_for(table, tmp_path):
    cases = {
        "random": ("000001.wal", random_bytes(4096, 2)),
        "text": ("000001.wal", b"not a WAL segment\njust notes\n"),
        "unrelated": ("notes.txt", b"keep me"),
    }
    for case, (name, data) in cases.items():
        wal = tmp_path / f"wal-{case}"
        wal.mkdir()
        (wal / name).write_bytes(data)
        case_table = f"{table}-{case}"
        proc = ol.run(["demo", "--table", case_table, "--wal", str(wal), *DEMO])
        ol.expect(proc, 1, f"{name} but no engine.json", "empty or new WAL directory")
        assert listing(str(wal)) == {name: data}, case  # untouched, nothing added
        ol.assert_readable(case_table, [])


def test_recover_refuses_an_engine_wal_an_ingest_wrote_into(table, tmp_path):
    wal = str(tmp_path / "wal")
    first = ol.run(["demo", "--table", table, "--wal", wal, *DEMO])
    ol.expect(first, 0)
    rows = ol.assert_readable(table)
    assert len(rows) == logged(first)
    # What an older `ingest --wal` left in an engine's directory.
    with open(os.path.join(wal, "ingest.json"), "w") as f:
        json.dump({"app_id": "lakelog-ingest-y", "table": table, "input": "in.ndjson"}, f)
    before = listing(wal)

    proc = ol.run(["recover", "--table", table, "--wal", wal])
    # The code comes from recover's ReportError mapping of the engine's InvalidArgument, which
    # is being split into usage (2) and runtime (1) refusals elsewhere; either way it fails.
    assert proc.returncode in (1, 2), ol.describe_proc(proc)
    ol.expect(proc, proc.returncode, "both an engine's wal (engine.json)", "ingest.json")
    assert listing(wal) == before
    assert ol.assert_readable(table) == rows

    demo = ol.run(["demo", "--table", table, "--wal", wal, *DEMO])
    ol.expect(demo, 1, "both an engine's wal (engine.json)")
    assert listing(wal) == before
    assert ol.assert_readable(table) == rows


def test_a_random_segment_in_the_engines_wal_is_counted_and_kept_aside(table, tmp_path):
    cases = {"random": random_bytes(4096, 3), "text": b"hello, I am not a segment\n"}
    for case, data in cases.items():
        wal = str(tmp_path / f"wal-{case}")
        case_table = f"{table}-{case}"
        first = ol.run(["demo", "--table", case_table, "--wal", wal, *DEMO])
        ol.expect(first, 0)
        with open(os.path.join(wal, "000099.wal"), "wb") as f:
            f.write(data)

        second = ol.run(["demo", "--table", case_table, "--wal", wal, *DEMO])
        ol.expect(second, 0, "1 damaged records", "000099.wal",
                  os.path.join(wal, "damaged", "000099.wal"))
        assert b"1 damaged records skipped" in second.stdout, ol.describe_proc(second)
        assert not os.path.exists(os.path.join(wal, "000099.wal"))
        with open(os.path.join(wal, "damaged", "000099.wal"), "rb") as f:
            assert f.read() == data
        assert_each_event_once(case_table, logged(first) + logged(second))

        # Later runs neither report it again nor delete it.
        third = ol.run(["demo", "--table", case_table, "--wal", wal, *DEMO])
        ol.expect(third, 0)
        assert b"0 damaged records skipped" in third.stdout, ol.describe_proc(third)
        with open(os.path.join(wal, "damaged", "000099.wal"), "rb") as f:
            assert f.read() == data
        assert_each_event_once(case_table, logged(first) + logged(second) + logged(third))


def test_recover_counts_a_random_segment_as_damaged_and_keeps_it(table, tmp_path):
    wal = str(tmp_path / "wal")
    first = ol.run(["demo", "--table", table, "--wal", wal, *DEMO])
    ol.expect(first, 0)
    data = random_bytes(4096, 4)
    with open(os.path.join(wal, "000050.wal"), "wb") as f:
        f.write(data)

    proc = ol.run(["recover", "--table", table, "--wal", wal])
    ol.expect(proc, 0)
    assert b"skipped 1 damaged WAL records (4096 bytes)" in proc.stdout, ol.describe_proc(proc)
    with open(os.path.join(wal, "damaged", "000050.wal"), "rb") as f:
        assert f.read() == data
    assert not os.path.exists(os.path.join(wal, "000050.wal"))
    assert_each_event_once(table, logged(first))
