#!/usr/bin/env bash
# Configures and builds lakelog into build/ (or $LAKELOG_BUILD_DIR). Extra args go to cmake;
# $LAKELOG_TARGETS limits what ninja builds (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LAKELOG_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# shellcheck disable=SC2086
ninja -C "$build" -j"${LAKELOG_JOBS:-2}" ${LAKELOG_TARGETS:-}
