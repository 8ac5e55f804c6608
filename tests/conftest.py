"""Fixtures shared by every Python suite under tests/ (conformance, operator, durability): the
lakelog binary, one lazily started Spark session per pytest run (stopped at the end), and fresh
table directories. Running several suites in one pytest invocation starts Spark once."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "conformance"))
import lakelog_testlib as tl  # noqa: E402


@pytest.fixture(scope="session")
def lakelog_bin() -> str:
    """The CLI under test. A missing binary is a failure, never a skip: the suites exist to
    check it."""
    path = tl.lakelog_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"lakelog binary not found at {path}: build target `lakelog` "
                    f"(or point LAKELOG_BUILD_DIR at the build directory holding src/cli/lakelog)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def spark():
    """One Spark 4.2 + Delta session for the whole run, started only by tests that need it."""
    session = tl.make_spark_session()
    yield session
    session.stop()


@pytest.fixture
def table(tmp_path, lakelog_bin) -> str:
    """A path for a new table (not yet created) inside a per-test directory."""
    return str(tmp_path / "pipeline_logs")
