#!/usr/bin/env python3
"""OpenSearch benchmark, one run on one local OpenSearch 3.8 node (started here):

1. events/s into OpenSearch through lakelog's sink (bench/opensearch_bench.cc `sink`: `_bulk`
   creates of 5,000 documents, gzip, 4 requests in flight; and with 1 in flight) against a plain
   Python `requests` bulk loader with the same batch size (one request at a time, like most
   hand-written loaders), the same documents, ids and target; the events are parsed before the
   clock starts on both sides. Wall seconds, client CPU seconds, the ratio.
2. The fan-out's cost: the engine writing the same events to the Delta table alone, and to the
   table and OpenSearch at once (bench/opensearch_bench.cc `engine`).

    .venv/bin/python bench/opensearch_bench.py [--n 200000] [--repeats 3]

Each side runs --repeats times, interleaved, after a warm-up load; medians are printed.

Vector's documented defaults (the issue's first choice of peer) cannot run here: no Vector
binary is reachable from this machine's package sources.
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
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "opensearch"))
import gen_events  # noqa: E402
from opensearch_node import OpenSearchNode  # noqa: E402


def python_bulk_load(url: str, lines: list[str], index: str, batch: int) -> dict:
    """The peer: parsed events in, `_bulk` create requests of `batch` documents out. What the
    node pushes back (429 or 5xx, for the request or for items; the 512 MiB node does under
    load) is sent again after a pause, only the rest, as a careful loader does and as the sink
    does; a 409 on a resent create means the document is in."""
    import requests
    events = [json.loads(line) for line in lines]
    session = requests.Session()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for start in range(0, len(events), batch):
        pending = list(range(start, min(start + batch, len(events))))
        for _ in range(50):
            body = []
            for i in pending:
                e = events[i]
                day = e["ts"][:10].replace("-", ".")
                body.append(json.dumps({"create": {"_index": f"{index}-{day}", "_id": f"py-{i}"}}))
                body.append(json.dumps({"@timestamp": e["ts"], **e}))
            response = session.post(f"{url}/_bulk?filter_path=errors,items.*.status,items.*.error",
                                    data="\n".join(body) + "\n",
                                    headers={"Content-Type": "application/x-ndjson"})
            if response.status_code == 429 or response.status_code >= 500:
                time.sleep(0.2)
                continue
            response.raise_for_status()
            answer = response.json()
            if answer.get("errors") is False:
                pending = []
                break
            statuses = [next(iter(item.values()))["status"] for item in answer["items"]]
            refused = [s for s in statuses if s not in (200, 201, 409, 429) and s < 500]
            assert not refused, response.text[:500]
            pending = [i for i, s in zip(pending, statuses) if s == 429 or s >= 500]
            if not pending:
                break
            time.sleep(0.2)
        assert not pending, f"{len(pending)} documents still pushed back after 50 tries"
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu0,
            "events": len(events)}


def run(args: list[str]) -> dict:
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:2]} failed: {proc.stderr}")
    return json.loads(proc.stdout)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--build-dir", default=os.environ.get(
        "LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build")))
    args = parser.parse_args(argv)
    bench = os.path.join(args.build_dir, "bench", "opensearch_bench")
    work = tempfile.mkdtemp(prefix="lakelog-opensearch-bench-")
    node = OpenSearchNode(os.path.join(work, "node"))
    node.start()
    try:
        # One UTC day, "...Z" timestamps: a few daily indices on both sides.
        events = gen_events.generate_events(args.n, 7, days=1, ts_forms=False)
        path = os.path.join(work, "events.ndjson")
        gen_events.write_ndjson(events, path)
        with open(path) as f:
            lines = f.read().splitlines()
        results = {"events": args.n, "batch": args.batch, "repeats": args.repeats}

        def sink_run(tag: str, in_flight: int) -> dict:
            r = run([bench, "sink", "--input", path, "--url", node.url, "--index",
                     f"{tag}-%Y.%m.%d", "--batch", str(args.batch), "--in-flight", str(in_flight)])
            assert node.count(f"{tag}-*") == args.n
            return r

        def settle():
            # The node merges and refreshes after a bulk load, on the same 2 cores: let it
            # finish before a run that measures the engine.
            node.request("POST", "/_flush")
            time.sleep(3)

        # Warm-up: the node's first bulk requests (index creation, JIT) count for nobody.
        python_bulk_load(node.url, lines[:20000], "warmup", args.batch)
        run([bench, "engine", "--input", path, "--table", os.path.join(work, "warmup")])
        runs: dict[str, list[dict]] = {"lakelog_sink": [], "lakelog_sink_1_in_flight": [],
                                       "python_requests": [], "engine_delta_only": [],
                                       "engine_delta_and_opensearch": []}
        for rep in range(args.repeats):  # interleaved, so drift hits every side alike
            runs["lakelog_sink"].append(sink_run(f"ll4r{rep}", 4))
            runs["lakelog_sink_1_in_flight"].append(sink_run(f"ll1r{rep}", 1))
            runs["python_requests"].append(python_bulk_load(node.url, lines, f"pyr{rep}",
                                                            args.batch))
            assert node.count(f"pyr{rep}-*") == args.n
            settle()
            runs["engine_delta_only"].append(
                run([bench, "engine", "--input", path, "--table", os.path.join(work, f"t1-{rep}")]))
            settle()
            runs["engine_delta_and_opensearch"].append(
                run([bench, "engine", "--input", path, "--table", os.path.join(work, f"t2-{rep}"),
                     "--url", node.url, "--index", f"engr{rep}-%Y.%m.%d"]))
            assert node.count(f"engr{rep}-*") == args.n
            for index in (f"ll4r{rep}-*", f"ll1r{rep}-*", f"pyr{rep}-*", f"engr{rep}-*"):
                node.request("DELETE", f"/{index}")
        for key, rs in runs.items():
            med = sorted(rs, key=lambda r: r["seconds"])[len(rs) // 2]
            results[key] = {"median_seconds": round(med["seconds"], 3),
                            "events_per_s": round(args.n / med["seconds"]),
                            "client_cpu_seconds": round(med["cpu_seconds"], 3),
                            "all_seconds": [round(r["seconds"], 3) for r in rs]}
            if "delta_seconds" in med:
                results[key]["delta_done_seconds"] = round(med["delta_seconds"], 3)
        py = results["python_requests"]
        for key in ("lakelog_sink", "lakelog_sink_1_in_flight"):
            results[key]["speed_over_python"] = round(py["median_seconds"] /
                                                      results[key]["median_seconds"], 2)
            results[key]["client_cpu_over_python"] = round(
                results[key]["client_cpu_seconds"] / py["client_cpu_seconds"], 2)
        results["fan_out_cost_all_done"] = round(
            results["engine_delta_and_opensearch"]["median_seconds"] /
            results["engine_delta_only"]["median_seconds"], 2)
        results["fan_out_cost_delta_done"] = round(
            results["engine_delta_and_opensearch"]["delta_done_seconds"] /
            results["engine_delta_only"]["delta_done_seconds"], 2)
        print(json.dumps(results, indent=2))
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
