#!/usr/bin/env bash
# Installs the library built in build/ (or $LAKELOG_BUILD_DIR) into a temporary prefix, builds
# examples/basic_logging.cc against that installation twice — as a CMake project with
# find_package(lakelog), and with a plain compiler call from pkg-config — runs both, and checks
# with `lakelog describe` that each committed the example's 4 rows. Fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${LAKELOG_BUILD_DIR:-build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null

rows_of() {
  "$build/src/cli/lakelog" describe --table "$1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["rows"])'
}

check() {  # check NAME BINARY
  local table="$work/table-$1"
  "$2" "$table"
  local rows
  rows=$(rows_of "$table")
  if [[ "$rows" != 4 ]]; then
    echo "example_build: $1: expected 4 rows in $table, found $rows" >&2
    exit 1
  fi
  echo "example_build: $1: built, ran, 4 rows committed"
}

# find_package(lakelog)
cmake -S examples -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
ninja -C "$work/cmake-build" >/dev/null
check find_package "$work/cmake-build/basic_logging"

# pkg-config
# shellcheck disable=SC2046
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" \
  g++ -std=c++20 -O1 examples/basic_logging.cc -o "$work/basic_logging-pc" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --static --libs lakelog)
check pkg-config "$work/basic_logging-pc"
