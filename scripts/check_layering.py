#!/usr/bin/env python3
"""Keeps the layering of src/ from drifting: a component includes only its own headers, the
public ones (include/lakelog/), and those of components listed BEFORE it below. Also: a public
header includes only public headers; the sink contract (sink.h) includes no sink's header; a
sink includes no other sink's internals. Prints every violation and exits 1 when there is one.
"""
import pathlib
import re
import sys

# Lowest first. A component may depend on any component before it, never on one after it.
ORDER = [
    "common",       # Status, events, dates, the JSON event encoder
    "storage",      # the FileSystem seam
    "parquet",      # writer, columnar reader
    "delta",        # the transaction log
    "query",        # table scans, the columnar reader of the log columns (optimize reads with it)
    "maintenance",  # optimize, vacuum, checkpoints and compaction in the background
    "wal",          # the write-ahead log
    "ingest",       # NDJSON parsing, the ingest journal
    "buffer",       # per-pipeline buffers
    "metrics",      # Prometheus series
    "http",         # the embedded server
    "flush",        # the engine: scheduler, rounds, per-sink delivery
    "sinks",        # delta, kafka, opensearch
    "kafka",        # the ingest daemon
    "analytics",    # query, report, the dashboard server (lakelog_analytics)
    "cli",          # the command; nothing a library user needs
]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    problems = []
    for path in sorted((root / "include" / "lakelog").glob("*.h")):
        for inc in INCLUDE.findall(path.read_text()):
            if not inc.startswith("lakelog/"):
                problems.append(f"{path.relative_to(root)}: public header includes \"{inc}\"")
            elif path.name == "sink.h" and inc.endswith("_sink.h") or (
                    path.name == "sink.h" and inc.startswith("lakelog/delta")):
                problems.append(f"{path.relative_to(root)}: the sink contract includes \"{inc}\"")
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        rel = path.relative_to(root / "src")
        component = rel.parts[0]
        if component not in ORDER:
            problems.append(f"src/{rel}: component '{component}' is not in {__file__}'s ORDER")
            continue
        for inc in INCLUDE.findall(path.read_text()):
            dep = inc.split("/")[0]
            if dep == "lakelog" or "/" not in inc:
                continue
            if dep not in ORDER:
                continue  # generated code (gen/), third-party paths
            if component == "sinks" and dep == "sinks" and inc.split("/")[1] != rel.parts[1]:
                problems.append(f"src/{rel}: includes another sink's internals \"{inc}\"")
            elif ORDER.index(dep) > ORDER.index(component):
                problems.append(f"src/{rel}: '{component}' includes \"{inc}\" of '{dep}', "
                                f"which comes after it")
    for p in problems:
        print("check_layering:", p)
    if problems:
        return 1
    print("check_layering: every include follows the layering")
    return 0


if __name__ == "__main__":
    sys.exit(main())
