#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-asan/ (or
# $LAKELOG_FUZZ_BUILD_DIR) and runs each for $1 seconds (default 10). `make asan` builds the unit
# tests in the same directory with the same configuration, so the library is compiled once.
#
# Inputs: the checked-in seeds in fuzz/seeds/<target>/ (read only) and the growing corpus in
# fuzz/corpus-<target>/ (git-ignored; new interesting inputs are added there). Any crash,
# leak, timeout, OOM or sanitizer report fails the script; the reproducer is left in
# <build dir>/artifacts/ (git-ignored) and is named in the output. Each target's run prints
# its executions count (stat::number_of_executed_units) for the record (docs/durability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
build=${LAKELOG_FUZZ_BUILD_DIR:-build-asan}
# The same configuration as `make asan` (Makefile's ASAN_CMAKE).
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DLAKELOG_SANITIZE=asan \
  -DLAKELOG_BUILD_FUZZ=ON -DLAKELOG_BUILD_TESTS=ON -DLAKELOG_BUILD_BENCH=OFF >/dev/null
targets=$(cd fuzz && ls ./*_fuzz.cc | sed 's|^\./||; s/\.cc$//')
# shellcheck disable=SC2086
ninja -C "$build" -j"${LAKELOG_JOBS:-2}" $targets
artifacts="$build/artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts"
for target in $targets; do
  corpus="fuzz/corpus-$target"
  mkdir -p "$corpus"
  inputs=("$corpus")
  [ -d "fuzz/seeds/$target" ] && inputs+=("fuzz/seeds/$target")
  echo "== fuzz $target for ${seconds}s (corpus: $(find "$corpus" -type f | wc -l) files)"
  status=0
  "./$build/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "${inputs[@]}" \
    >"$artifacts/$target.log" 2>&1 || status=$?
  grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY)" \
    "$artifacts/$target.log" || true
  if [ "$status" -ne 0 ] || ls "$artifacts/$target-"* >/dev/null 2>&1; then
    echo "fuzz: $target found a problem (exit $status); log: $artifacts/$target.log"
    ls "$artifacts/$target-"* 2>/dev/null || true
    tail -n 40 "$artifacts/$target.log"
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds}s without a finding"
