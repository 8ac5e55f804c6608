"""OpenSearch unreachable for a whole `lakelog demo --wal` run: the table commits on time, the
demo exits 1 naming the sink and saying the rest is kept in the WAL, and a `--seconds 0` run on
the same WAL with the node reachable gives OpenSearch every event once (the table none twice)."""

from __future__ import annotations

import collections
import subprocess

from event_rows import row_key, table_rows

def test_unreachable_opensearch_keeps_the_rest_in_the_wal_and_a_rerun_delivers_it(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    table = str(tmp_path / "table")
    wal = str(tmp_path / "wal")
    index = f"{index_prefix}-%Y.%m.%d"
    config = tmp_path / "down.toml"
    # Port 1 on the loopback: connections are refused at once. A short stop deadline.
    config.write_text("[engine]\nstop_timeout_ms = 3000\nretry_max_backoff_ms = 500\n\n"
                      f'[opensearch]\nurl = "http://127.0.0.1:1"\nindex = "{index}"\n'
                      "timeout_ms = 1000\n")
    down = subprocess.run(
        [lakelog_bin, "demo", "--quiet", "--table", table, "--wal", wal, "--seconds", "2",
         "--rate", "200", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
    assert down.returncode == 1, down.stderr[-3000:]
    assert "sink opensearch" in down.stderr and "kept in the WAL" in down.stderr, \
        down.stderr[-3000:]
    in_table = table_rows(table)
    assert sum(in_table.values()) > 300, "the table waited for the OpenSearch sink"
    assert opensearch.count(f"{index_prefix}-*") == 0

    up = subprocess.run(
        [lakelog_bin, "demo", "--quiet", "--table", table, "--wal", wal, "--seconds", "0",
         "--opensearch", opensearch.url, "--opensearch-index", index],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
    assert up.returncode == 0, up.stderr[-3000:]
    after = table_rows(table)
    assert not (in_table - after), "events of the first run left the table"
    assert max(after.values()) == 1, "a row twice in the table"
    first_run_end = max(k[1] for k in in_table)
    assert all(k[1] > first_run_end for k in after - in_table), "the rerun replayed the table"
    in_search = collections.Counter(
        row_key(d)
        for d in opensearch.documents(f"{index_prefix}-*"))
    assert in_search == after, (
        f"{sum((after - in_search).values())} table events not in OpenSearch, "
        f"{sum((in_search - after).values())} OpenSearch documents not in the table")
