#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, build, unit tests (with the fault-injection
# matrices), the example program built against the installed library, the conformance suite
# against real Spark + Delta, delta-rs and DuckDB, the durability tests, the unit tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer (`make asan`: a clang build that the fuzz
# targets then share), and a short run of every fuzz target. Exits non-zero if anything fails.
#
# The ThreadSanitizer suite (`make tsan`: its own build, then ~3 minutes of tests) is not part
# of it, to keep the script inside its 30-minute budget on the 2-core reference machine. Run it
# separately (nightly, or before merging changes to threaded code).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each stage's wall time goes to the log, so a slow stage is easy to find.
stage_start=$SECONDS
stage() {
  echo "== [$((SECONDS - stage_start)) s] $*"
}

bash scripts/setup.sh

stage "format: every C++ file is clang-format clean; includes follow the layering"
bash scripts/check_format.sh
python3 scripts/check_layering.py

stage "build (RelWithDebInfo)"
# Explicit ON: scripts/demo.sh configures the same build/ without tests and benchmarks, and
# CMake would remember that.
LAKELOG_BUILD_DIR=build bash scripts/build.sh -DLAKELOG_BUILD_TESTS=ON -DLAKELOG_BUILD_BENCH=ON

stage "unit tests"
ctest --test-dir build --output-on-failure -j2 --no-tests=error

stage "examples: the installed library, with find_package(lakelog) and with pkg-config"
bash scripts/example_build.sh

stage "conformance suite (Spark + Delta, delta-rs, DuckDB), the operator-mistakes suite and the analytics suite (query, report vs Spark SQL, serve in Chromium)"
# One pytest run for all three, so Spark starts once (tests/conftest.py holds the shared fixtures).
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/conformance tests/operator tests/analytics -q \
  -p no:cacheprovider

stage "kafka: sink and kafka-ingest against a real single-node Kafka 3.9.1 broker"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/kafka -q -p no:cacheprovider

stage "opensearch: the OpenSearch sink, demo --opensearch and kafka-ingest --opensearch against a real OpenSearch 3.8 node"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/opensearch -q -p no:cacheprovider

stage "s3: the S3 file system and a Delta table on s3:// against a real S3 server (s3proxy)"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/storage -q -p no:cacheprovider

stage "durability: kill -9 during ingest --wal, then recover"
LAKELOG_BUILD_DIR="$(pwd)/build" .venv/bin/pytest tests/durability -q -p no:cacheprovider

stage "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
make --no-print-directory asan

stage "fuzzing: every libFuzzer target for a few seconds (longer runs: make fuzz)"
bash scripts/fuzz.sh "${LAKELOG_FUZZ_SECONDS:-5}"

stage "all passed"
