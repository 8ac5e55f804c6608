"""Crash and rebalance scenarios with the real broker, each ending with every produced event in
the table exactly once (delta-rs, by unique run_ids): kafka-ingest killed with kill -9 and
restarted; two members of one group, one killed mid-stream, then a third joining; the broker
restarted under a producing engine and a consuming daemon."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import pytest

import kafka_testlib as kt
from kafka_broker import free_port

# Fast failure detection for the group: a killed member's partitions move after ~6 s, not 45.
GROUP_PROPS = ["--kafka-property", "session.timeout.ms=6000",
               "--kafka-property", "heartbeat.interval.ms=1000"]


def start_member(kafka, table, topic, group, *extra, max_events="400", max_latency="0.3"):
    return subprocess.Popen(kt.ingest_cmd(kafka, table, [topic], group, "--max-events",
                                          max_events, "--max-latency", max_latency,
                                          *GROUP_PROPS, *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def stop_member(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, f"member exited with {proc.returncode} after SIGTERM"
    return out


def test_kafka_ingest_killed_and_restarted(kafka, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    # The suite kills a few times; the long run (docs/kafka.md) sets LAKELOG_KAFKA_KILLS=20+.
    trials = int(os.environ.get("LAKELOG_KAFKA_KILLS", "4"))
    n = 30000 * max(1, trials // 4)
    # The long run commits smaller batches, so that its members are killed mid-stream rather
    # than on a table they have completed.
    max_events = "400" if trials <= 4 else "100"
    kafka.produce(topic_name, kt.messages(range(n)))
    table = str(tmp_path / "table")
    rng = random.Random()
    kills = 0
    def commits() -> int:  # cheap enough to poll, unlike reading the table's rows
        log = os.path.join(table, "_delta_log")
        return sum(1 for f in os.listdir(log) if f.endswith(".json")) if os.path.isdir(log) else 0

    rows = 0  # in the table after the last kill
    for _ in range(trials):
        before = commits()
        proc = start_member(kafka, table, topic_name, "g", max_events=max_events)
        # Kill at a random moment once it has made progress (or right away, now and then).
        if rng.random() < 0.75:
            # A member started on a complete table has nothing to commit: kill it anyway.
            kt.wait_for(lambda: commits() > before or rows >= n or proc.poll() is not None, 60,
                        "a commit")
            time.sleep(rng.uniform(0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        # At least two kills even when the first member committed everything (an unloaded
        # machine drains the topic in one batch): a member killed on a complete table must
        # not double anything either.
        rows = len(kt.table_run_ids(table))
        if kills >= 2 and rows == n:
            break
    assert kills >= 2
    print(f"kafka-ingest killed {kills} times over {n} events")
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


def _rebalance_lines(log_text, kind):
    """The partitions (without their offsets) of each `kind` ("assigned" / "revoked") line of a
    member's log, in order."""
    found = []
    for line in log_text.splitlines():
        words = line.split()
        if len(words) > 2 and words[2] == kind:
            found.append([w.split("@")[0] for w in words[3:] if "[" in w])
    return found


@pytest.mark.parametrize("strategy", ["cooperative-sticky", "range"])
def test_a_joining_member_moves_only_its_partitions(kafka, topic_name, tmp_path, strategy):
    """Cooperative-sticky (the default): when a second member joins, the first gives up only the
    two partitions that move, keeps consuming the other two, and nothing is doubled or lost.
    An eager assignor (picked with --kafka-property) revokes all four first, then hands back
    two; exactly once all the same."""
    kafka.create_topic(topic_name, partitions=4)
    n = 8000
    kafka.produce(topic_name, kt.messages(range(n)))
    table = str(tmp_path / "table")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    extra = ["--kafka-property", f"partition.assignment.strategy={strategy}"]
    if strategy == "cooperative-sticky":
        extra = []  # the default
    members = []
    try:
        for log in logs:
            with open(log, "w") as err:
                members.append(subprocess.Popen(
                    kt.ingest_cmd(kafka, table, [topic_name], "gc", "--max-events", "400",
                                  "--max-latency", "0.3", *GROUP_PROPS, *extra),
                    stdout=subprocess.PIPE, stderr=err))
            if len(members) == 1:
                kt.wait_for(lambda: len(kt.table_run_ids(table)) >= 1000, 60, "A's first rows")
        kt.wait_for(lambda: any(_rebalance_lines(logs[1].read_text(), "assigned")), 60,
                    "B's assignment")
        kafka.produce(topic_name, kt.messages(range(n, n + 4000)))
        kt.wait_for(lambda: len(kt.table_run_ids(table)) >= n + 4000, 120, "every row",
                    interval=1.0)
        # The rebalance as it stood before the members stop (stopping is one more).
        a_log, b_log = (log.read_text() for log in logs)
    finally:
        for member in members:
            stop_member(member)
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(n + 4000)])
    a_assigned = _rebalance_lines(a_log, "assigned")
    a_revoked = _rebalance_lines(a_log, "revoked")
    b_assigned = [p for line in _rebalance_lines(b_log, "assigned") for p in line]
    assert len(a_assigned[0]) == 4, a_assigned
    assert len(b_assigned) == 2, b_assigned
    if strategy == "cooperative-sticky":
        # A's revocation when B joined named exactly B's two; A never lost the others until
        # its own shutdown, and was given nothing again.
        assert sorted(a_revoked[0]) == sorted(b_assigned), (a_revoked, b_assigned)
        assert a_assigned[1:] == [[]] * (len(a_assigned) - 1), a_assigned
        assert "(cooperative)" in a_log
    else:
        assert len(a_revoked[0]) == 4, a_revoked
        assert len(a_assigned) >= 2 and len(a_assigned[-1]) == 2, a_assigned


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


def test_member_paused_past_its_session_cannot_double_rows(kafka, topic_name, tmp_path):
    """A zombie: a member frozen (SIGSTOP) with a batch in flight loses its partitions to the
    other member; when it thaws, its batch must not land on top of the new owner's."""
    kafka.create_topic(topic_name, partitions=2)
    n = 6000
    kafka.produce(topic_name, kt.messages(range(n)))
    table = str(tmp_path / "table")
    # Long latency and a big batch: A's batch stays in flight until it thaws.
    port = free_port()
    a = start_member(kafka, table, topic_name, "gz", "--metrics-port", str(port),
                     max_events="1000000", max_latency="4")
    try:
        kt.wait_for(lambda: _metric(port, "lakelog_kafka_ingest_messages_total") == n, 60,
                    "A consumed every message")
        a.send_signal(signal.SIGSTOP)
        assert kt.table_run_ids(table) == []  # A's batch is in flight
        b = start_member(kafka, table, topic_name, "gz")
        try:
            kt.wait_for(lambda: len(kt.table_run_ids(table)) >= n, 90, "B commits every row",
                        interval=1.0)
            a.send_signal(signal.SIGCONT)
            time.sleep(3)  # A finds its batch held by the table and rejoins
            kafka.produce(topic_name, kt.messages(range(n, n + 1000)))
            kt.wait_for(lambda: len(kt.table_run_ids(table)) >= n + 1000, 90, "the new rows",
                        interval=1.0)
        finally:
            stop_member(b)
    finally:
        a.send_signal(signal.SIGCONT)
        out = stop_member(a)
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(n + 1000)])
    # The thawed batch was refused by the table, not committed on top of B's.
    assert json.loads(out.decode().splitlines()[-1])["abandonedBatches"] >= 1


def _metric(port, name):
    try:
        return kt.metric_sum(port, name)
    except OSError:
        return None
