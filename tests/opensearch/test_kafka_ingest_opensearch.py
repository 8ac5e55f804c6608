"""`lakelog kafka-ingest --opensearch`: the topic replicated to a real OpenSearch node beside the
Delta table, by a consumer group of its own. With the node unreachable the table takes
everything and the replica only retries; a later replica run catches up from its own offsets;
every message is one document, once, also when a run is repeated."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from event_rows import search_rows_and_ids, table_rows


def events(n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        e = {"pipeline": f"p{i % 4}", "ts": f"2026-12-04T08:{i // 600 % 60:02d}:{i // 10 % 60:02d}.{i:06d}Z",
             "stage": "load", "status": "FAILED" if i % 9 == 0 else "SUCCESS",
             "message": f"event {i}", "run_id": f"run-{i // 50}"}
        out.append((e["pipeline"], json.dumps(e)))
    return out


def test_the_replica_rides_out_a_down_cluster_and_catches_up_exactly_once(
        opensearch, kafka, lakelog_bin, index_prefix, tmp_path):
    topic = "t-" + index_prefix
    kafka.create_topic(topic, partitions=3)
    kafka.produce(topic, events(3000) + [("p0", "not json")])
    table = str(tmp_path / "table")
    base = [lakelog_bin, "kafka-ingest", "--brokers", kafka.bootstrap, "--topic", topic,
            "--group", "g", "--opensearch-index", f"{index_prefix}-%Y.%m.%d"]
    # The cluster cannot be reached: the table takes every event; the replica retries.
    proc = subprocess.Popen([*base, "--table", table, "--max-latency", "1",
                             "--opensearch", "http://127.0.0.1:1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if sum(table_rows(table).values()) == 3000:
                    break
            except Exception:  # noqa: BLE001 (no table yet)
                pass
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["rowsCommitted"] == 3000
    # Nothing reached the cluster. (Whether the replica got to try before the SIGTERM depends
    # on how fast its group formed: its retries are not counted on here.)
    assert summary["opensearch"]["documents"] == 0
    # The replica alone, with the node up: it starts from its own group's offsets (none yet).
    caught_up = subprocess.run([*base, "--opensearch", opensearch.url, "--available-now"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=180)
    assert caught_up.returncode == 0, caught_up.stderr[-3000:]
    replica = json.loads(caught_up.stdout.strip().splitlines()[-1])["opensearch"]
    assert replica["documents"] == 3000 and replica["skipped"] == 1, replica
    in_search, ids = search_rows_and_ids(opensearch, f"{index_prefix}-*")
    assert in_search == table_rows(table)
    assert len(set(ids)) == 3000 and all(i.startswith(topic + "-") for i in ids)
    # Run again from offset 0 under another group: every document is found there (409), none
    # is written twice.
    again = subprocess.run([*base, "--opensearch", opensearch.url, "--available-now",
                            "--opensearch-group", "replay"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=180)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["opensearch"]["documents"] == 3000
    assert opensearch.count(f"{index_prefix}-*") == 3000
