"""The engine's Kafka sink against the real broker: every event logged reaches a
read_committed consumer exactly once, also when the engine is killed with kill -9 and
restarted on its WAL (tests/kafka/kafka_writer.cc is the engine)."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time

import pytest


def run_writer(writer_bin, kafka, topic, *args, timeout=180):
    proc = subprocess.run([writer_bin, "--brokers", kafka.bootstrap, "--topic", topic,
                           "--progress-topic", topic + "-progress", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    assert proc.stdout.decode().strip().endswith("done")
    return proc


def run_ids(messages) -> list[str]:
    out = []
    for m in messages:
        event = json.loads(m.value())
        assert m.key().decode() == event["pipeline"]
        out.append(event["run_id"])
    return out


def test_engine_events_reach_read_committed_consumer_exactly_once(kafka, kafka_writer_bin,
                                                                  topic_name):
    kafka.create_topic(topic_name, partitions=3)
    run_writer(kafka_writer_bin, kafka, topic_name, "--events", "3000", "--prefix", "a")
    messages = kafka.consume_committed(topic_name)
    ids = run_ids(messages)
    assert sorted(ids) == sorted(f"a-{i}" for i in range(3000))
    event = json.loads(messages[0].value())
    assert event["stage"] == "emit" and event["status"] == "SUCCESS" and event["level"] == "INFO"
    assert event["ts"].endswith("Z") and len(event["ts"]) == len("2026-11-24T10:15:30.123456Z")


def test_engine_killed_and_restarted_on_its_wal_loses_and_doubles_nothing(
        kafka, kafka_writer_bin, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=2)
    wal = str(tmp_path / "wal")
    acked = -1
    total = 0
    for trial in range(3):
        start = trial * 100_000
        proc = subprocess.Popen([kafka_writer_bin, "--brokers", kafka.bootstrap,
                                 "--topic", topic_name, "--progress-topic", topic_name + "-progress",
                                 "--wal", wal, "--prefix", "k", "--start", str(start),
                                 "--events", "50000", "--ack-every", "200",
                                 "--sleep-every", "50"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        acks = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and acks < 5 + 3 * trial:
            line = proc.stdout.readline().decode()
            if not line:
                break
            if line.startswith("ack "):
                acks += 1
                acked = int(line.split()[1])
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert acks >= 5, "the writer acknowledged nothing before the kill"
        # Everything up to `acked` within this trial is durable and must be delivered.
        trial_acked = [f"k-{i}" for i in range(start, acked + 1)]
        total += len(trial_acked)
        # Restarted on the same WAL: replays what it held, commits it once, exits.
        run_writer(kafka_writer_bin, kafka, topic_name, "--wal", wal, "--events", "0")
        ids = run_ids(kafka.consume_committed(topic_name, idle_seconds=1.0))
        counts = collections.Counter(ids)
        doubled = [i for i, c in counts.items() if c > 1]
        assert not doubled, f"{len(doubled)} events seen twice, e.g. {doubled[:5]}"
        missing = [i for i in trial_acked if i not in counts]
        assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:5]}"
