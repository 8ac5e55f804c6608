#!/usr/bin/env python3
"""S3 benchmark: a Delta table on a local S3 server (s3proxy 4.1.0), lakelog against delta-rs.

1. Ingest: `lakelog ingest --table s3://bucket/lakelog --input events.ndjson` (the whole
   process, from NDJSON text) against delta-rs `write_deltalake("s3://bucket/deltars", ...)`
   of the same events already in an Arrow table (delta-rs is given the parsing for free), in
   the same run, on the same server; wall seconds, events/s and the ratio.
2. Concurrent writers: 1, 4 and 8 writers (threads of `lakelog_s3_check concurrent`, each its
   own DeltaTable) committing to one table: commits/s and failed commits (must be 0).

    .venv/bin/python bench/s3_bench.py [--n 1000000] [--commits 25] [--long]

`--long` is the issue's long run: 8 writers x 200 commits, checked version by version.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "storage"))
import gen_events  # noqa: E402
from s3_server import S3Server  # noqa: E402
from writer_bench import prepare_arrow  # noqa: E402


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=25, help="commits per writer")
    parser.add_argument("--long", action="store_true", help="8 writers x 200 commits only")
    parser.add_argument("--build-dir", default=os.environ.get(
        "LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build")))
    args = parser.parse_args(argv)
    lakelog = os.path.join(args.build_dir, "src", "cli", "lakelog")
    check = os.path.join(args.build_dir, "tests", "storage", "lakelog_s3_check")
    work = tempfile.mkdtemp(prefix="lakelog-s3-bench-")
    server = S3Server(os.path.join(work, "s3"))
    os.makedirs(server.workdir, exist_ok=True)
    server.start()
    try:
        bucket = "bench"
        server.create_bucket(bucket)
        env = server.env(bucket)
        results = {}
        if args.long:
            results["long_run"] = concurrent(check, env, f"long", 8, 200)
        else:
            events = gen_events.generate_events(args.n, 7)
            path = os.path.join(work, "events.ndjson")
            gen_events.write_ndjson(events, path)
            arrow_table = prepare_arrow(events)
            del events
            start = time.perf_counter()
            proc = subprocess.run([lakelog, "ingest", "--table", f"s3://{bucket}/lakelog",
                                   "--input", path, "--json"], env=env, capture_output=True,
                                  text=True)
            lakelog_s = time.perf_counter() - start
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr)
            from deltalake import DeltaTable, WriterProperties, write_deltalake
            start = time.perf_counter()
            write_deltalake(f"s3://{bucket}/deltars", arrow_table, mode="append",
                            partition_by=["pipeline", "log_date"],
                            writer_properties=WriterProperties(compression="ZSTD"),
                            storage_options=server.storage_options())
            deltars_s = time.perf_counter() - start
            rows = DeltaTable(f"s3://{bucket}/lakelog",
                              storage_options=server.storage_options()).to_pyarrow_dataset().count_rows()
            assert rows == args.n, rows
            results["ingest"] = {
                "events": args.n,
                "lakelog_seconds": round(lakelog_s, 2),
                "lakelog_events_per_s": round(args.n / lakelog_s),
                "deltars_seconds": round(deltars_s, 2),
                "deltars_events_per_s": round(args.n / deltars_s),
                "lakelog_over_deltars": round(deltars_s / lakelog_s, 2),
            }
            for writers in (1, 4, 8):
                results[f"writers_{writers}"] = concurrent(check, env, f"w{writers}", writers,
                                                           args.commits)
        print(json.dumps(results, indent=2))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def concurrent(check: str, env: dict, root: str, writers: int, commits: int) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([check, "concurrent", root, str(writers), str(commits)], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    summary = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    ok = proc.returncode == 0 and summary.get("version") == writers * commits
    return {"writers": writers, "commits": writers * commits, "seconds": round(seconds, 2),
            "commits_per_s": round(writers * commits / seconds, 1),
            "failed_writers": summary.get("failed_writers"), "versions_contiguous": ok}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
