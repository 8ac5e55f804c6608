"""Conformance of lakelog's Parquet writer and reader against real readers and writers.

Writer side: `parquet_edge_cases` writes a data file full of edge cases with every codec; pyarrow
and DuckDB must read every value back exactly, and the footer statistics pyarrow exposes must
equal min/max/null_count computed from the input.

Reader side: pyarrow writes nested files shaped like Delta checkpoints (structs, maps, lists,
mostly-null top-level columns) with several codecs, page versions and encodings;
`parquet_edge_cases --dump` (lakelog's reader) must produce the same rows.

The build directory comes from LAKELOG_BUILD_DIR (default /work/main/build).
"""
import datetime
import json
import os
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BUILD_DIR = os.environ.get("LAKELOG_BUILD_DIR", "/work/main/build")
EDGE_CASES = os.path.join(BUILD_DIR, "tests", "parquet", "parquet_edge_cases")
STRING_COLUMNS = ["level", "stage", "status", "message", "run_id", "host"]
CODECS = ["zstd", "snappy", "lz4_raw", "none"]
PYARROW_CODEC = {"zstd": "ZSTD", "snappy": "SNAPPY", "lz4_raw": "LZ4", "none": "UNCOMPRESSED"}


def run_edge_cases(tmp_path, codec, *extra):
    if not os.path.exists(EDGE_CASES):
        pytest.fail(f"{EDGE_CASES} is not built; set LAKELOG_BUILD_DIR")
    path = str(tmp_path / f"edge_{codec}.parquet")
    out = subprocess.run([EDGE_CASES, path, "--compression", codec, *extra],
                         check=True, capture_output=True)
    expected = [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]
    assert len(expected) > 5000
    return path, expected


@pytest.mark.parametrize("codec", CODECS)
def test_pyarrow_reads_every_value(tmp_path, codec):
    path, expected = run_edge_cases(tmp_path, codec)
    f = pq.ParquetFile(path)
    schema = f.schema_arrow
    assert schema.field("ts").type == pa.timestamp("us", tz="UTC")
    for name in STRING_COLUMNS:
        assert schema.field(name).type == pa.string(), name
    assert pa.types.is_map(schema.field("attributes").type)
    assert schema.field("attributes").type.key_type == pa.string()
    assert schema.field("attributes").type.item_type == pa.string()
    assert f.metadata.created_by.startswith("lakelog version ")
    for rg in range(f.metadata.num_row_groups):
        for j in range(f.metadata.num_columns):
            assert f.metadata.row_group(rg).column(j).compression == PYARROW_CODEC[codec]

    table = f.read()
    ts_micros = table.column("ts").cast(pa.int64()).to_pylist()
    assert ts_micros == [e["ts"] for e in expected]
    for name in STRING_COLUMNS:
        assert table.column(name).to_pylist() == [e[name] for e in expected], name
    attributes = table.column("attributes").to_pylist()
    assert [[list(kv) for kv in a] for a in attributes] == [e["attributes"] for e in expected]


@pytest.mark.parametrize("codec", CODECS)
def test_duckdb_reads_every_value(tmp_path, codec):
    path, expected = run_edge_cases(tmp_path, codec)
    rows = duckdb.sql(
        "SELECT epoch_us(ts), level, stage, status, message, run_id, host, "
        f"map_keys(attributes), map_values(attributes) FROM read_parquet('{path}')").fetchall()
    assert len(rows) == len(expected)
    for row, e in zip(rows, expected):
        assert row[0] == e["ts"]
        assert list(row[1:7]) == [e[name] for name in STRING_COLUMNS]
        assert [list(kv) for kv in zip(row[7], row[8])] == e["attributes"]
    types = {r[0]: r[1] for r in
             duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    assert types["ts"] == "TIMESTAMP WITH TIME ZONE"
    assert types["attributes"] == "MAP(VARCHAR, VARCHAR)"


# lakelog cuts string min_value/max_value to this many bytes (src/parquet/statistics.h).
STATS_BOUND_BYTES = 64


def bound_min(value: str, limit: int = STATS_BOUND_BYTES) -> str:
    """The longest prefix of `value` whose UTF-8 encoding fits `limit` bytes."""
    out = ""
    for ch in value:
        if len((out + ch).encode()) > limit:
            break
        out += ch
    return out


def bound_max(value: str, limit: int = STATS_BOUND_BYTES) -> str | None:
    """`value` when it fits, else its fitting prefix with the last character that can be
    incremented (skipping surrogates, dropping U+10FFFF) incremented; None when none can."""
    if len(value.encode()) <= limit:
        return value
    prefix = bound_min(value, limit)
    while prefix:
        cp = ord(prefix[-1])
        prefix = prefix[:-1]
        if cp == 0x10FFFF:
            continue
        nxt = 0xE000 if cp + 1 == 0xD800 else cp + 1
        if len((prefix + chr(nxt)).encode()) <= limit:
            return prefix + chr(nxt)
    return None


def expected_stats(values):
    present = [v for v in values if v is not None]
    return (min(present) if present else None, max(present) if present else None,
            len(values) - len(present))


@pytest.mark.parametrize("codec", ["zstd", "none"])
@pytest.mark.parametrize("row_group_size", [128 << 20, 200_000])
def test_statistics_match_the_input(tmp_path, codec, row_group_size):
    path, expected = run_edge_cases(tmp_path, codec, "--row-group-size", str(row_group_size),
                                    "--page-size", "8192")
    md = pq.ParquetFile(path).metadata
    if row_group_size < 1 << 20:
        assert md.num_row_groups > 1
    assert md.num_rows == len(expected)
    leaf_names = [md.schema.column(j).path for j in range(md.num_columns)]
    assert leaf_names == ["ts"] + STRING_COLUMNS + ["attributes.key_value.key",
                                                    "attributes.key_value.value"]
    start = 0
    for rg in range(md.num_row_groups):
        group = md.row_group(rg)
        rows = expected[start:start + group.num_rows]
        start += group.num_rows
        columns = {
            "ts": [e["ts"] for e in rows],
            **{name: [e[name] for e in rows] for name in STRING_COLUMNS},
        }
        for j, name in enumerate(leaf_names):
            stats = group.column(j).statistics
            assert stats is not None and stats.has_null_count, name
            if name.startswith("attributes"):
                # A row with an empty map is one null slot in each leaf.
                empty = sum(1 for e in rows if not e["attributes"])
                pairs = [kv for e in rows for kv in e["attributes"]]
                values = [kv[0 if name.endswith("key") else 1] for kv in pairs]
                assert stats.null_count == empty, name
                if values:
                    lo = min(values, key=str.encode)
                    hi = max(values, key=str.encode)
                    assert stats.min_raw == bound_min(lo).encode(), name
                    assert stats.max_raw == bound_max(hi).encode(), name
                continue
            lo, hi, nulls = expected_stats(columns[name])
            assert stats.null_count == nulls, name
            assert stats.has_min_max == (lo is not None), name
            if lo is None:
                continue
            if name == "ts":
                assert stats.min_raw == lo and stats.max_raw == hi
                assert stats.min == datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) \
                    + datetime.timedelta(microseconds=lo)
            else:
                # Type-defined order for strings is unsigned bytes, i.e. UTF-8 byte order;
                # values longer than STATS_BOUND_BYTES (the 1 MiB message) give cut bounds.
                lo = min((v for v in columns[name] if v is not None), key=str.encode)
                hi = max((v for v in columns[name] if v is not None), key=str.encode)
                assert stats.min_raw == bound_min(lo).encode(), name
                assert stats.max_raw == bound_max(hi).encode(), name
                assert stats.min == bound_min(lo) and stats.max == bound_max(hi), name
    assert start == len(expected)


def test_duckdb_uses_our_statistics(tmp_path):
    path, expected = run_edge_cases(tmp_path, "zstd")
    stats = duckdb.sql(
        "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count "
        f"FROM parquet_metadata('{path}') WHERE path_in_schema IN ('level', 'status')").fetchall()
    by_name = {r[0]: r[1:] for r in stats}
    assert by_name["level"] == ("DEBUG", "WARN", 0)
    statuses = [e["status"] for e in expected]
    present = [s for s in statuses if s is not None]
    assert by_name["status"] == (min(present), max(present), statuses.count(None))


# ---- bounded statistics: huge values --------------------------------------------------------

HUGE_BYTES = 8_000_000  # just under the ingest line limit (8 MiB) with the other fields
HUGE_MESSAGES = {
    "m-huge": "m" * HUGE_BYTES,
    "m-100": "m" * 100,
    "a-70": "a" * 70,
    "mm": "mm",
    "e-huge": "\u00e9" * (HUGE_BYTES // 2),
    "max-run": "\U0010ffff" * (HUGE_BYTES // 4),  # a max that cannot be incremented
    "z-then-max": "z" + "\U0010ffff" * (HUGE_BYTES // 4 - 1),
}


def huge_thresholds():
    """Every message, and the strings around the bounds a wrong cut would produce."""
    out = set(HUGE_MESSAGES.values())
    for m in list(out):
        out |= {bound_min(m), bound_max(m) or "", m[:32], m[:-1], m + "m", bound_min(m)[:-1]}
    out |= {"m" * 63 + "n", "m" * 65, "\u00e9" * 31 + "\u00ea", "z", "{", "b", ""}
    return sorted(out, key=str.encode)


OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b}


def expected_run_ids(op, x):
    # Python compares str by code point, which is UTF-8 byte order.
    return sorted(r for r, m in HUGE_MESSAGES.items() if OPS[op](m, x))


@pytest.fixture(scope="module")
def huge_table(tmp_path_factory):
    """One file per message (--batch-rows 1), so each file's statistics bound one value and a
    wrong bound makes a reader skip that file."""
    import lakelog_testlib as tl
    if not os.path.exists(tl.lakelog_path()):
        pytest.fail(f"{tl.lakelog_path()} is not built; set LAKELOG_BUILD_DIR")
    table = str(tmp_path_factory.mktemp("huge") / "pipeline_logs")
    events = [{"pipeline": "big", "ts": 1_764_000_000_000 + i, "level": "INFO", "message": m,
               "run_id": r} for i, (r, m) in enumerate(HUGE_MESSAGES.items())]
    tl.ingest(table, events, batch_rows=1)
    files = [os.path.join(table, f) for f in tl.data_files_on_disk(table)]
    assert len(files) == len(HUGE_MESSAGES)
    return table, files


def test_huge_values_give_small_footers_and_bounds(huge_table):
    _, files = huge_table
    for path in files:
        f = pq.ParquetFile(path)
        (run_id,) = f.read(columns=["run_id"]).column("run_id").to_pylist()
        message = HUGE_MESSAGES[run_id]
        # Before the bound, an 8 MB message made a 16.7 MB footer (min and max copied whole).
        assert f.metadata.serialized_size < 4096, (run_id, f.metadata.serialized_size)
        names = [f.metadata.schema.column(j).path for j in range(f.metadata.num_columns)]
        stats = f.metadata.row_group(0).column(names.index("message")).statistics
        if bound_max(message) is None:
            # The max is left out, and pyarrow shows neither without both (DuckDB shows the min).
            assert not stats.has_min_max, run_id
        else:
            assert stats.min_raw == bound_min(message).encode(), run_id
            assert stats.max_raw == bound_max(message).encode(), run_id
        exact = duckdb.execute(
            "SELECT stats_min_value, min_is_exact, max_is_exact FROM parquet_metadata(?) "
            "WHERE path_in_schema = 'message'", [path]).fetchall()
        cut = len(message.encode()) > STATS_BOUND_BYTES
        assert exact[0][0] == bound_min(message), run_id
        assert exact[0][1] is (not cut), (run_id, exact)
        assert exact[0][2] is (None if bound_max(message) is None else not cut), (run_id, exact)


def test_huge_values_filter_correctly_in_pyarrow_and_duckdb(huge_table):
    import pyarrow.dataset as ds
    _, files = huge_table
    dataset = ds.dataset(files, format="parquet")
    for x in huge_thresholds():
        for op in OPS:
            want = expected_run_ids(op, x)
            field = ds.field("message")
            expr = {">=": field >= x, "<=": field <= x, "==": field == x}[op]
            got = sorted(dataset.to_table(columns=["run_id"], filter=expr)
                         .column("run_id").to_pylist())
            assert got == want, ("pyarrow", op, x[:80], len(x))
            got = sorted(r for (r,) in duckdb.execute(
                f"SELECT run_id FROM read_parquet(?) WHERE message {'=' if op == '==' else op} ?",
                [files, x]).fetchall())
            assert got == want, ("duckdb", op, x[:80], len(x))


def test_huge_values_keep_delta_stats_small_and_delta_rs_skips_correctly(huge_table):
    from deltalake import DeltaTable
    import lakelog_testlib as tl
    table, _ = huge_table
    for add in tl.active_adds(table).values():
        stats = json.loads(add["stats"])
        (run_id,) = {stats["minValues"]["run_id"], stats["maxValues"]["run_id"]}
        message = HUGE_MESSAGES[run_id]
        assert stats["minValues"]["message"] == message[:32], run_id
        if run_id == "max-run":
            # Nothing shorter sorts after 32+ U+10FFFF: the full max is the only upper bound
            # (a missing one makes delta-rs skip the file for every filter on the column).
            assert stats["maxValues"]["message"] == message
            continue
        assert len(add["stats"]) < 1024, (run_id, add["stats"][:200])
        if run_id == "z-then-max":
            # The tie-breaker cut would run to the end of the U+10FFFF run; the bound is the
            # first character incremented instead.
            assert stats["maxValues"]["message"] == "{"
    dt = DeltaTable(table)
    rows = tl.rows_from_arrow(dt.to_pyarrow_table())
    assert sorted(r[7] for r in rows) == sorted(HUGE_MESSAGES)
    assert {r[7]: r[6] for r in rows} == HUGE_MESSAGES
    for x in huge_thresholds():
        for op in (">=", "<="):
            got = sorted(dt.to_pyarrow_table(columns=["run_id"], filters=[("message", op, x)])
                         .column("run_id").to_pylist())
            assert got == expected_run_ids(op, x), ("delta-rs", op, x[:80], len(x))


# ---- reader conformance: files written by pyarrow ------------------------------------------

CHECKPOINT_SCHEMA = pa.schema([
    ("txn", pa.struct([("appId", pa.string()), ("version", pa.int64()),
                       ("lastUpdated", pa.int64())])),
    ("add", pa.struct([
        ("path", pa.string()),
        ("partitionValues", pa.map_(pa.string(), pa.string())),
        ("size", pa.int64()),
        ("modificationTime", pa.int64()),
        ("dataChange", pa.bool_()),
        ("stats", pa.string()),
        ("tags", pa.map_(pa.string(), pa.string())),
        ("deletionVector", pa.struct([("storageType", pa.string()),
                                      ("pathOrInlineDv", pa.string()),
                                      ("offset", pa.int32()),
                                      ("sizeInBytes", pa.int32()),
                                      ("cardinality", pa.int64())])),
    ])),
    ("remove", pa.struct([("path", pa.string()), ("deletionTimestamp", pa.int64()),
                          ("dataChange", pa.bool_())])),
    ("metaData", pa.struct([
        ("id", pa.string()),
        ("format", pa.struct([("provider", pa.string()),
                              ("options", pa.map_(pa.string(), pa.string()))])),
        ("schemaString", pa.string()),
        ("partitionColumns", pa.list_(pa.string())),
        ("configuration", pa.map_(pa.string(), pa.string())),
        ("createdTime", pa.int64()),
    ])),
    ("protocol", pa.struct([("minReaderVersion", pa.int32()), ("minWriterVersion", pa.int32()),
                            ("readerFeatures", pa.list_(pa.string())),
                            ("writerFeatures", pa.list_(pa.string()))])),
    ("misc", pa.struct([("d", pa.float64()), ("f", pa.float32()), ("i8", pa.int8()),
                        ("nested", pa.list_(pa.list_(pa.int32()))),
                        ("structs", pa.list_(pa.struct([("a", pa.int32()),
                                                        ("b", pa.string())])))])),
])


def checkpoint_rows(n_adds):
    rows = [
        {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                      "readerFeatures": ["deletionVectors"],
                      "writerFeatures": ["deletionVectors", "appendOnly"]}},
        {"metaData": {"id": "b6a1c1e4-0000-4000-8000-000000000001",
                      "format": {"provider": "parquet", "options": []},
                      "schemaString": '{"type":"struct","fields":[]}',
                      "partitionColumns": ["pipeline", "log_date"],
                      "configuration": [("delta.checkpointInterval", "10"),
                                        ("delta.appendOnly", "true")],
                      "createdTime": 1732406400000}},
        {"txn": {"appId": "writer-1", "version": 42, "lastUpdated": None}},
        {"remove": {"path": "old.parquet", "deletionTimestamp": 5, "dataChange": False}},
        {"misc": {"d": 1.5, "f": 0.25, "i8": -3, "nested": [[1, 2], [], None, [3]],
                  "structs": [{"a": 1, "b": None}, None, {"a": None, "b": "x"}]}},
        {"misc": {"d": None, "f": None, "i8": None, "nested": [], "structs": None}},
    ]
    for i in range(n_adds):
        rows.append({"add": {
            "path": f"pipeline=p{i % 3}/log_date=2024-11-24/part-{i:05d}.parquet",
            "partitionValues": [("pipeline", f"p{i % 3}"),
                                ("log_date", None if i % 5 == 0 else "2024-11-24")],
            "size": 1000 + i, "modificationTime": 1732406400000 + i, "dataChange": i % 2 == 0,
            "stats": json.dumps({"numRecords": i}),
            "tags": None if i % 4 else [("ZCUBE", str(i))],
            "deletionVector": None if i % 7 else {
                "storageType": "u", "pathOrInlineDv": "ab^-aqEH.-t@S}K{vb[*k^",
                "offset": 4, "sizeInBytes": 40, "cardinality": i},
        }})
    return rows


def normalize(value, arrow_type):
    """pyarrow's to_pylist form -> the JSON our reader produces (maps as objects)."""
    if value is None:
        return None
    if pa.types.is_map(arrow_type):
        return {k: normalize(v, arrow_type.item_type) for k, v in value}
    if pa.types.is_struct(arrow_type):
        return {f.name: normalize(value.get(f.name), f.type) for f in arrow_type}
    if pa.types.is_list(arrow_type):
        return [normalize(v, arrow_type.value_type) for v in value]
    return value


@pytest.mark.parametrize("compression", ["snappy", "zstd", "gzip", "lz4", "none"])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
@pytest.mark.parametrize("dictionary", [True, False])
def test_reader_reads_pyarrow_checkpoint_shape(tmp_path, compression, page_version, dictionary):
    if not os.path.exists(EDGE_CASES):
        pytest.fail(f"{EDGE_CASES} is not built; set LAKELOG_BUILD_DIR")
    table = pa.Table.from_pylist(checkpoint_rows(300), schema=CHECKPOINT_SCHEMA)
    path = str(tmp_path / "checkpoint.parquet")
    pq.write_table(table, path, compression=compression, data_page_version=page_version,
                   use_dictionary=dictionary, row_group_size=100, data_page_size=512)
    out = subprocess.run([EDGE_CASES, "--dump", path], capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    got = [json.loads(line) for line in out.stdout.decode().splitlines()]
    want = [{f.name: normalize(row.get(f.name), f.type) for f in CHECKPOINT_SCHEMA}
            for row in table.to_pylist()]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"row {i}"
