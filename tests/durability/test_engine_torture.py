"""The short run of the kill -9 torture harness (tests/durability/torture.py): a writer with a
WAL is killed at random moments and inside WAL appends, segment rolls, fsyncs, data-file writes
and commits; every acknowledged event ends up in the table exactly once, by delta-rs and Spark.
The documented long run is `.venv/bin/python tests/durability/torture.py --trials 100`."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import torture  # noqa: E402


def test_kill9_torture_short_run(tmp_path):
    outcome = torture.torture(trials=8, seed=20261124, work_dir=str(tmp_path), spark=True)
    assert outcome.trials == 8
    assert outcome.spark_checked
    # The run must have acknowledged something, or it proves nothing.
    assert sum(outcome.acked.values()) > 0
    assert outcome.rows >= sum(outcome.acked.values())
