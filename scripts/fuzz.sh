#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each for
# $1 seconds (default 10) from its corpus in fuzz/corpus-<target>/ (git-ignored). Any crash,
# leak or sanitizer report fails the script; the reproducer is left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLAKELOG_BUILD_FUZZ=ON -DLAKELOG_SANITIZE=asan -DLAKELOG_BUILD_TESTS=OFF \
  -DLAKELOG_BUILD_BENCH=OFF >/dev/null
targets=$(cd fuzz && ls *_fuzz.cc | sed 's/\.cc$//')
# shellcheck disable=SC2086
ninja -C build-fuzz -j"${LAKELOG_JOBS:-2}" $targets
for target in $targets; do
  corpus="fuzz/corpus-$target"
  mkdir -p "$corpus"
  echo "== fuzz $target for ${seconds}s"
  (cd build-fuzz && "./fuzz/$target" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "../$corpus" 2>&1 |
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" || true)
  # libFuzzer exits non-zero on a finding; pipefail is off for the grep, so check the artifact.
  if ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* build-fuzz/oom-* >/dev/null 2>&1; then
    echo "fuzz: $target found a problem; reproducers:" && ls build-fuzz/crash-* build-fuzz/leak-* \
      build-fuzz/timeout-* build-fuzz/oom-* 2>/dev/null
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds}s without a finding"
