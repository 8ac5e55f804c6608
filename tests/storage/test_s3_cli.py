"""The command line on s3:// tables (a real S3 server, s3proxy): ingest, demo, describe,
history, optimize, vacuum and checkpoint take `--table s3://bucket/prefix` with the endpoint and
credentials from the AWS environment, and delta-rs reads every row back."""

from __future__ import annotations

import json
import subprocess

from deltalake import DeltaTable


def run(args, env, timeout=300):
    return subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)


def events(n: int, tag: str) -> str:
    return "".join(json.dumps({"pipeline": f"p{i % 3}", "ts": f"2026-12-0{1 + i % 3}T10:00:00.{i:06d}Z",
                               "stage": "load", "status": "FAILED" if i % 7 == 0 else "SUCCESS",
                               "message": f"{tag}-{i}"}) + "\n" for i in range(n))


def test_ingest_describe_history_optimize_vacuum_on_s3(s3, bucket, lakelog_bin, tmp_path):
    env = s3.env(bucket)
    uri = f"s3://{bucket}/logs/pipeline_logs"
    for round_ in range(3):
        path = tmp_path / f"in{round_}.ndjson"
        path.write_text(events(500, f"r{round_}"))
        proc = run([lakelog_bin, "ingest", "--table", uri, "--input", str(path), "--json"], env)
        assert proc.returncode == 0, proc.stderr
    proc = run([lakelog_bin, "describe", "--table", uri], env)
    assert proc.returncode == 0, proc.stderr
    described = json.loads(proc.stdout)
    assert described["rows"] == 1500 and described["version"] == 3
    proc = run([lakelog_bin, "history", "--table", uri], env)
    assert proc.returncode == 0 and len(proc.stdout.strip().splitlines()) == 4, proc.stdout
    proc = run([lakelog_bin, "optimize", "--table", uri, "--json"], env)
    assert proc.returncode == 0, proc.stderr
    optimized = json.loads(proc.stdout)
    assert optimized["files_removed"] > optimized["files_added"] > 0, proc.stdout
    proc = run([lakelog_bin, "vacuum", "--table", uri, "--dry-run", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    proc = run([lakelog_bin, "checkpoint", "--table", uri], env)
    assert proc.returncode == 0, proc.stderr
    table = DeltaTable(uri, storage_options=s3.storage_options())
    messages = table.to_pyarrow_table(columns=["message"]).column("message").to_pylist()
    assert sorted(messages) == sorted(f"r{r}-{i}" for r in range(3) for i in range(500))


def test_demo_with_a_local_wal_writes_an_s3_table_exactly_once(s3, bucket, lakelog_bin, tmp_path):
    env = s3.env(bucket)
    uri = f"s3://{bucket}/demo"
    proc = run([lakelog_bin, "demo", "--table", uri, "--wal", str(tmp_path / "wal"),
                "--seconds", "2", "--rate", "200", "--quiet"], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = DeltaTable(uri, storage_options=s3.storage_options())
    columns = ["pipeline", "ts", "message", "run_id", "stage", "status", "attributes"]
    rows = table.to_pyarrow_table(columns=columns).to_pylist()
    assert len(rows) > 300
    keys = [tuple(str(r[c]) for c in columns) for r in rows]
    assert len(set(keys)) == len(keys), "a row twice"


def test_an_s3_table_without_credentials_is_a_clear_error(s3, bucket, lakelog_bin, tmp_path):
    env = s3.env(bucket)
    del env["AWS_ACCESS_KEY_ID"]
    del env["AWS_SECRET_ACCESS_KEY"]
    proc = run([lakelog_bin, "describe", "--table", f"s3://{bucket}/nothing"], env, timeout=60)
    assert proc.returncode == 2  # a configuration mistake, like a bad flag
    assert "no credentials" in proc.stderr and "AWS_ACCESS_KEY_ID" in proc.stderr, proc.stderr


def test_the_demo_takes_the_endpoint_from_the_toml_s3_section(s3, bucket, lakelog_bin, tmp_path):
    env = s3.env(bucket)
    del env["AWS_ENDPOINT_URL"]  # only the config file names the server
    config = tmp_path / "demo.toml"
    config.write_text(f'[s3]\nendpoint = "{s3.endpoint}"\nmax_attempts = 4\n')
    uri = f"s3://{bucket}/from-config"
    proc = run([lakelog_bin, "demo", "--table", uri, "--config", str(config), "--seconds", "1",
                "--rate", "100", "--quiet"], env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = DeltaTable(uri, storage_options=s3.storage_options())
    assert table.to_pyarrow_dataset().count_rows() > 100


def test_kafka_ingest_commits_a_topic_to_an_s3_table_exactly_once(
        s3, bucket, kafka, lakelog_bin, tmp_path):
    topic = "s3-" + bucket
    kafka.create_topic(topic, partitions=3)
    kafka.produce(topic, [(f"p{i % 3}", line) for i, line in
                          enumerate(events(900, "k").splitlines())] + [("p0", "garbage")])
    uri = f"s3://{bucket}/from-kafka"
    args = [lakelog_bin, "kafka-ingest", "--brokers", kafka.bootstrap, "--topic", topic,
            "--group", "g", "--table", uri, "--available-now",
            "--dead-letters", str(tmp_path / "dead.ndjson")]
    for _ in range(2):  # the second run finds everything in the table's txns
        proc = run(args, s3.env(bucket))
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["rowsCommitted"] == 0
    table = DeltaTable(uri, storage_options=s3.storage_options())
    messages = table.to_pyarrow_table(columns=["message"]).column("message").to_pylist()
    assert sorted(messages) == sorted(f"k-{i}" for i in range(900))
    assert (tmp_path / "dead.ndjson").read_text().count("\n") == 1  # dead letters stay local
