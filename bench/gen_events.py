#!/usr/bin/env python3
"""Deterministic generator of realistic pipeline status events, as NDJSON.

Each event is one line of the `lakelog ingest` input format (~200 bytes): a mix of ~20 pipelines,
their stages, SUCCESS/FAILED/RUNNING statuses at realistic rates, messages carrying ids, run ids,
hosts and a few attributes. Timestamps are spread over `--days` UTC days, so a table gets several
log_date partitions. The same (n, seed) always yields the same bytes.

Every event carries a unique id `evt-<seed>-<index>` as the last word of its message, so tests can
check that each row landed exactly once.

    python3 bench/gen_events.py --n 1000000 --seed 7 --out /tmp/events.ndjson

Imported by the conformance tests (tests/conformance/lakelog_testlib.py) as a library:
`generate_events(n, seed, ...)` returns the events as dicts, `write_ndjson` writes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
from typing import Iterable

PIPELINES = {
    # pipeline: stages it runs, in order
    "ingestion": ["fetch", "validate", "stage_upload"],
    "enrichment": ["lookup", "geo_enrich", "join_dims"],
    "index_loader": ["extract", "delta_merge", "optimize"],
    "clickstream_sessionizer": ["read_kafka", "sessionize", "write_delta"],
    "billing_rollup": ["aggregate", "reconcile", "publish"],
    "fraud_scoring": ["features", "score", "alert"],
    "inventory_sync": ["snapshot", "diff", "apply"],
    "crm_export": ["query", "transform", "sftp_push"],
    "ml_feature_store": ["compute", "validate", "materialize"],
    "search_reindex": ["scan", "tokenize", "bulk_index"],
    "payments_ledger": ["ingest", "dedupe", "post"],
    "email_events": ["consume", "parse", "store"],
    "ads_attribution": ["join_clicks", "attribute", "export"],
    "warehouse_compaction": ["plan", "compact", "vacuum"],
    "gdpr_erasure": ["collect_ids", "erase", "verify"],
    "metrics_downsample": ["read", "downsample", "write"],
    "log_archiver": ["list", "compress", "upload"],
    "catalog_refresh": ["crawl", "infer_schema", "register"],
    "recommendations": ["train", "evaluate", "deploy"],
    "cdc_replicator": ["read_binlog", "transform", "upsert"],
}
PIPELINE_NAMES = list(PIPELINES)
# Busy pipelines emit more: weights follow a rough Zipf curve.
PIPELINE_WEIGHTS = [1.0 / (i + 1) ** 0.8 for i in range(len(PIPELINE_NAMES))]

STATUSES = ["SUCCESS", "RUNNING", "FAILED"]
STATUS_WEIGHTS = [0.62, 0.34, 0.04]
LEVEL_FOR_STATUS = {"SUCCESS": "INFO", "RUNNING": "DEBUG", "FAILED": "ERROR"}

MESSAGES = {
    "SUCCESS": [
        "Merged {rows} rows into part-{part:05d}",
        "Done in {ms} ms, {rows} rows",
        "Wrote {rows} rows to {table}",
        "Checkpoint {part} committed",
    ],
    "RUNNING": [
        "Batch {part} ({rows} rows)",
        "Started, reading {table}",
        "{pct}% of {rows} rows",
    ],
    "FAILED": [
        "Timeout after {ms} ms on {table}",
        "Schema mismatch in {table}: column {col}",
        "Retry {attempt}/5: connection reset",
        "OOM in executor {part}",
    ],
}
TABLES = ["orders", "customers", "events_raw", "dim_geo", "fact_sales", "sessions", "ledger"]
COLUMNS = ["amount", "country", "user_id", "sku", "created_at"]
REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"]

# 2026-11-22T00:00:00Z; events spread over `days` days from here.
DEFAULT_START = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)


def generate_events(n: int, seed: int = 7, days: int = 3, start: dt.datetime = DEFAULT_START,
                    ts_forms: bool = True) -> list[dict]:
    """Returns `n` events as dicts in the ingest input format.

    With `ts_forms`, about 5% of timestamps are epoch milliseconds (integers) and 5% are RFC 3339
    text with a non-UTC offset; the rest are "...Z" text with microseconds.
    """
    rng = random.Random(seed)
    start_us = int(start.timestamp()) * 1_000_000
    span_us = days * 86_400 * 1_000_000
    hosts = [f"etl-{i:02d}" for i in range(1, 25)]
    runs = {p: [f"r{seed}-{p[:3]}{k:03d}" for k in range(40)] for p in PIPELINE_NAMES}
    events = []
    for i in range(n):
        pipeline = rng.choices(PIPELINE_NAMES, PIPELINE_WEIGHTS)[0]
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        ts_us = start_us + rng.randrange(span_us)
        ts: object
        form = rng.random() if ts_forms else 1.0
        if form < 0.05:
            ts_us -= ts_us % 1000
            ts = ts_us // 1000
        elif form < 0.10:
            ts = format_rfc3339(ts_us, offset_minutes=rng.choice([60, -300, 330]))
        else:
            ts = format_rfc3339(ts_us)
        message = rng.choice(MESSAGES[status]).format(
            rows=rng.randrange(1, 2_000_000), part=rng.randrange(100_000), ms=rng.randrange(5, 90_000),
            table=rng.choice(TABLES), pct=rng.randrange(100), col=rng.choice(COLUMNS),
            attempt=rng.randrange(1, 6))
        event = {
            "pipeline": pipeline,
            "ts": ts,
            "level": LEVEL_FOR_STATUS[status] if rng.random() > 0.02 else "WARN",
            "stage": rng.choice(PIPELINES[pipeline]),
            "status": status,
            "message": f"{message} evt-{seed}-{i}",
            "run_id": rng.choice(runs[pipeline]),
            "host": rng.choice(hosts),
        }
        if event["level"] == "INFO" and rng.random() < 0.5:
            del event["level"]  # INFO is the default
        attributes = {"region": rng.choice(REGIONS)}
        if status == "FAILED":
            attributes["attempt"] = str(rng.randrange(1, 6))
        if rng.random() < 0.1:
            attributes["spark_app"] = f"app-{rng.randrange(10**6):06d}"
        event["attributes"] = attributes
        if rng.random() < 0.03:
            event["host"] = None
        events.append(event)
    return events


def format_rfc3339(ts_us: int, offset_minutes: int = 0) -> str:
    """Formats epoch microseconds as RFC 3339 text with microseconds, 'Z' or '+hh:mm'."""
    tz = dt.timezone(dt.timedelta(minutes=offset_minutes))
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ts_us)
    text = moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    return f"{text}{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$")


def parse_ts_micros(ts) -> int:
    """UTC epoch microseconds of an input `ts` (RFC 3339 text or integer epoch milliseconds).
    Fractions beyond microseconds are truncated."""
    if isinstance(ts, int):
        return ts * 1000
    m = _RFC3339.match(ts)
    if not m:
        raise ValueError(f"not RFC 3339: {ts!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    offset = m.group(8)
    base = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    micros = (base - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        microseconds=1) + int(frac)
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        micros -= sign * (int(offset[1:3]) * 60 + int(offset[4:6])) * 60 * 1_000_000
    return micros


def to_line(event: dict) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def write_ndjson(events: Iterable[dict], path: str) -> int:
    """Writes one event per line; returns the byte size written."""
    size = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for event in events:
            line = to_line(event) + "\n"
            out.write(line)
            size += len(line.encode("utf-8"))
    return size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=3, help="UTC days the timestamps spread over")
    parser.add_argument("--out", default="-", help="output file, '-' for stdout")
    args = parser.parse_args(argv)
    events = generate_events(args.n, args.seed, args.days)
    if args.out == "-":
        for event in events:
            sys.stdout.write(to_line(event) + "\n")
    else:
        size = write_ndjson(events, args.out)
        print(f"wrote {args.n} events, {size} bytes ({size / max(args.n, 1):.0f} B/event) "
              f"to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
