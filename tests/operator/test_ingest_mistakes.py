"""Operator mistakes with `lakelog ingest` (issue 18: points 1, 3, 4, 5, 7, 11). Each case
asserts the exit code, the message, and what delta-rs reads back afterwards (or that no table
was created)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import operator_lib as ol
import lakelog_testlib as tl


def ids(rng) -> list[str]:
    return [f"e-{i}" for i in rng]


def listing(path: str) -> list[str]:
    return sorted(os.listdir(path))


# --- kill -9 helpers (as tests/durability/test_ingest_kill9.py does it) -----------------------

def big_input(path: str, n: int, bad_every: int = 0) -> set[str]:
    """n lines, event i on line i (run_id e-i); every `bad_every`-th line is not JSON. Returns
    the run_ids of the good lines."""
    good = set()
    with open(path, "w") as f:
        for i in range(1, n + 1):
            if bad_every and i % bad_every == 0:
                f.write("{not json %d}\n" % i)
            else:
                f.write(json.dumps(ol.event(i, message="m" * 120)) + "\n")
                good.add(f"e-{i}")
    return good


def ingest_and_kill(args: list[str], cwd: str | None = None, kill_after: int = 3_000) -> int:
    """Starts `lakelog ingest`, SIGKILLs it once it reported `durable N` with N >= kill_after,
    and returns the highest N it reported."""
    proc = subprocess.Popen([tl.lakelog_path(), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=cwd)
    durable = 0
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode(errors="replace").strip()
        if line.startswith("durable "):
            durable = max(durable, int(line.split()[1]))
            if durable >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    return durable


def wal_args(table: str, wal: str, input_path: str, *extra: str) -> list[str]:
    return ["ingest", "--table", table, "--wal", wal, "--input", input_path,
            "--batch-rows", "20000", "--sync", "group", *extra]


# --- 1. --rejects naming the input --------------------------------------------------------------

def test_rejects_naming_the_input_is_refused(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "same.ndjson"), [ol.event(i) for i in range(3)])
    before = open(path, "rb").read()
    os.link(path, str(tmp_path / "hard.ndjson"))
    os.symlink(path, str(tmp_path / "soft.ndjson"))
    for rejects, cwd in [(path, None), ("same.ndjson", str(tmp_path)),
                         (str(tmp_path / "hard.ndjson"), None), (str(tmp_path / "soft.ndjson"), None),
                         (str(tmp_path / "sub" / ".." / "same.ndjson"), None)]:
        os.makedirs(str(tmp_path / "sub"), exist_ok=True)
        proc = ol.run(["ingest", "--table", table, "--input", path, "--rejects", rejects], cwd=cwd)
        ol.expect(proc, 2, "is the --input file", "give --rejects another file")
        assert open(path, "rb").read() == before, f"--rejects {rejects} changed the input"
    # Stdin redirected from the file is the same file.
    with open(path, "rb") as stdin:
        proc = subprocess.run([tl.lakelog_path(), "ingest", "--table", table, "--rejects", path],
                              stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ol.expect(proc, 2, "is the --input file (stdin)")
    assert open(path, "rb").read() == before
    ol.assert_readable(table, [])


def test_rejects_inside_the_table_or_the_wal_is_refused(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(1)])
    proc = ol.run(["ingest", "--table", table, "--input", path,
                   "--rejects", os.path.join(table, "rejects.ndjson")])
    ol.expect(proc, 2, "inside the table directory")
    wal = str(tmp_path / "wal")
    proc = ol.run(["ingest", "--table", table, "--input", path, "--wal", wal,
                   "--rejects", os.path.join(wal, "rejects.ndjson")])
    ol.expect(proc, 2, "inside the WAL directory")
    assert not os.path.exists(wal)
    ol.assert_readable(table, [])


# --- 3. resuming checks the input and the table ---------------------------------------------------

def test_resume_refuses_a_replaced_shorter_input_and_recover_finishes(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    durable = ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    assert durable >= 5_000

    # A different, shorter file at the same path (same inode: rewritten in place).
    with open(src, "w") as f:
        for i in range(100):
            f.write(json.dumps(ol.event(100_000 + i)) + "\n")
    proc = ol.run(wal_args(table, wal, src))
    ol.expect(proc, 1, "has only 100 lines", "truncated or replaced",
              f"lakelog recover --table {table} --wal {wal}")
    rows_before = {r[7] for r in ol.assert_readable(table)}
    assert not any(r.startswith("e-1000") and len(r) == 8 for r in rows_before)

    recovered = ol.run(["recover", "--table", table, "--wal", wal, "--json"])
    ol.expect(recovered, 0)
    held = json.loads(recovered.stdout)["resume_after_line"]
    assert held >= durable
    # Exactly the lines the WAL held: every durable line, once; nothing of the new file.
    ol.assert_readable(table, ids(range(1, held + 1)))


def test_resume_refuses_an_input_with_other_bytes(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    durable = ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    # Same length, one byte changed in the part already read; rewritten in place.
    data = bytearray(open(src, "rb").read())
    data[data.index(b"m" * 120)] = ord("M")
    with open(src, "r+b") as f:
        f.write(bytes(data))
    proc = ol.run(wal_args(table, wal, src))
    ol.expect(proc, 1, "are not the bytes the interrupted run", "CRC32C differs", "lakelog recover")
    recovered = ol.run(["recover", "--table", table, "--wal", wal, "--json"])
    ol.expect(recovered, 0)
    held = json.loads(recovered.stdout)["resume_after_line"]
    assert held >= durable
    ol.assert_readable(table, ids(range(1, held + 1)))


def test_resume_refuses_a_replaced_file(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    # The same bytes under a new inode: not the file the run read.
    shutil.copy(src, src + ".copy")
    os.replace(src + ".copy", src)
    proc = ol.run(wal_args(table, wal, src))
    ol.expect(proc, 1, "now names another file", "the input was replaced")


def test_resume_after_appending_to_the_input_finishes_it(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    good = big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    ingest_and_kill(wal_args(table, wal, src), kill_after=5_000)
    with open(src, "a") as f:
        for i in range(60_001, 60_101):
            f.write(json.dumps(ol.event(i)) + "\n")
            good.add(f"e-{i}")
    proc = ol.run(wal_args(table, wal, src))
    ol.expect(proc, 0, "resuming an interrupted run")
    ol.assert_readable(table, sorted(good))
    assert not os.path.exists(os.path.join(wal, "ingest.json"))


def test_resume_of_stdin_checks_the_lines_read(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    good = big_input(src, 60_000)
    wal = str(tmp_path / "wal")
    args = ["ingest", "--table", table, "--wal", wal, "--batch-rows", "20000"]
    with open(src, "rb") as stdin:
        proc = subprocess.Popen([tl.lakelog_path(), *args], stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        durable = 0
        for raw in proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("durable "):
                durable = max(durable, int(line.split()[1]))
                if durable >= 5_000:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    # Another stream on stdin: stdin has no identity, the checksum of the lines read refuses it.
    other = b"".join(json.dumps(ol.event(100_000 + i, message="m" * 120)).encode() + b"\n"
                     for i in range(60_000))
    proc = ol.run(args, stdin=other)
    ol.expect(proc, 1, "are not the bytes the interrupted run", "lakelog recover")
    # Refused while reading the lines the run had read, before anything was committed.
    ol.assert_readable(table, [])
    # The same stream again resumes and finishes.
    proc = ol.run(args, stdin=open(src, "rb").read())
    ol.expect(proc, 0, "resuming an interrupted run")
    ol.assert_readable(table, sorted(good))


def test_resume_from_another_directory_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    big_input(str(a / "events.ndjson"), 60_000)
    shutil.copy(str(a / "events.ndjson"), str(b / "events.ndjson"))
    wal = str(tmp_path / "wal")  # absolute: the same WAL from both directories
    args = wal_args("table", wal, "events.ndjson")
    durable = ingest_and_kill(args, cwd=str(a), kill_after=5_000)
    proc = ol.run(args, cwd=str(b))
    ol.expect(proc, 1, f"unfinished ingest into table {a / 'table'}, not {b / 'table'}",
              "lakelog recover")
    ol.assert_readable(str(b / "table"), [])  # not created
    # `recover` from the first directory, with the table spelled another way, finishes it.
    recovered = ol.run(["recover", "--table", str(a / "table") + "/", "--wal", wal, "--json"])
    ol.expect(recovered, 0)
    held = json.loads(recovered.stdout)["resume_after_line"]
    assert held >= durable
    ol.assert_readable(str(a / "table"), ids(range(1, held + 1)))


# --- 4. an engine's WAL directory, or a directory of other files ----------------------------------

def test_ingest_refuses_an_engine_wal(table, tmp_path):
    wal = str(tmp_path / "engine-wal")
    engine_table = str(tmp_path / "engine-table")
    demo = ol.run(["demo", "--table", engine_table, "--wal", wal, "--seconds", "1",
                   "--rate", "200", "--quiet"])
    ol.expect(demo, 0)
    engine_rows = len(ol.assert_readable(engine_table))
    before = listing(wal)
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(i) for i in range(3)])
    proc = ol.run(["ingest", "--table", table, "--input", path, "--wal", wal])
    ol.expect(proc, 1, "belongs to a logging engine", f"lakelog recover --table TABLE --wal {wal}",
              "another --wal directory")
    assert listing(wal) == before, "ingest wrote into the engine's WAL"
    ol.assert_readable(table, [])
    # The engine's WAL is still usable: recover takes it, and the demo runs on it again.
    rec = ol.run(["recover", "--table", engine_table, "--wal", wal])
    ol.expect(rec, 0)
    again = ol.run(["demo", "--table", engine_table, "--wal", wal, "--seconds", "1",
                    "--rate", "200", "--quiet"])
    ol.expect(again, 0)
    assert len(ol.assert_readable(engine_table)) > engine_rows


def test_ingest_refuses_a_directory_it_does_not_own(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(i) for i in range(3)])
    segments = tmp_path / "segments"
    segments.mkdir()
    (segments / "000001.wal").write_bytes(b"\0" * 64)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    for wal, message in [(segments, "WAL segments (000001.wal) but no ingest.json"),
                         (other, "not an ingest WAL (notes.txt)")]:
        before = listing(str(wal))
        proc = ol.run(["ingest", "--table", table, "--input", path, "--wal", str(wal)])
        ol.expect(proc, 1, message, "new or empty directory")
        assert listing(str(wal)) == before
    ol.assert_readable(table, [])


# --- 5. rejected lines are never lost -------------------------------------------------------------

def test_every_durable_line_is_in_the_table_or_the_rejects_file(table, tmp_path):
    src = str(tmp_path / "events.ndjson")
    good = big_input(src, 60_000, bad_every=7)
    wal, rejects = str(tmp_path / "wal"), str(tmp_path / "rejects.ndjson")
    durable = ingest_and_kill(wal_args(table, wal, src, "--rejects", rejects), kill_after=5_000)
    recovered = ol.run(["recover", "--table", table, "--wal", wal, "--json"])
    ol.expect(recovered, 0)
    committed = {r[7] for r in ol.assert_readable(table)}
    rejected = {json.loads(line)["line"] for line in open(rejects)}
    for i in range(1, durable + 1):
        if f"e-{i}" in good:
            assert f"e-{i}" in committed, f"durable line {i} is not in the table"
        else:
            assert i in rejected, f"durable rejected line {i} is not in the rejects file"
    # The same ingest finishes the input: every good line once, every bad line rejected.
    proc = ol.run(wal_args(table, wal, src, "--rejects", rejects))
    ol.expect(proc, 3)
    ol.assert_readable(table, sorted(good))
    rejected = {json.loads(line)["line"] for line in open(rejects)}
    assert rejected == {i for i in range(1, 60_001) if i % 7 == 0}


def test_a_rejects_file_that_cannot_be_written_fails_the_run(table, tmp_path):
    lines = [ol.event(1), "{bad", ol.event(2), "also bad", ol.event(3)]
    path = ol.write_lines(str(tmp_path / "in.ndjson"), lines)
    proc = ol.run(["ingest", "--table", table, "--input", path, "--rejects", "/dev/full"])
    ol.expect(proc, 1, "writing the rejects file /dev/full", "No space left on device")
    # The batch holding the rejected lines was not committed.
    ol.assert_readable(table, [])
    proc = ol.run(["ingest", "--table", table, "--input", path, "--rejects", "/dev/full",
                   "--wal", str(tmp_path / "wal")])
    ol.expect(proc, 1, "writing the rejects file /dev/full", "No space left on device")
    ol.assert_readable(table, [])


# --- 7. batches bounded by bytes ------------------------------------------------------------------

def test_batches_are_cut_by_bytes(table, tmp_path):
    events = [ol.event(i, message="x" * (5_000 + 97 * i)) for i in range(20)]
    path = ol.write_lines(str(tmp_path / "in.ndjson"), events)
    limit = 30_000
    # The rule: a batch is committed once its lines' bytes reach the limit.
    expected_commits, pending = 0, 0
    for raw in tl.lines_to_bytes(events).splitlines():
        pending += len(raw)
        if pending >= limit:
            expected_commits, pending = expected_commits + 1, 0
    expected_commits += 1 if pending else 0
    assert expected_commits > 1
    proc = ol.run(["ingest", "--table", table, "--input", path, "--batch-bytes", str(limit),
                   "--json"])
    ol.expect(proc, 0)
    assert json.loads(proc.stdout)["commits"] == expected_commits
    # Version 0 creates the table; each batch is one commit after it.
    assert tl.commit_versions(table) == list(range(expected_commits + 1))
    ol.assert_readable(table, ids(range(20)))


# --- 11. errors name the real cause ---------------------------------------------------------------

def test_an_unreadable_input_names_the_reason(table, tmp_path):
    plain = ol.write_lines(str(tmp_path / "plain.ndjson"), [ol.event(1)])
    proc = ol.run(["ingest", "--table", table, "--input", str(tmp_path / "missing.ndjson")])
    ol.expect(proc, 1, "cannot open --input", "No such file or directory")
    proc = ol.run(["ingest", "--table", table, "--input", plain + "/events.ndjson"])
    ol.expect(proc, 1, "cannot open --input", "Not a directory")
    assert "NotFound" not in ol.stderr_text(proc), "the file exists: the cause is elsewhere"
    if os.geteuid() != 0:
        os.chmod(plain, 0)
        proc = ol.run(["ingest", "--table", table, "--input", plain])
        ol.expect(proc, 1, "cannot open --input", "Permission denied")
    proc = ol.run(["ingest", "--table", table, "--input", str(tmp_path)])
    ol.expect(proc, 1, "is a directory")
    ol.assert_readable(table, [])


def test_rejects_that_cannot_be_created_name_the_reason(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(1)])
    proc = ol.run(["ingest", "--table", table, "--input", path,
                   "--rejects", str(tmp_path / "no-such-dir" / "rejects.ndjson")])
    ol.expect(proc, 1, "cannot create --rejects", "No such file or directory")
    proc = ol.run(["ingest", "--table", table, "--input", path, "--rejects", str(tmp_path)])
    ol.expect(proc, 1, "cannot create --rejects", "Is a directory")
    ol.assert_readable(table, [])


def test_sync_without_wal_is_a_usage_error(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(1)])
    for flags in (["--sync", "none"], ["--sync-interval-ms", "5"]):
        proc = ol.run(["ingest", "--table", table, "--input", path, *flags])
        ol.expect(proc, 2, "need --wal")
    ol.assert_readable(table, [])


def test_a_table_of_another_schema_is_a_runtime_refusal(table, tmp_path):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake
    write_deltalake(table, pa.table({"a": pa.array([1, 2], pa.int64())}))
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(1)])
    proc = ol.run(["ingest", "--table", table, "--input", path])
    ol.expect(proc, 1, "opening " + table)
    t = DeltaTable(table)
    assert t.version() == 0 and t.to_pyarrow_table().num_rows == 2
