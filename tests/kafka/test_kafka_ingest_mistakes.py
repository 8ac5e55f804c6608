"""Operator mistakes with `lakelog kafka-ingest`: each is refused with its exit code and a
message that names it, and creates no table (or leaves the table exactly as it was)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "operator"))
import operator_lib as ol  # noqa: E402
import kafka_testlib as kt  # noqa: E402


def ingest(kafka, table, *extra):
    return ol.run(["kafka-ingest", "--brokers", kafka.bootstrap, "--group", "g", "--table", table,
                   *extra], timeout=120)


def test_unknown_kafka_property_is_a_usage_error_and_creates_no_table(kafka, topic_name, table):
    proc = ingest(kafka, table, "--topic", topic_name, "--kafka-property", "no.such.thing=1")
    ol.expect(proc, 2, "no.such.thing")
    ol.assert_readable(table, [])


def test_property_without_equals_is_a_usage_error(kafka, topic_name, table):
    proc = ingest(kafka, table, "--topic", topic_name, "--kafka-property", "session.timeout.ms")
    ol.expect(proc, 2, "key=value")
    ol.assert_readable(table, [])


def test_zero_max_latency_is_a_usage_error(kafka, topic_name, table):
    proc = ingest(kafka, table, "--topic", topic_name, "--max-latency", "0")
    ol.expect(proc, 2, "--max-latency")
    ol.assert_readable(table, [])


def test_missing_topic_is_a_usage_error(kafka, table):
    ol.expect(ingest(kafka, table), 2, "--topic")
    ol.assert_readable(table, [])


def test_dead_letter_file_in_a_missing_directory_fails_before_the_table(kafka, topic_name,
                                                                        table, tmp_path):
    kafka.create_topic(topic_name)
    proc = ingest(kafka, table, "--topic", topic_name, "--available-now", "--dead-letters",
                  str(tmp_path / "no" / "such" / "dir" / "dead.ndjson"))
    ol.expect(proc, 1, "dead-letter file")
    ol.assert_readable(table, [])


def test_rerun_on_a_table_with_rows_adds_nothing_twice(kafka, topic_name, table):
    kafka.create_topic(topic_name, partitions=2)
    kafka.produce(topic_name, kt.messages(range(50)))
    ol.expect(ingest(kafka, table, "--topic", topic_name, "--available-now"), 0)
    ol.expect(ingest(kafka, table, "--topic", topic_name, "--available-now"), 0)
    ol.assert_readable(table, [f"m-{i}" for i in range(50)])


def test_available_now_on_a_missing_topic_fails_and_creates_no_table(kafka, topic_name, table):
    proc = ingest(kafka, table, "--topic", topic_name, "--available-now")
    ol.expect(proc, 1, f"topic {topic_name} does not exist")
    ol.assert_readable(table, [])
