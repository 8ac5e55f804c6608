"""Shared helpers of the conformance suite: running the lakelog CLI, building inputs, the
expected rows, reading the Delta log directly, and turning what each real reader (Spark, delta-rs,
DuckDB) returns into one comparable row shape.

A row is compared as the tuple ROW_COLUMNS:
    (pipeline, log_date 'YYYY-MM-DD', ts as UTC epoch microseconds, level, stage, status,
     message, run_id, host, attributes as a sorted tuple of (key, value))
An empty pipeline is expected back as None (the Delta protocol reads an empty partition string as
null). A missing or null `attributes` and an empty object both compare as () — the contract does
not say whether an absent map is stored as null or as an empty map.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
import gen_events  # noqa: E402  (bench/gen_events.py: the event generator)

generate_events = gen_events.generate_events
to_line = gen_events.to_line

JARS_DIR = os.path.join(REPO_ROOT, ".cache", "jars")
ROW_COLUMNS = ("pipeline", "log_date", "ts", "level", "stage", "status", "message", "run_id",
               "host", "attributes")
DATA_STRING_COLUMNS = ("level", "stage", "status", "message", "run_id", "host")
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


# ---------------------------------------------------------------------------------------------
# The CLI


def build_dir() -> str:
    return os.environ.get("LAKELOG_BUILD_DIR", os.path.join(REPO_ROOT, "build"))


def lakelog_path() -> str:
    return os.path.join(build_dir(), "src", "cli", "lakelog")


def run_lakelog(args: Sequence[str], stdin: bytes | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the CLI; stdout/stderr come back as bytes. Never raises on a non-zero exit."""
    return subprocess.run([lakelog_path(), *args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def describe_proc(proc: subprocess.CompletedProcess) -> str:
    """A readable account of a finished process for assertion messages."""
    return (f"command: {proc.args}\nexit: {proc.returncode}\n"
            f"stdout: {proc.stdout[-3000:].decode('utf-8', 'replace')}\n"
            f"stderr: {proc.stderr[-3000:].decode('utf-8', 'replace')}")


@dataclass
class IngestRun:
    proc: subprocess.CompletedProcess
    summary: dict  # the --json summary

    @property
    def exit_code(self) -> int:
        return self.proc.returncode


def lines_to_bytes(lines: Iterable[str | bytes | dict]) -> bytes:
    out = []
    for line in lines:
        if isinstance(line, dict):
            line = to_line(line)
        if isinstance(line, str):
            line = line.encode("utf-8")
        out.append(line + b"\n")
    return b"".join(out)


def ingest(table: str, lines: Iterable[str | bytes | dict], *, batch_rows: int | None = None,
           compression: str | None = None, rejects: str | None = None,
           input_path: str | None = None, extra: Sequence[str] = (),
           expect_exit: int | None = 0) -> IngestRun:
    """Runs `lakelog ingest --json` on `lines` (dicts are serialised as NDJSON), fed through an
    input file (or stdin when `input_path` is "-"). Checks the exit code when `expect_exit` is
    set and that stdout is exactly one JSON object."""
    data = lines_to_bytes(lines)
    args = ["ingest", "--table", table, "--json"]
    stdin = None
    if input_path == "-":
        stdin = data
        args += ["--input", "-"]
    else:
        path = input_path or table.rstrip("/") + ".input.ndjson"
        with open(path, "wb") as f:
            f.write(data)
        args += ["--input", path]
    if batch_rows is not None:
        args += ["--batch-rows", str(batch_rows)]
    if compression is not None:
        args += ["--compression", compression]
    if rejects is not None:
        args += ["--rejects", rejects]
    args += list(extra)
    proc = run_lakelog(args, stdin=stdin)
    if expect_exit is not None:
        assert proc.returncode == expect_exit, describe_proc(proc)
    return IngestRun(proc, parse_single_json(proc))


def parse_single_json(proc: subprocess.CompletedProcess) -> dict:
    text = proc.stdout.decode("utf-8")
    assert text.strip(), "expected a JSON object on stdout\n" + describe_proc(proc)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise AssertionError(f"stdout is not exactly one JSON object ({e})\n"
                             + describe_proc(proc)) from None
    assert isinstance(obj, dict), describe_proc(proc)
    return obj


def describe(table: str) -> dict:
    proc = run_lakelog(["describe", "--table", table])
    assert proc.returncode == 0, describe_proc(proc)
    return parse_single_json(proc)


def history_json(table: str) -> list[dict]:
    proc = run_lakelog(["history", "--table", table, "--json"])
    assert proc.returncode == 0, describe_proc(proc)
    lines = [l for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
    return [json.loads(l) for l in lines]


# ---------------------------------------------------------------------------------------------
# Inputs and the rows expected from them

ts_micros = gen_events.parse_ts_micros


def date_of_micros(micros: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=micros // 86_400_000_000)).isoformat()


def micros_to_datetime(micros: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)


def expected_row(event: dict) -> tuple:
    micros = ts_micros(event["ts"])
    level = event.get("level")
    level = "INFO" if level is None else level.upper()
    if level == "WARNING":
        level = "WARN"
    attributes = event.get("attributes") or {}
    return (event["pipeline"] or None, date_of_micros(micros), micros, level,
            event.get("stage"), event.get("status"), event.get("message"), event.get("run_id"),
            event.get("host"), tuple(sorted(attributes.items())))


def expected_rows(events: Iterable[dict]) -> list[tuple]:
    return sort_rows(expected_row(e) for e in events)


def _null_first(value: Any) -> tuple:
    return (0, "") if value is None else (1, value)


def sort_rows(rows: Iterable[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: tuple(_null_first(v) for v in r))


def edge_events() -> list[dict]:
    """Events that probe the corners: offsets that move the UTC date, epoch milliseconds,
    lower-case levels, missing and null optionals, empty strings, long and non-ASCII text,
    control characters, empty and non-ASCII attributes."""
    long_text = "x" * 40 + "é" * 10 + "🙂" * 5 + "y" * 2000
    return [
        {"pipeline": "edge", "ts": "2026-11-24T00:30:00.000001+01:00", "level": "warn",
         "stage": "s", "status": "FAILED", "message": "offset moves the date back",
         "run_id": "r", "host": "h", "attributes": {}},
        {"pipeline": "edge", "ts": "2026-11-23T23:59:59.999999Z", "level": "Fatal",
         "message": "last microsecond of the day"},
        {"pipeline": "edge", "ts": "2026-11-24T00:00:00Z", "level": "trace",
         "message": "first second of the day, no fraction", "host": None, "stage": None},
        {"pipeline": "edge", "ts": 1795478400123, "message": "epoch millis",
         "attributes": {"k": "v", "ключ": "значение", "empty": ""}},
        {"pipeline": "edge", "ts": "2026-11-23T22:15:30.5-05:00", "level": "ERROR",
         "message": "offset moves the date forward, short fraction", "status": "FAILED"},
        {"pipeline": "edge", "ts": "2026-11-22T10:00:00.123456Z", "stage": "", "status": "",
         "message": "", "run_id": "", "host": ""},
        {"pipeline": "edge", "ts": "2026-11-22T10:00:01.000000Z", "message": long_text,
         "run_id": long_text[:100], "attributes": {"long": long_text}},
        {"pipeline": "edge", "ts": "2026-11-22T10:00:02Z",
         "message": "tab\tnewline\nquote\" backslash\\ nul\u0000 bell\u0007 end",
         "attributes": {"a\tb": "c\nd"}},
        {"pipeline": "边缘 🚀", "ts": "2026-11-22T10:00:03.000007Z", "level": "DEBUG",
         "message": "日本語のメッセージ 🚀 مرحبا", "host": "хост-1"},
        {"pipeline": "", "ts": "2026-11-22T10:00:04Z", "status": "FAILED",
         "message": "empty pipeline lands as null"},
    ]


def events_by_key(events: Iterable[dict]) -> dict[tuple, int]:
    """(pipeline or None, log_date) -> number of events."""
    out: dict[tuple, int] = {}
    for e in events:
        key = (e["pipeline"] or None, date_of_micros(ts_micros(e["ts"])))
        out[key] = out.get(key, 0) + 1
    return out


def expected_files(events: Sequence[dict], batch_rows: int) -> int:
    """Data files an all-good ingest writes: one per (pipeline, log_date) of each batch."""
    return sum(len(events_by_key(events[i:i + batch_rows]))
               for i in range(0, len(events), batch_rows))


def expected_commits(n_events: int, batch_rows: int) -> int:
    return (n_events + batch_rows - 1) // batch_rows


# ---------------------------------------------------------------------------------------------
# Turning each reader's output into rows


def rows_from_arrow(table) -> list[tuple]:
    """Rows of a pyarrow Table with our columns (delta-rs `to_pyarrow_table()`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cols = {name: table.column(name) for name in ROW_COLUMNS}
    ts = pc.cast(cols["ts"], pa.int64()).to_pylist()
    dates = cols["log_date"].to_pylist()
    pylists = {name: cols[name].to_pylist() for name in ROW_COLUMNS if name not in ("ts",)}
    rows = []
    for i in range(table.num_rows):
        attrs = pylists["attributes"][i]
        rows.append((pylists["pipeline"][i], None if dates[i] is None else dates[i].isoformat(),
                     ts[i], *(pylists[c][i] for c in DATA_STRING_COLUMNS),
                     tuple(sorted(attrs)) if attrs else ()))
    return sort_rows(rows)


SPARK_ROW_SQL = ("pipeline", "cast(log_date as string) as log_date", "unix_micros(ts) as ts",
                 *DATA_STRING_COLUMNS, "attributes")


def rows_from_spark(df) -> list[tuple]:
    rows = []
    for r in df.selectExpr(*SPARK_ROW_SQL).collect():
        attrs = r["attributes"]
        rows.append((r["pipeline"], r["log_date"], r["ts"], *(r[c] for c in DATA_STRING_COLUMNS),
                     tuple(sorted(attrs.items())) if attrs else ()))
    return sort_rows(rows)


def first_diff(actual: list[tuple], expected: list[tuple], limit: int = 5) -> str:
    """A short account of how two sorted row lists differ, for assertion messages."""
    if len(actual) != len(expected):
        missing = set(expected) - set(actual)
        extra = set(actual) - set(expected)
        return (f"{len(actual)} rows, expected {len(expected)}; missing e.g. "
                f"{list(missing)[:limit]!r}; unexpected e.g. {list(extra)[:limit]!r}")
    out = []
    for a, e in zip(actual, expected):
        if a != e:
            cols = [f"{ROW_COLUMNS[i]}: got {a[i]!r:.200} expected {e[i]!r:.200}"
                    for i in range(len(ROW_COLUMNS)) if a[i] != e[i]]
            out.append("; ".join(cols))
            if len(out) >= limit:
                break
    return f"{len(out)}+ differing rows: " + "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The Delta log, read directly


def log_dir(table: str) -> str:
    return os.path.join(table, "_delta_log")


def commit_versions(table: str) -> list[int]:
    """Versions of the JSON commit files present, sorted."""
    names = os.listdir(log_dir(table))
    return sorted(int(n[:20]) for n in names if re.fullmatch(r"\d{20}\.json", n))


def read_commit(table: str, version: int) -> list[dict]:
    with open(os.path.join(log_dir(table), f"{version:020d}.json"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def commit_info(actions: list[dict]) -> dict | None:
    for a in actions:
        if "commitInfo" in a:
            return a["commitInfo"]
    return None


def active_adds(table: str) -> dict[str, dict]:
    """Replays every JSON commit (no checkpoint) to the live add actions, keyed by decoded
    path. Only for tables whose JSON commits all still exist."""
    live: dict[str, dict] = {}
    for v in commit_versions(table):
        for a in read_commit(table, v):
            if "add" in a:
                live[urllib.parse.unquote(a["add"]["path"])] = a["add"]
            elif "remove" in a:
                live.pop(urllib.parse.unquote(a["remove"]["path"]), None)
    return live


def added_in(table: str, version: int) -> list[dict]:
    return [a["add"] for a in read_commit(table, version) if "add" in a]


def data_files_on_disk(table: str) -> list[str]:
    """Relative paths of every *.parquet file under the table outside _delta_log."""
    out = []
    for dirpath, dirnames, filenames in os.walk(table):
        dirnames[:] = [d for d in dirnames if d != "_delta_log"]
        for name in filenames:
            if name.endswith(".parquet"):
                out.append(os.path.relpath(os.path.join(dirpath, name), table))
    return sorted(out)


def tree_listing(root: str, exclude: str | None = None) -> set[str]:
    """Every path under `root` (files and directories, relative), skipping the `exclude`
    subtree."""
    out = set()
    exclude = os.path.realpath(exclude) if exclude else None
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if exclude:
            dirnames[:] = [d for d in dirnames
                           if os.path.realpath(os.path.join(dirpath, d)) != exclude]
        for name in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
    return out


def is_inside(root: str, path: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root and \
        os.path.realpath(path) != root


# ---------------------------------------------------------------------------------------------
# Arrow / Spark inputs with our schema (for peer appends)


def arrow_schema():
    import pyarrow as pa
    return pa.schema([
        ("pipeline", pa.string()), ("log_date", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        *((c, pa.string()) for c in DATA_STRING_COLUMNS),
        ("attributes", pa.map_(pa.string(), pa.string())),
    ])


def events_to_arrow(events: Sequence[dict]):
    """A pyarrow Table of the events in the table's schema (partition columns included)."""
    import pyarrow as pa
    rows = [expected_row(e) for e in events]
    columns = list(zip(*rows)) if rows else [[] for _ in ROW_COLUMNS]
    schema = arrow_schema()
    arrays = [
        pa.array(columns[0], pa.string()),
        pa.array([dt.date.fromisoformat(d) for d in columns[1]], pa.date32()),
        pa.array(columns[2], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        *(pa.array(columns[3 + i], pa.string()) for i in range(len(DATA_STRING_COLUMNS))),
        pa.array([list(a) for a in columns[9]], schema.field("attributes").type),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def spark_schema():
    from pyspark.sql import types as T
    return T.StructType([
        T.StructField("pipeline", T.StringType()), T.StructField("log_date", T.DateType()),
        T.StructField("ts", T.TimestampType()),
        *(T.StructField(c, T.StringType()) for c in DATA_STRING_COLUMNS),
        T.StructField("attributes", T.MapType(T.StringType(), T.StringType())),
    ])


def events_to_spark(spark, events: Sequence[dict]):
    rows = []
    for r in (expected_row(e) for e in events):
        rows.append((r[0], dt.date.fromisoformat(r[1]), micros_to_datetime(r[2]), *r[3:9],
                     dict(r[9])))
    return spark.createDataFrame(rows, spark_schema())


# ---------------------------------------------------------------------------------------------
# Spark


def spark_jars() -> list[str]:
    return sorted(glob.glob(os.path.join(JARS_DIR, "*.jar")))


def make_spark_session(app_name: str = "lakelog-conformance", extra_jars: Sequence[str] = (),
                       extra_config: dict[str, str] | None = None):
    """local[2], 2g driver, 2 shuffle partitions, UI off, Delta extension and catalog, UTC;
    `extra_jars` and `extra_config` for what one suite needs more (S3A, say)."""
    from pyspark.sql import SparkSession
    jars = spark_jars()
    assert len(jars) >= 2, f"Delta jars missing in {JARS_DIR}: run scripts/setup.sh"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in (extra_config or {}).items():
        builder = builder.config(key, value)
    spark = (builder.master("local[2]").appName(app_name)
             .config("spark.jars", ",".join(jars + list(extra_jars)))
             .config("spark.driver.memory", "2g")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog",
                     "org.apache.spark.sql.delta.catalog.DeltaCatalog")
             # The log replay's state cache defaults to 50 partitions: far too many for 2 cores.
             .config("spark.databricks.delta.snapshotPartitions", "2")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def ts_micros_of(value) -> int | None:
    """Epoch microseconds of a datetime (aware, or naive as UTC) as readers return them."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return (value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        microseconds=1)
