"""The operator-mistakes suite: what a new user or an adversary does wrong with `lakelog ingest`,
`recover` and `demo`, each case asserting the exit code, the message, and what delta-rs (and, for
the table-level cases, Spark) reads back afterwards. Fixtures come from tests/conftest.py; the
helpers of the conformance suite (lakelog_testlib) and of this suite (operator_lib) are on the
path."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
sys.path.insert(0, os.path.dirname(__file__))
