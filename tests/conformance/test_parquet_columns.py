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
                    assert stats.min_raw == min(v.encode() for v in values), name
                    assert stats.max_raw == max(v.encode() for v in values), name
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
                # Type-defined order for strings is unsigned bytes, i.e. UTF-8 byte order.
                lo = min((v.encode() for v in columns[name] if v is not None))
                hi = max((v.encode() for v in columns[name] if v is not None))
                assert stats.min_raw == lo, name
                assert stats.max_raw == hi, name
                assert stats.min == lo.decode() and stats.max == hi.decode(), name
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
