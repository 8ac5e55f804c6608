"""Four `lakelog ingest` processes append to one table at once: all succeed, the log has no gap,
every batch is one WRITE commit, and every event is in the table exactly once."""

from __future__ import annotations

import collections
import re
import subprocess

import pytest
from deltalake import DeltaTable

import lakelog_testlib as tl

PROCESSES = 4
EVENTS_PER_PROCESS = 400
BATCH_ROWS = 50


@pytest.mark.parametrize("existing", [False, True], ids=["new_table", "existing_table"])
def test_four_writers_at_once(table, tmp_path, existing):
    seed_events = []
    if existing:
        seed_events = tl.generate_events(100, seed=40)
        tl.ingest(table, seed_events)
    start_version = DeltaTable(table).version() if existing else -1

    inputs, procs = [], []
    for p in range(PROCESSES):
        events = tl.generate_events(EVENTS_PER_PROCESS, seed=41 + p)
        path = tmp_path / f"in{p}.ndjson"
        path.write_bytes(tl.lines_to_bytes(events))
        inputs.append(events)
    for p in range(PROCESSES):
        procs.append(subprocess.Popen(
            [tl.lakelog_path(), "ingest", "--table", table, "--input",
             str(tmp_path / f"in{p}.ndjson"), "--batch-rows", str(BATCH_ROWS), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert proc.returncode == 0, tl.describe_proc(done)
        summaries.append(tl.parse_single_json(done))

    for s in summaries:
        assert s["accepted"] == EVENTS_PER_PROCESS and s["rejected"] == 0, s
        assert s["commits"] == EVENTS_PER_PROCESS // BATCH_ROWS, s

    versions = tl.commit_versions(table)
    assert versions == list(range(versions[-1] + 1)), f"gaps in the log: {versions}"
    assert max(s["version"] for s in summaries) == versions[-1]
    new_versions = [v for v in versions if v > start_version]
    ops = collections.Counter(tl.commit_info(tl.read_commit(table, v))["operation"]
                              for v in new_versions)
    assert ops["WRITE"] == sum(s["commits"] for s in summaries), ops
    # At most one extra commit (the creation of a new table); every other new one is a WRITE.
    assert sum(ops.values()) - ops["WRITE"] <= (0 if existing else 1), ops
    # Exactly one metaData/protocol in the whole log: no writer re-created the table.
    meta = [v for v in versions if any("metaData" in a for a in tl.read_commit(table, v))]
    assert meta == [0], f"metaData in versions {meta}"
    assert sum(s["files"] for s in summaries) == sum(
        len(tl.added_in(table, v)) for v in new_versions)

    data = DeltaTable(table).to_pyarrow_table()
    messages = data.column("message").to_pylist()
    ids = collections.Counter(re.search(r"evt-\d+-\d+$", m).group(0) for m in messages)
    dupes = [k for k, c in ids.items() if c > 1]
    assert not dupes, f"rows landed more than once: {dupes[:10]}"
    expected_ids = {f"evt-{41 + p}-{i}" for p in range(PROCESSES)
                    for i in range(EVENTS_PER_PROCESS)} | {f"evt-40-{i}" for i in
                                                          range(len(seed_events))}
    assert set(ids) == expected_ids
    actual = tl.rows_from_arrow(data)
    expected = tl.expected_rows(seed_events + [e for events in inputs for e in events])
    assert actual == expected, tl.first_diff(actual, expected)
    d = tl.describe(table)
    assert d["version"] == versions[-1] and d["rows"] == len(expected)
