"""Writes a pipeline_logs-shaped Delta table with delta-rs, for tests/query/table_scan_test.cc,
in two appends (so there are several files per partition), then writes TABLE.json: the rows as
delta-rs reads the table back (ts as epoch microseconds, log_date as YYYY-MM-DD, attributes as
[key, value] pairs), which is what lakelog's ScanTable must produce.

usage: write_deltars_table.py TABLE_DIR
"""
import datetime as dt
import json
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

SCHEMA = pa.schema([
    ("pipeline", pa.string()),
    ("log_date", pa.date32()),
    ("ts", pa.timestamp("us", tz="UTC")),
    ("level", pa.string()),
    ("stage", pa.string()),
    ("status", pa.string()),
    ("message", pa.string()),
    ("run_id", pa.string()),
    ("host", pa.string()),
    ("attributes", pa.map_(pa.string(), pa.string())),
])


def batch(start, n):
    epoch = dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc)
    rows = {name: [] for name in SCHEMA.names}
    for i in range(start, start + n):
        ts = epoch + dt.timedelta(seconds=i * 37)
        rows["pipeline"].append(["loader", "indexer", "exporter"][i % 3])
        rows["log_date"].append(ts.date())
        rows["ts"].append(ts)
        rows["level"].append(["INFO", "WARN", "ERROR"][i % 3])
        rows["stage"].append(None if i % 10 == 0 else f"stage_{i % 4}")
        rows["status"].append(None if i % 13 == 0 else ["SUCCESS", "FAILED", "RUNNING"][i % 5 % 3])
        rows["message"].append(f"event {i}")
        rows["run_id"].append(None if i % 7 == 0 else f"run-{i // 50}")
        rows["host"].append(f"host-{i % 5}")
        attributes = None if i % 6 == 0 else [("rows", str(i))]
        if i % 17 == 0:
            attributes = [("repeat_count", str(2 + i % 3)), ("k", None)]
        rows["attributes"].append(attributes)
    return pa.table(rows, schema=SCHEMA)


def main():
    table = sys.argv[1]
    write_deltalake(table, batch(0, 1500), partition_by=["pipeline", "log_date"])
    write_deltalake(table, batch(1500, 900), partition_by=["pipeline", "log_date"], mode="append")
    out = []
    for row in DeltaTable(table).to_pyarrow_table().to_pylist():
        ts = row["ts"]
        row["ts"] = (ts - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
            microseconds=1)
        row["log_date"] = row["log_date"].isoformat()
        row["attributes"] = None if row["attributes"] is None else [list(kv) for kv in
                                                                     row["attributes"]]
        out.append(row)
    with open(table + ".json", "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
