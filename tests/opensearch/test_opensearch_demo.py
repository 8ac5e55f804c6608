"""The fan-out to a real OpenSearch 3.8 node from the command line: `lakelog demo --opensearch`
puts every event in the Delta table and in OpenSearch exactly once; OpenSearch stopped mid-run
holds the table back not at all and catches up; a mapping conflict dead-letters only the events
it refuses; a `kill -9` with a WAL, then a restart, completes both sinks exactly once."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import signal
import subprocess
import time

from deltalake import DeltaTable
from event_rows import KEY, micros, row_key, search_rows_and_ids, table_rows

def demo(lakelog_bin, *args, timeout=240):
    return subprocess.run([lakelog_bin, "demo", "--quiet", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def assert_same(in_table, in_search):
    assert in_search == in_table, (
        f"{sum((in_table - in_search).values())} table events not in OpenSearch, "
        f"{sum((in_search - in_table).values())} OpenSearch documents not in the table")


def test_every_demo_event_is_in_opensearch_once_and_in_the_table_once(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    table = str(tmp_path / "table")
    proc = demo(lakelog_bin, "--table", table, "--wal", str(tmp_path / "wal"), "--seconds", "2",
                "--rate", "300", "--opensearch", opensearch.url,
                "--opensearch-index", f"{index_prefix}-%Y.%m.%d")
    assert proc.returncode == 0, proc.stderr[-3000:]
    in_table = table_rows(table)
    in_search, ids = search_rows_and_ids(opensearch, f"{index_prefix}-*")
    assert sum(in_table.values()) > 1000
    assert max(in_table.values()) == 1, "a row twice in the table"
    assert_same(in_table, in_search)
    assert opensearch.count(f"{index_prefix}-*") == len(ids) == sum(in_table.values())
    # Deterministic ids: the WAL writer id and each event's WAL sequence.
    writer = re.search(r"writer id (\S+)", proc.stderr).group(1)
    assert all(i.startswith(writer + "-s") for i in ids), ids[:3]
    sequences = sorted(int(i.rsplit("-s", 1)[1]) for i in ids)
    assert sequences == list(range(sequences[0], sequences[0] + len(ids)))
    # Each document: the event's fields (attributes too), @timestamp = ts (RFC 3339, µs, Z),
    # in the daily index of the event's UTC date.
    attributes = {tuple(micros(r[k]) if k == "ts" else r[k] for k in KEY):
                  dict(r["attributes"] or [])
                  for r in DeltaTable(table).to_pyarrow_table(columns=KEY + ["attributes"])
                  .to_pylist()}
    for d in opensearch.documents(f"{index_prefix}-*"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", d["ts"]), d
        assert d["@timestamp"] == d["ts"], d
        assert d["_index"] == f"{index_prefix}-{d['ts'][:10].replace('-', '.')}", d
        key = row_key(d)
        assert d.get("attributes", {}) == attributes[key], d
    # The indices were made from the sink's template (explicit mappings), not dynamically.
    mappings = opensearch.get(f"/{index_prefix}-*/_mapping")
    assert mappings, "no index of the run"
    for index, m in mappings.items():
        mapping = m["mappings"]
        assert str(mapping.get("dynamic")).lower() == "false", (index, mapping)
        types = {k: v.get("type") for k, v in mapping["properties"].items()}
        assert types["attributes"] == "flat_object", types
        assert all(types[k] == "keyword"
                   for k in ["pipeline", "level", "stage", "status", "run_id", "host"]), types
        assert types["ts"] == types["@timestamp"] == "date", types


def test_opensearch_stopped_mid_run_holds_the_table_back_not_and_catches_up(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    table = str(tmp_path / "table")
    wal = str(tmp_path / "wal")
    proc = subprocess.Popen(
        [lakelog_bin, "demo", "--quiet", "--table", table, "--wal", wal, "--seconds", "8",
         "--rate", "200", "--opensearch", opensearch.url,
         "--opensearch-index", f"{index_prefix}-%Y.%m.%d"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        opensearch.stop()
        down_version = DeltaTable(table).version()
        time.sleep(2.5)
        # The table kept committing while the node was away.
        assert DeltaTable(table).version() > down_version, "the table waited for OpenSearch"
        opensearch.start()
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
        if not opensearch.running:
            opensearch.start()
    if proc.returncode != 0:
        # Stop()'s deadline came before the catch-up: the rest waits in the WAL.
        assert "sink opensearch" in err and "kept in the WAL" in err, err[-3000:]
        again = demo(lakelog_bin, "--table", table, "--wal", wal, "--seconds", "0",
                     "--opensearch", opensearch.url,
                     "--opensearch-index", f"{index_prefix}-%Y.%m.%d")
        assert again.returncode == 0, again.stderr[-3000:]
    in_table = table_rows(table)
    in_search, _ = search_rows_and_ids(opensearch, f"{index_prefix}-*")
    assert max(in_table.values()) == 1
    assert_same(in_table, in_search)


def test_a_mapping_conflict_dead_letters_only_the_events_it_refuses(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y.%m.%d")
    # Today's index exists with `pipeline` as an IP address: events of pipeline "10.0.0.1"
    # fit, those of "ingestion" are refused (a mapper_parsing_exception, HTTP 400).
    created = opensearch.request("PUT", f"/{index_prefix}-{today}",
                                 {"mappings": {"properties": {"pipeline": {"type": "ip"}}}})
    assert created.get("acknowledged"), created
    table = str(tmp_path / "table")
    dead = tmp_path / "dead.ndjson"
    proc = demo(lakelog_bin, "--table", table, "--wal", str(tmp_path / "wal"), "--seconds", "2",
                "--rate", "200", "--pipelines", "10.0.0.1,ingestion",
                "--opensearch", opensearch.url,
                "--opensearch-index", f"{index_prefix}-%Y.%m.%d",
                "--opensearch-dead-letters", str(dead))
    assert proc.returncode == 0, proc.stderr[-3000:]
    in_table = table_rows(table)
    in_search, _ = search_rows_and_ids(opensearch, f"{index_prefix}-*")
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    refused = collections.Counter()
    for letter in letters:
        assert letter["status"] == 400 and "parsing_exception" in letter["reason"], letter
        assert letter["index"] == f"{index_prefix}-{today}", letter
        d = json.loads(letter["document"])
        refused[row_key(d)] += 1
    # The refused ids are not in OpenSearch, and together with the landed ones they are every
    # WAL sequence of the run once.
    landed_ids = [d["_id"] for d in opensearch.documents(f"{index_prefix}-*")]
    dead_ids = [letter["id"] for letter in letters]
    assert not set(landed_ids) & set(dead_ids)
    sequences = sorted(int(i.rsplit("-s", 1)[1]) for i in landed_ids + dead_ids)
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert {k[0] for k in refused} == {"ingestion"}
    assert {k[0] for k in in_search} == {"10.0.0.1"}
    # Every event is in exactly one of the two, and the refusals held nothing back.
    assert_same(in_table, in_search + refused)
    assert "refused for good" in proc.stderr


def test_kill_9_with_a_wal_then_a_restart_completes_both_sinks_exactly_once(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    table = str(tmp_path / "table")
    wal = str(tmp_path / "wal")
    args = ["--table", table, "--wal", wal, "--opensearch", opensearch.url,
            "--opensearch-index", f"{index_prefix}-%Y.%m.%d"]
    proc = subprocess.Popen([lakelog_bin, "demo", "--quiet", "--seconds", "60", "--rate", "300",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.isdir(os.path.join(table, "_delta_log")):
        time.sleep(0.1)
    time.sleep(2.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    again = demo(lakelog_bin, "--seconds", "0", *args)
    assert again.returncode == 0, again.stderr[-3000:]
    in_table = table_rows(table)
    in_search, _ = search_rows_and_ids(opensearch, f"{index_prefix}-*")
    assert sum(in_table.values()) > 500
    assert max(in_table.values()) == 1, "a row twice in the table"
    assert_same(in_table, in_search)


def test_the_toml_opensearch_section_configures_the_sink(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    config = tmp_path / "demo.toml"
    config.write_text(f'[opensearch]\nurl = "{opensearch.url}"\n'
                      f'index = "{index_prefix}-%Y.%m.%d"\nmax_batch_events = 50\n'
                      'max_in_flight = 3\ngzip = false\n')
    table = str(tmp_path / "table")
    proc = demo(lakelog_bin, "--table", table, "--wal", str(tmp_path / "wal"), "--config",
                str(config), "--seconds", "1", "--rate", "300")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_same(table_rows(table), search_rows_and_ids(opensearch, f"{index_prefix}-*")[0])
