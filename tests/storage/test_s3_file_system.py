"""The S3 file system against a real S3 server (s3proxy): the FileSystem contract (put-if-absent
with one winner among racers, multipart uploads, range reads, paginated listings), a Delta table
written to s3:// that delta-rs reads back, and concurrent writers committing to one table."""

from __future__ import annotations

import json
import subprocess

from deltalake import DeltaTable


def run(args, env, timeout=300):
    return subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)


def test_the_file_system_contract_holds_on_a_real_s3_server(s3, bucket, s3_check_bin):
    proc = run([s3_check_bin, "contract", "contract"], s3.env(bucket))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout
    assert proc.stdout.count("ok  ") == 19, proc.stdout  # every check ran


def test_delta_rs_reads_every_row_of_a_table_we_wrote_to_s3(s3, bucket, s3_check_bin):
    proc = run([s3_check_bin, "append", "tables/logs", "5", "200"], s3.env(bucket))
    assert proc.returncode == 0, proc.stderr
    table = DeltaTable(f"s3://{bucket}/tables/logs", storage_options=s3.storage_options())
    assert table.version() == 5  # version 0 creates it, then one commit per round
    rows = table.to_pyarrow_table(columns=["pipeline", "message"]).to_pylist()
    assert len(rows) == 1000
    assert len({r["message"] for r in rows}) == 1000
    assert {r["pipeline"] for r in rows} == {"ingestion", "index loader"}


def test_concurrent_writers_lose_no_commit(s3, bucket, s3_check_bin):
    writers, commits = 8, 200  # the scenario: 1,600 racing commits
    proc = run([s3_check_bin, "concurrent", "tables/race", str(writers), str(commits)],
               s3.env(bucket), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["failed_writers"] == 0
    assert summary["version"] == writers * commits  # contiguous: one version per commit
    table = DeltaTable(f"s3://{bucket}/tables/race", storage_options=s3.storage_options())
    messages = table.to_pyarrow_table(columns=["message"]).column("message").to_pylist()
    assert len(messages) == writers * commits * 3
    assert len(set(messages)) == len(messages), "a row twice"


def test_wrong_credentials_fail_at_once_with_a_clear_error(s3, bucket, s3_check_bin):
    env = s3.env(bucket)
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    proc = run([s3_check_bin, "contract", "nope"], env, timeout=60)
    assert proc.returncode == 2
    assert "HTTP 403" in proc.stderr and "not retried" in proc.stderr, proc.stderr
