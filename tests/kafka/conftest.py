"""Fixtures of the Kafka suite: ONE real Kafka 3.9.1 broker per pytest session (formatted and
started on free 127.0.0.1 ports, stopped at the end), and a fresh topic name per test. The
`spark` fixture (one Spark session per run, with the Delta and Kafka-source jars of .cache/jars)
and `lakelog_bin` come from tests/conftest.py."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from kafka_broker import session_broker  # noqa: E402


kafka = pytest.fixture(scope="session", name="kafka")(session_broker)


@pytest.fixture
def topic_name():
    return "t-" + uuid.uuid4().hex[:12]


def build_dir() -> str:
    return os.environ.get("LAKELOG_BUILD_DIR", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build"))


@pytest.fixture(scope="session")
def kafka_writer_bin() -> str:
    path = os.path.join(build_dir(), "tests", "kafka", "lakelog_kafka_writer")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: build target lakelog_kafka_writer", pytrace=False)
    return path
