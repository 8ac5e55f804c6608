"""`lakelog kafka-ingest` against the real broker: every produced event lands in the table
exactly once (read back by delta-rs, by unique run_ids), poison messages go to the dead-letter
file, a second run finds nothing new, and SIGTERM commits what is buffered."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import kafka_testlib as kt
from kafka_broker import free_port


def test_available_now_ingests_once_and_dead_letters_poison(kafka, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    kafka.produce(topic_name, kt.messages(range(2000)))
    poison = [(b"p0", b"not json at all"), (b"p1", b"{\"pipeline\":\"p\xff\xfe\",\"ts\":1}"),
              (b"p2", b"{\"pipeline\":\"p\",\"ts\":\"" + b"x" * (5 << 20) + b"\"}"),
              (b"p0", json.dumps({"pipeline": "p", "ts": 1, "bogus": 1}).encode())]
    kafka.produce(topic_name, poison, partition=1)
    kafka.produce(topic_name, kt.messages(range(2000, 2100)))
    table = str(tmp_path / "table")
    dead = str(tmp_path / "dead.ndjson")

    proc = kt.run_ingest(kafka, table, [topic_name], "g1", "--dead-letters", dead,
                         "--max-events", "700")
    s = kt.summary(proc)
    assert s["messages"] == 2104 and s["rowsCommitted"] == 2100 and s["deadLetters"] == 4, s
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(2100)])
    with open(dead) as f:
        letters = [json.loads(line) for line in f]
    assert len(letters) == 4
    assert {d["partition"] for d in letters} == {1}
    assert all(d["topic"] == topic_name and d["reason"] and d["offset"] >= 0 for d in letters)
    assert max(d["bytes"] for d in letters) > 5 << 20

    # The table is the truth: the same group finds nothing new, and nothing lands twice.
    again = kt.run_ingest(kafka, table, [topic_name], "g1", "--dead-letters", dead)
    assert kt.summary(again)["messages"] == 0, kt.summary(again)
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(2100)])
    with open(dead) as f:
        assert len(f.readlines()) == 4

    # Offsets are committed to Kafka for lag tools (monitoring only).
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "g1"})
    committed = c.committed([TopicPartition(topic_name, p) for p in range(4)], timeout=10)
    ends = [c.get_watermark_offsets(TopicPartition(topic_name, p), timeout=10)[1]
            for p in range(4)]
    c.close()
    assert sum(1 for e in ends if e > 0) >= 3  # the keys spread over the partitions
    assert [tp.offset for tp, e in zip(committed, ends) if e > 0] == [e for e in ends if e > 0]


def test_engine_kafka_sink_into_kafka_ingest_with_4_partitions(kafka, kafka_writer_bin,
                                                               topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=4)
    proc = subprocess.run([kafka_writer_bin, "--brokers", kafka.bootstrap, "--topic", topic_name,
                           "--progress-topic", topic_name + "-progress", "--events", "4000",
                           "--prefix", "w", "--pipelines", "5"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    table = str(tmp_path / "table")
    s = kt.summary(kt.run_ingest(kafka, table, [topic_name], "g"))
    assert s["deadLetters"] == 0 and s["rowsCommitted"] == 4000, s
    kt.assert_exactly_once(table, [f"w-{i}" for i in range(4000)])


def test_sigterm_commits_what_is_buffered_and_exits_0(kafka, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=2)
    kafka.produce(topic_name, kt.messages(range(500)))
    table = str(tmp_path / "table")
    port = free_port()
    proc = subprocess.Popen(kt.ingest_cmd(kafka, table, [topic_name], "g", "--max-latency",
                                          "600", "--metrics-port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kt.wait_for(lambda: _metric(port, "lakelog_kafka_ingest_messages_total") == 500, 60,
                    "500 messages consumed")
        assert kt.table_run_ids(table) == []  # buffered: the latency trigger is far away
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert json.loads(out.decode().splitlines()[-1])["rowsCommitted"] == 500
    kt.assert_exactly_once(table, [f"m-{i}" for i in range(500)])


def _metric(port, name):
    try:
        return kt.metric_sum(port, name)
    except OSError:
        return None
