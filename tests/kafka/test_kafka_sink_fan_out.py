"""The fan-out from the command line: `lakelog demo --kafka` writes every event to the Delta table
AND to Kafka (one engine, two sinks), each exactly once; with Kafka down the table keeps
committing on time, and the events reach Kafka once it is back (from the WAL)."""

from __future__ import annotations

import collections
import json
import subprocess

from deltalake import DeltaTable


def table_events(table: str) -> collections.Counter:
    t = DeltaTable(table).to_pyarrow_table(columns=["pipeline", "ts", "stage", "status", "message"])
    rows = zip(*(t.column(c).to_pylist() for c in ["pipeline", "ts", "stage", "status", "message"]))
    # Microsecond timestamps as integers, to compare with the JSON text of the Kafka messages.
    return collections.Counter((p, int(ts.timestamp() * 1_000_000 + 0.5) if ts else None, st, s, m)
                               for p, ts, st, s, m in rows)


def kafka_events(kafka, topic: str) -> collections.Counter:
    from datetime import datetime
    out = collections.Counter()
    for message in kafka.consume_committed(topic):
        e = json.loads(message.value())
        assert message.key().decode() == e["pipeline"]
        ts = datetime.fromisoformat(e["ts"].replace("Z", "+00:00"))
        out[(e["pipeline"], int(ts.timestamp() * 1_000_000 + 0.5), e.get("stage"), e.get("status"),
             e.get("message"))] += 1
    return out


def test_demo_writes_every_event_to_the_table_and_to_kafka_once(kafka, lakelog_bin, topic_name,
                                                                tmp_path):
    kafka.create_topic(topic_name, partitions=3)
    table = str(tmp_path / "table")
    proc = subprocess.run(
        [lakelog_bin, "demo", "--table", table, "--seconds", "2", "--rate", "300",
         "--quiet", "--wal", str(tmp_path / "wal"), "--kafka", kafka.bootstrap,
         "--kafka-topic", topic_name, "--kafka-property", "linger.ms=5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    in_table = table_events(table)
    in_kafka = kafka_events(kafka, topic_name)
    assert sum(in_table.values()) > 500
    assert in_kafka == in_table, (
        f"{sum((in_table - in_kafka).values())} table events not in Kafka, "
        f"{sum((in_kafka - in_table).values())} Kafka events not in the table")


def test_kafka_down_does_not_hold_back_the_table_and_catches_up_from_the_wal(
        kafka, lakelog_bin, topic_name, tmp_path):
    kafka.create_topic(topic_name, partitions=1)
    table = str(tmp_path / "table")
    wal = str(tmp_path / "wal")
    # A broker that does not answer ([kafka] in the config file): the demo's Kafka sink
    # retries, the table commits on time.
    down = subprocess.run(
        [lakelog_bin, "demo", "--table", table, "--seconds", "2", "--rate", "200",
         "--quiet", "--wal", wal, "--kafka-topic", topic_name,
         "--config", str(_write_config(tmp_path, stop_timeout_ms=3000))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    err = down.stderr.decode(errors="replace")
    # Stop() reports that Kafka did not take everything: the events are kept in the WAL.
    assert down.returncode == 1, err[-3000:]
    assert "sink kafka" in err and "kept in the WAL" in err, err[-3000:]
    in_table = table_events(table)
    assert sum(in_table.values()) > 300, "the table waited for the Kafka sink"
    # The same WAL with the broker up: Kafka gets the events it lacks, the table none twice.
    up = subprocess.run(
        [lakelog_bin, "demo", "--table", table, "--seconds", "0", "--quiet", "--wal", wal,
         "--kafka", kafka.bootstrap, "--kafka-topic", topic_name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    assert up.returncode == 0, up.stderr.decode(errors="replace")[-3000:]
    after = table_events(table)
    # The second run logs a little of its own (its final events); nothing of the first twice.
    assert not (in_table - after), "events of the first run left the table"
    first_run_end = max(k[1] for k in in_table)
    assert all(k[1] > first_run_end for k in after - in_table), "the restart replayed the table"
    in_kafka = kafka_events(kafka, topic_name)
    assert in_kafka == after, (
        f"{sum((after - in_kafka).values())} table events not in Kafka, "
        f"{sum((in_kafka - after).values())} Kafka events not in the table")


def _write_config(tmp_path, stop_timeout_ms: int):
    path = tmp_path / "demo.toml"
    path.write_text(f"[engine]\nstop_timeout_ms = {stop_timeout_ms}\n"
                    "retry_max_backoff_ms = 500\n\n"
                    "[kafka]\nbrokers = \"127.0.0.1:1\"\noperation_timeout_ms = 1000\n"
                    "[kafka.properties]\n\"socket.connection.setup.timeout.ms\" = \"1000\"\n")
    return path
