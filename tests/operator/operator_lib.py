"""Helpers of the operator-mistakes suite. Every case ends with `assert_readable`: whatever the
mistake, a table lakelog wrote stays fully readable by delta-rs (and by Spark where a test asks
for it), and holds exactly the rows the test expects."""

from __future__ import annotations

import os
import subprocess
from typing import Sequence

import lakelog_testlib as tl

run_lakelog = tl.run_lakelog
describe_proc = tl.describe_proc


def run(args: Sequence[str], *, stdin: bytes | None = None, cwd: str | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the CLI (optionally from another working directory); never raises on exit codes."""
    return subprocess.run([tl.lakelog_path(), *args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, cwd=cwd)


def stderr_text(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode("utf-8", "replace")


def expect(proc: subprocess.CompletedProcess, code: int, *messages: str) -> None:
    """The exit code is `code` and stderr contains every one of `messages` (case-insensitive)."""
    assert proc.returncode == code, describe_proc(proc)
    err = stderr_text(proc).lower()
    for m in messages:
        assert m.lower() in err, f"stderr lacks {m!r}\n" + describe_proc(proc)


def write_lines(path: str, lines) -> str:
    with open(path, "wb") as f:
        f.write(tl.lines_to_bytes(lines))
    return path


def event(i: int, pipeline: str = "p", **fields) -> dict:
    """A valid event with a unique run_id `e-<i>`."""
    e = {"pipeline": pipeline, "ts": 1_764_000_000_000 + i, "level": "INFO", "stage": "s",
         "status": "SUCCESS", "message": f"event {i}", "run_id": f"e-{i}"}
    e.update(fields)
    return e


def deltars_rows(table: str) -> list[tuple]:
    """Every row of the table through delta-rs, as lakelog_testlib's row tuples. Raises if
    delta-rs cannot read the table whole."""
    from deltalake import DeltaTable
    return tl.rows_from_arrow(DeltaTable(table).to_pyarrow_table())


def assert_readable(table: str, expected_run_ids: Sequence[str] | None = None,
                    spark=None) -> list[tuple]:
    """delta-rs (and Spark when given) read the whole table; when `expected_run_ids` is given,
    the table holds exactly those run_ids, each once. A table that does not exist is read as
    empty (a mistake refused up front must not create one) and then expected to be empty."""
    if not os.path.isdir(os.path.join(table, "_delta_log")):
        assert not expected_run_ids, f"table {table} does not exist; expected rows"
        return []
    rows = deltars_rows(table)
    if expected_run_ids is not None:
        got = sorted(r[7] for r in rows)
        assert got == sorted(expected_run_ids), (
            f"delta-rs read {len(got)} rows, expected {len(expected_run_ids)}; "
            f"first differences: {sorted(set(got) ^ set(expected_run_ids))[:5]}")
    if spark is not None:
        spark_rows = tl.rows_from_spark(spark.read.format("delta").load(table))
        assert spark_rows == rows, tl.first_diff(spark_rows, rows)
    return rows
