#!/usr/bin/env bash
# The main job, from a fresh machine: set-up, build, then `lakelog demo` on a local Delta table
# (./data/pipeline_logs by default). Extra arguments go to `lakelog demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
LAKELOG_BUILD_DIR=build bash scripts/build.sh -DLAKELOG_BUILD_TESTS=OFF -DLAKELOG_BUILD_BENCH=OFF
mkdir -p data
exec ./build/src/cli/lakelog demo --table data/pipeline_logs "$@"
