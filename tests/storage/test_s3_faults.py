"""Faults between lakelog and a real S3 server: a commit whose answer is lost after the server
stored it (the retry must not make a second version), and the server killed and restarted in
the middle of a run of commits (the retries ride it out; nothing lost or doubled)."""

from __future__ import annotations

import subprocess
import time

from deltalake import DeltaTable
from fault_proxy import FaultProxy


def read_messages(s3, uri):
    table = DeltaTable(uri, storage_options=s3.storage_options())
    return table.version(), table.to_pyarrow_table(columns=["message"]).column("message").to_pylist()


def test_a_commit_whose_answer_was_lost_is_not_committed_twice(s3, bucket, s3_check_bin):
    proxy = FaultProxy(s3.port).start()
    try:
        # The conditional PUT of version 2 reaches the server; its answer never comes back.
        proxy.lose.append(("PUT", r"_delta_log/0+2\.json"))
        env = s3.env(bucket)
        env["http_proxy"] = f"http://127.0.0.1:{proxy.port}"
        env.pop("no_proxy", None)
        env.pop("NO_PROXY", None)
        proc = subprocess.run([s3_check_bin, "append", "tables/lost", "4", "100"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=300)
    finally:
        proxy.stop()
    assert proxy.lost and "00000000000000000002.json" in proxy.lost[0][1], proxy.lost
    assert proc.returncode == 0, proc.stderr
    version, messages = read_messages(s3, f"s3://{bucket}/tables/lost")
    assert version == 4, "the lost answer made a second version"
    assert len(messages) == 400 and len(set(messages)) == 400


def test_the_server_killed_and_restarted_mid_run_loses_and_doubles_nothing(
        s3, bucket, s3_check_bin):
    rounds, events = 60, 200
    proc = subprocess.Popen([s3_check_bin, "append", "tables/restart", str(rounds), str(events)],
                            env=s3.env(bucket), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        # Wait for the table to exist and some commits to land, then take the server away.
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if DeltaTable(f"s3://{bucket}/tables/restart",
                              storage_options=s3.storage_options()).version() >= 3:
                    break
            except Exception:  # noqa: BLE001 (not there yet)
                pass
            time.sleep(0.1)
        s3.restart(down_seconds=1.0)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    version, messages = read_messages(s3, f"s3://{bucket}/tables/restart")
    assert version == rounds
    assert len(messages) == rounds * events and len(set(messages)) == len(messages)


def test_a_store_without_conditional_writes_is_refused_unless_single_writer(
        s3, bucket, lakelog_bin, tmp_path):
    proxy = FaultProxy(s3.port).start()
    proxy.ignore_conditions = True  # a conditional PUT on a taken key "succeeds"
    try:
        env = s3.env(bucket)
        env["http_proxy"] = f"http://127.0.0.1:{proxy.port}"
        uri = f"s3://{bucket}/unconditional"
        refused = subprocess.run([lakelog_bin, "demo", "--table", uri, "--seconds", "0",
                                  "--quiet"], env=env, capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode == 2, refused.stderr
        assert "does not honour conditional writes" in refused.stderr, refused.stderr
        config = tmp_path / "single.toml"
        config.write_text("[s3]\nsingle_writer = true\n")
        allowed = subprocess.run([lakelog_bin, "demo", "--table", uri, "--seconds", "1",
                                  "--rate", "50", "--quiet", "--config", str(config)],
                                 env=env, capture_output=True, text=True, timeout=120)
        assert allowed.returncode == 0, allowed.stderr[-3000:]
    finally:
        proxy.stop()
    assert DeltaTable(f"s3://{bucket}/unconditional",
                      storage_options=s3.storage_options()).to_pyarrow_dataset().count_rows() > 0


def test_slow_down_429_and_5xx_answers_are_retried(s3, bucket, lakelog_bin, tmp_path):
    proxy = FaultProxy(s3.port).start()
    # Data uploads, the commit's conditional PUT and the log listing are each refused a few
    # times, as S3 does under load.
    proxy.refuse += [["PUT", r"\.parquet", 503, 3], ["PUT", r"_delta_log/0+1\.json", 500, 2],
                     ["GET", r"list-type=2", 429, 2]]
    try:
        env = s3.env(bucket)
        env["http_proxy"] = f"http://127.0.0.1:{proxy.port}"
        path = tmp_path / "in.ndjson"
        path.write_text("".join(
            f'{{"pipeline":"p{i % 3}","ts":"2026-12-04T10:00:00.{i:06d}Z","message":"m{i}"}}\n'
            for i in range(300)))
        uri = f"s3://{bucket}/throttled"
        proc = subprocess.run([lakelog_bin, "ingest", "--table", uri, "--input", str(path)],
                              env=env, capture_output=True, text=True, timeout=300)
    finally:
        proxy.stop()
    assert proc.returncode == 0, proc.stderr
    assert sorted(status for _, _, status in proxy.refused) == [429, 429, 500, 500, 503, 503, 503]
    version, messages = read_messages(s3, uri)
    assert version == 1  # the commit refused twice landed once
    assert sorted(messages) == sorted(f"m{i}" for i in range(300))
