#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, build, unit tests, the conformance suite
# against real Spark + Delta, delta-rs and DuckDB, and the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== build (RelWithDebInfo)"
LAKELOG_BUILD_DIR=build bash scripts/build.sh

echo "== unit tests"
ctest --test-dir build --output-on-failure -j2

echo "== conformance suite (Spark + Delta, delta-rs, DuckDB)"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/conformance -q -p no:cacheprovider

echo "== durability: kill -9 during ingest --wal, then recover"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/durability -q -p no:cacheprovider

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
LAKELOG_BUILD_DIR=build-asan LAKELOG_TARGETS=lakelog_tests bash scripts/build.sh -DLAKELOG_SANITIZE=asan -DLAKELOG_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
