#!/usr/bin/env python3
"""Counts the S3 requests lakelog makes (docs/object-storage.md, "Costs in requests"): a local
s3proxy behind a counting forward proxy (tests/storage/fault_proxy.py, via libcurl's
http_proxy), then `lakelog ingest` three times, a 6-second `lakelog demo` and a `describe`,
each printed as requests by method and kind (list, log = _delta_log, data, probe).

    .venv/bin/python bench/s3_request_count.py
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "storage"))
sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
import gen_events  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402
from s3_server import S3Server  # noqa: E402


def main() -> int:
    lakelog = os.path.join(os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build")),
                           "src", "cli", "lakelog")
    work = tempfile.mkdtemp(prefix="lakelog-s3-requests-")
    server = S3Server(work)
    server.start()
    server.create_bucket("requests")
    proxy = FaultProxy(server.port)
    seen = []
    should_lose = proxy.should_lose

    def count(method, path):
        seen.append((method, path))
        return should_lose(method, path)

    proxy.should_lose = count
    proxy.start()
    env = server.env("requests")
    env["http_proxy"] = f"http://127.0.0.1:{proxy.port}"
    path = os.path.join(work, "in.ndjson")
    gen_events.write_ndjson(gen_events.generate_events(20000, 3, days=1, ts_forms=False), path)

    def run(label, args):
        seen.clear()
        proc = subprocess.run([lakelog, *args], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        kinds = collections.Counter()
        for method, p in seen:
            kind = ("list" if "list-type" in p else "log" if "_delta_log" in p else
                    "probe" if "_lakelog_probe" in p else "data")
            kinds[f"{method} {kind}"] += 1
        print(f"{label}: {sum(kinds.values())} requests {dict(sorted(kinds.items()))}")

    try:
        for i in range(3):
            run(f"ingest #{i + 1} (20,000 events, 20 partitions)",
                ["ingest", "--table", "s3://requests/t", "--input", path])
        run("demo 6 s (2 pipelines)", ["demo", "--table", "s3://requests/demo", "--seconds", "6",
                                      "--rate", "50", "--quiet", "--pipelines", "a,b"])
        run("describe", ["describe", "--table", "s3://requests/t"])
    finally:
        proxy.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
