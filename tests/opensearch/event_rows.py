"""The events of a Delta table and of OpenSearch documents as comparable multisets: one tuple
of KEY per event, ts as epoch microseconds (delta-rs gives datetimes, documents RFC 3339)."""

from __future__ import annotations

import collections
import datetime as dt

from deltalake import DeltaTable

KEY = ["pipeline", "ts", "stage", "status", "message", "run_id"]


def micros(value) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(value.timestamp() * 1_000_000 + 0.5) if value.tzinfo else value


def row_key(record: dict) -> tuple:
    return tuple(micros(record[k]) if k == "ts" else record.get(k) for k in KEY)


def table_rows(table: str) -> collections.Counter:
    return collections.Counter(
        row_key(r) for r in DeltaTable(table).to_pyarrow_table(columns=KEY).to_pylist())


def search_rows_and_ids(node, pattern: str) -> tuple[collections.Counter, list[str]]:
    docs = node.documents(pattern)
    return collections.Counter(row_key(d) for d in docs), [d["_id"] for d in docs]


def search_rows(node, pattern: str) -> collections.Counter:
    return search_rows_and_ids(node, pattern)[0]
