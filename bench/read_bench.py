#!/usr/bin/env python3
"""Columnar read of a 1M-event table: lakelog's Parquet reader against pyarrow, in one run.

The table is made the way users make one: bench/gen_events.py writes N events as NDJSON and
`lakelog ingest` lands them (one file per (pipeline, log_date)); both are cached in --work-dir
and reused by later runs with the same N and seed. The timed part, for every reader, is reading
the `status` and `stage` columns of the table's live files (the list comes from delta-rs,
untimed):

- lakelog: bench/read_bench.cc, one thread, the columnar reader (footer, projection, pages
  decoded into column vectors; dictionary-encoded chunks stay dictionary indices).
- pyarrow: `pyarrow.parquet.read_table(files, columns=['status', 'stage'])` with its defaults
  (a thread pool; strings materialized into Arrow string arrays), and the same with
  use_threads=False for a one-thread comparison.

Each reader runs --repeats times; the medians of wall time and of process CPU time (all threads)
are reported, with events/s and the ratio to lakelog for each. Timings on a shared machine are
noisy: compare within one run, and prefer the CPU figures when the load is high.

    .venv/bin/python bench/read_bench.py --n 1000000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_events  # noqa: E402


def make_table(lakelog: str, work_dir: str, n: int, seed: int) -> str:
    table = os.path.join(work_dir, f"table-{n}-{seed}")
    if os.path.isdir(os.path.join(table, "_delta_log")):
        return table
    input_path = os.path.join(work_dir, f"events-{n}-{seed}.ndjson")
    if not os.path.exists(input_path):
        gen_events.write_ndjson(gen_events.generate_events(n, seed), input_path)
    shutil.rmtree(table, ignore_errors=True)
    subprocess.run([lakelog, "ingest", "--table", table, "--input", input_path], check=True,
                   stdout=subprocess.DEVNULL)
    return table


def time_pyarrow(files: list[str], columns: list[str], repeats: int, threads: bool) -> dict:
    import pyarrow.parquet as pq

    seconds = []
    cpu_seconds = []
    rows = 0
    for _ in range(repeats):
        start = time.perf_counter()
        cpu_start = time.process_time()
        t = pq.read_table(files, columns=columns, use_threads=threads)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        rows = t.num_rows
        del t
    median = statistics.median(seconds)
    cpu_median = statistics.median(cpu_seconds)
    return {"reader": "pyarrow" + ("" if threads else " (use_threads=False)"), "rows": rows,
            "seconds": seconds, "median_s": median, "events_per_s": rows / median,
            "cpu_seconds": cpu_seconds, "cpu_median_s": cpu_median,
            "events_per_cpu_s": rows / cpu_median}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--columns", default="status,stage")
    parser.add_argument("--work-dir", default="/tmp/lakelog-read-bench")
    build = os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
    parser.add_argument("--lakelog", default=os.path.join(build, "src", "cli", "lakelog"))
    parser.add_argument("--read-bench", default=os.path.join(build, "bench", "read_bench"))
    parser.add_argument("--json-out", default=None, help="also write the results here")
    args = parser.parse_args(argv)
    columns = args.columns.split(",")

    os.makedirs(args.work_dir, exist_ok=True)
    t0 = time.perf_counter()
    table = make_table(args.lakelog, args.work_dir, args.n, args.seed)
    from deltalake import DeltaTable

    files = DeltaTable(table).file_uris()
    size = sum(os.path.getsize(f) for f in files)
    print(f"# {args.n} events in {len(files)} live files ({size / 1e6:.1f} MB), table ready in "
          f"{time.perf_counter() - t0:.1f}s; reading columns {columns}, {args.repeats} repeats",
          file=sys.stderr)

    results = []
    # Both readers start from a warm page cache: the files are read once, untimed.
    for f in files:
        with open(f, "rb") as fh:
            fh.read()
    proc = subprocess.run([args.read_bench, "--table", table, "--columns", args.columns,
                           "--repeats", str(args.repeats)], check=True, capture_output=True,
                          text=True)
    results.append(json.loads(proc.stdout))
    results.append(time_pyarrow(files, columns, args.repeats, threads=True))
    results.append(time_pyarrow(files, columns, args.repeats, threads=False))
    for r in results:
        if r["rows"] != args.n:
            print(f"{r['reader']} read {r['rows']} rows, expected {args.n}", file=sys.stderr)
            return 1

    base = results[0]
    print("| reader | median wall s | events/s | lakelog / reader | median CPU s "
          "| events/CPU s | lakelog / reader (CPU) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['reader']} | {r['median_s']:.4f} | {r['events_per_s'] / 1e6:.1f} M | "
              f"{base['events_per_s'] / r['events_per_s']:.2f}x | {r['cpu_median_s']:.4f} | "
              f"{r['events_per_cpu_s'] / 1e6:.1f} M | "
              f"{base['events_per_cpu_s'] / r['events_per_cpu_s']:.2f}x |")
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
