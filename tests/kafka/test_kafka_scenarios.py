"""Crash and rebalance scenarios with the real broker, each ending with every produced event in
the table exactly once (delta-rs, by unique run_ids): kafka-ingest killed with kill -9 and
restarted; two members of one group, one killed mid-stream, then a third joining; the broker
restarted under a producing engine and a consuming daemon."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import kafka_testlib as kt

# Fast failure detection for the group: a killed member's partitions move after ~6 s, not 45.
GROUP_PROPS = ["--kafka-property", "session.timeout.ms=6000",
               "--kafka-property", "heartbeat.interval.ms=1000"]


def start_member(kafka, table, topic, group, *extra):
    return subprocess.Popen(kt.ingest_cmd(kafka, table, [topic], group, "--max-events", "400",
                                          "--max-latency", "0.3", *GROUP_PROPS, *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def stop_member(proc):
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=90)
    assert proc.returncode == 0, f"member exited with {proc.returncode} after SIGTERM"


def test_kafka_ingest_killed_and_restarted(kafka, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    n = 30000
    kafka.produce(topic_name, kt.messages(range(n)))
    table = str(tmp_path / "table")
    rng = random.Random()
    kills = 0
    for _ in range(4):
        before = len(kt.table_run_ids(table))
        proc = start_member(kafka, table, topic_name, "g")
        # Kill at a random moment once it has made progress (or right away, now and then).
        if rng.random() < 0.75:
            kt.wait_for(lambda: len(kt.table_run_ids(table)) > before or proc.poll() is not None,
                        60, "a commit")
            time.sleep(rng.uniform(0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        if len(kt.table_run_ids(table)) == n:
            break
    assert kills >= 2
    kt.run_ingest(kafka, table, [topic_name], "g")
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(n)])


def test_two_members_one_killed_then_a_third_joins(kafka, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    n = 20000
    kafka.produce(topic_name, kt.messages(range(n)))
    table = str(tmp_path / "table")
    a = start_member(kafka, table, topic_name, "g2")
    b = start_member(kafka, table, topic_name, "g2")
    try:
        kt.wait_for(lambda: len(kt.table_run_ids(table)) >= 2000, 60, "2000 rows")
        a.send_signal(signal.SIGKILL)
        a.wait()
        # More data while the group has one member left and a third one joins.
        kafka.produce(topic_name, kt.messages(range(n, n + 5000)))
        c = start_member(kafka, table, topic_name, "g2")
        try:
            kt.wait_for(lambda: len(kt.table_run_ids(table)) >= n + 5000, 150,
                        "every row after the takeover", interval=1.0)
        finally:
            stop_member(c)
    finally:
        if a.poll() is None:
            a.kill()
        stop_member(b)
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(n + 5000)])


def test_broker_restart_under_sink_and_daemon(kafka, kafka_writer_bin, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    table = str(tmp_path / "table")
    daemon = start_member(kafka, table, topic_name, "g3")
    writer = subprocess.Popen([kafka_writer_bin, "--brokers", kafka.bootstrap, "--topic",
                               topic_name, "--progress-topic", topic_name + "-progress",
                               "--wal", str(tmp_path / "wal"), "--events", "12000",
                               "--prefix", "b", "--sleep-every", "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        kt.wait_for(lambda: len(kt.table_run_ids(table)) > 0, 60, "first rows")
        kafka.restart()
        out, _ = writer.communicate(timeout=240)
        assert writer.returncode == 0 and out.decode().strip().endswith("done")
        kt.wait_for(lambda: len(kt.table_run_ids(table)) >= 12000, 120, "every row",
                    interval=1.0)
    finally:
        if writer.poll() is None:
            writer.kill()
        stop_member(daemon)
    kt.assert_exactly_once(table, [f"b-{i}" for i in range(12000)])
