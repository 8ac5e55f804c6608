"""Fixtures of the S3 suite: ONE s3proxy server per pytest session (a real S3 server on a free
127.0.0.1 port, stopped at the end) and a fresh bucket per test."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "kafka"))
from kafka_broker import session_broker  # noqa: E402
import lakelog_testlib as tl  # noqa: E402 (on the path through tests/conftest.py)
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


@pytest.fixture(scope="session")
def s3_check_bin() -> str:
    path = os.path.join(tl.build_dir(), "tests", "storage", "lakelog_s3_check")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not built: build target lakelog_s3_check", pytrace=False)
    return path


# A Kafka broker, for kafka-ingest into an s3:// table (started only by the tests asking).
kafka = pytest.fixture(scope="session", name="kafka")(session_broker)
