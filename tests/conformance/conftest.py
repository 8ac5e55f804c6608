"""The conformance suite's fixtures live in tests/conftest.py (shared with the operator-mistakes
suite, so one pytest run starts Spark once); this file only puts lakelog_testlib on the path."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
