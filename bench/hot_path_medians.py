#!/usr/bin/env python3
"""Runs build/bench/hot_path_bench several times and prints, for every (design, pattern,
producers) row, the median p50 / p99 / p99.9 and the median of the per-run ratios peer / lakelog
(> 1: lakelog faster). The machine is noisy: single runs of the hot path differ by 2x at p99.9,
so figures for docs/BENCHMARKS.md are medians.

    .venv/bin/python bench/hot_path_medians.py [--runs 5] [--calls 1000000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW = re.compile(r"^(\S.*?)\s{2,}(\d)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
SECTION = re.compile(r"^-- (?:quill, )?(bursts|sustained), (\d) producers?$")


def parse(output: str) -> tuple[dict, dict]:
    """(latencies by (design, pattern, threads), ratios by (peer label, threads))."""
    latencies, ratios = {}, {}
    pattern = None
    in_ratios = False
    for line in output.splitlines():
        if line.startswith("ratios (peer / lakelog"):
            in_ratios = True
            continue
        section = SECTION.match(line)
        if section:
            pattern = section.group(1)
            continue
        if line.startswith("-- "):
            pattern = None
            continue
        row = ROW.match(line)
        if not row:
            continue
        name, threads = row.group(1).strip(), int(row.group(2))
        values = tuple(float(row.group(i)) for i in (3, 4, 5))
        if in_ratios:
            ratios[(name, threads)] = values
        elif pattern is not None:
            latencies[(name, pattern, threads)] = values
    return latencies, ratios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    build = os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
    binary = os.path.join(build, "bench", "hot_path_bench")
    runs = []
    for k in range(args.runs):
        load = os.getloadavg()[0]
        out = subprocess.run([binary, str(args.calls)], check=True, capture_output=True,
                             text=True).stdout
        runs.append(parse(out))
        print(f"run {k + 1}/{args.runs} done (load average before it {load:.2f})",
              file=sys.stderr, flush=True)
    print(f"hot_path_bench, {args.calls:,} calls per thread, medians of {args.runs} runs")
    print(f"{'design':34} {'pattern':9} {'thr':>3} {'p50 ns':>8} {'p99 ns':>8} {'p99.9 ns':>9}")
    for key in runs[0][0]:
        values = [r[0][key] for r in runs if key in r[0]]
        med = [statistics.median(v[i] for v in values) for i in range(3)]
        print(f"{key[0]:34} {key[1]:9} {key[2]:>3} {med[0]:>8.1f} {med[1]:>8.1f} {med[2]:>9.1f}")
    print("\nratios peer / lakelog Logger::Log (> 1: lakelog faster), medians of the per-run ratios")
    print(f"{'peer':44} {'thr':>3} {'p50':>6} {'p99':>6} {'p99.9':>7}")
    for key in runs[0][1]:
        values = [r[1][key] for r in runs if key in r[1]]
        med = [statistics.median(v[i] for v in values) for i in range(3)]
        print(f"{key[0]:44} {key[1]:>3} {med[0]:>6.2f} {med[1]:>6.2f} {med[2]:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
