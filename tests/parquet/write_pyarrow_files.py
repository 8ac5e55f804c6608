"""Writes Parquet files with pyarrow for tests/parquet/pyarrow_files_test.cc: the same rows
with every codec, data page v1 and v2, with and without dictionaries, several row groups and
pages. Beside each FILE it writes FILE.json: the rows as pyarrow itself reads them back, which
is what lakelog's columnar reader must produce. Prints one file name per line.

usage: write_pyarrow_files.py OUT_DIR
"""
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

CODECS = ["none", "snappy", "gzip", "lz4", "zstd"]
ROWS = 2500


def make_table():
    statuses = ["SUCCESS", "FAILED", "RUNNING"]
    columns = {
        "status": [None if i % 7 == 0 else statuses[i % 3] for i in range(ROWS)],
        "message": [None if i % 11 == 0 else f"message {i * 7919 % 10007}" for i in range(ROWS)],
        "i32": [None if i % 13 == 0 else i * 37 - 1000 for i in range(ROWS)],
        "i64": [i * 1_000_003 for i in range(ROWS)],
        "f64": [None if i % 5 == 0 else i / 8 for i in range(ROWS)],
        "flag": [None if i % 17 == 0 else i % 3 == 0 for i in range(ROWS)],
        "attributes": [
            None if i % 9 == 0 else
            [(f"k{j}", None if (j == 1 and i % 2) else f"v{i}_{j}") for j in range(i % 4)]
            for i in range(ROWS)
        ],
    }
    schema = pa.schema([
        ("status", pa.string()),
        ("message", pa.string()),
        ("i32", pa.int32()),
        ("i64", pa.int64(), False),
        ("f64", pa.float64()),
        ("flag", pa.bool_()),
        ("attributes", pa.map_(pa.string(), pa.string())),
    ])
    return pa.table(columns, schema=schema)


def main():
    out_dir = sys.argv[1]
    table = make_table()
    for codec in CODECS:
        for version in ["1.0", "2.0"]:
            for dictionary in [True, False]:
                name = f"{codec}_v{version[0]}_{'dict' if dictionary else 'plain'}.parquet"
                path = os.path.join(out_dir, name)
                pq.write_table(table, path, compression=codec, data_page_version=version,
                               use_dictionary=dictionary, data_page_size=2048,
                               row_group_size=1000)
                rows = pq.read_table(path).to_pylist()
                with open(path + ".json", "w", encoding="utf-8") as f:
                    json.dump(rows, f)
                print(name)


if __name__ == "__main__":
    main()
