"""Fixtures of the S3 suite: ONE s3proxy server per pytest session (a real S3 server on a free
127.0.0.1 port, stopped at the end) and a fresh bucket per test."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from s3_server import S3PROXY_JAR, S3Server  # noqa: E402


@pytest.fixture(scope="session")
def s3(tmp_path_factory):
    """The server. A missing jar is a failure, never a skip: run scripts/setup.sh."""
    if not os.path.isfile(S3PROXY_JAR):
        pytest.fail(f"{S3PROXY_JAR} not found: run scripts/setup.sh", pytrace=False)
    server = S3Server(str(tmp_path_factory.mktemp("s3proxy")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3):
    name = "b-" + uuid.uuid4().hex[:12]
    s3.create_bucket(name)
    return name


def build_dir() -> str:
    return os.environ.get("LAKELOG_BUILD_DIR", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build"))


@pytest.fixture(scope="session")
def s3_check_bin() -> str:
    path = os.path.join(build_dir(), "tests", "storage", "lakelog_s3_check")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: build target lakelog_s3_check", pytrace=False)
    return path


@pytest.fixture(scope="session")
def lakelog_bin() -> str:
    path = os.path.join(build_dir(), "src", "cli", "lakelog")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built", pytrace=False)
    return path


@pytest.fixture(scope="session")
def kafka(tmp_path_factory):
    """A Kafka broker, for kafka-ingest into an s3:// table (started only by tests asking)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "kafka"))
    from kafka_broker import KAFKA_LIB, KafkaBroker  # noqa: PLC0415
    if not os.path.isdir(KAFKA_LIB):
        pytest.fail(f"Kafka jars not found in {KAFKA_LIB}: run scripts/setup.sh", pytrace=False)
    broker = KafkaBroker(str(tmp_path_factory.mktemp("kafka")))
    broker.start()
    yield broker
    broker.stop()
