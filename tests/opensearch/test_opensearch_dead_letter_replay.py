"""A replayed round must not dead-letter its refused documents twice. With `progress_index = ""`
(docs/sinks.md: "every start replays the surviving WAL (still no document twice)") a
`--seconds 0` run on the same WAL sends the first run's rounds again; the documents the cluster
refuses (a mapping conflict) are refused again, and each must still be ONE line of the
dead-letter file, or the file over-counts what was lost and an operator re-ingests it twice.
The same replay follows a crash between a round's `_bulk` and its progress record in the
default configuration."""

from __future__ import annotations

import collections
import datetime as dt
import json
import subprocess


def test_a_replayed_round_does_not_dead_letter_a_document_twice(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y.%m.%d")
    # `pipeline` as an IP address: events of "10.0.0.1" fit, those of "ingestion" are refused.
    opensearch.request("PUT", f"/{index_prefix}-{today}",
                       {"mappings": {"properties": {"pipeline": {"type": "ip"}}}})
    dead = tmp_path / "dead.ndjson"
    config = tmp_path / "replay.toml"
    config.write_text(f'[opensearch]\nurl = "{opensearch.url}"\nindex = "{index_prefix}-%Y.%m.%d"\n'
                      f'progress_index = ""\ndead_letter_path = "{dead}"\n')

    def demo(seconds: str):
        return subprocess.run(
            [lakelog_bin, "demo", "--quiet", "--table", str(tmp_path / "table"), "--wal",
             str(tmp_path / "wal"), "--seconds", seconds, "--rate", "100",
             "--pipelines", "10.0.0.1,ingestion", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)

    first = demo("1")
    assert first.returncode == 0, first.stderr[-3000:]
    refused_first = {json.loads(line)["id"] for line in dead.read_text().splitlines()}
    assert len(refused_first) > 50
    again = demo("0")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "replayed" in again.stdout and "replayed 0 events" not in again.stdout, again.stdout
    # No document twice in OpenSearch (the replay's creates got 409)...
    ids = [d["_id"] for d in opensearch.documents(f"{index_prefix}-*")]
    assert len(ids) == len(set(ids))
    # ...and no refused document twice in the dead-letter file.
    lines = collections.Counter(json.loads(line)["id"] for line in dead.read_text().splitlines())
    twice = [i for i, n in lines.items() if n > 1]
    assert not twice, (f"{len(twice)} of {len(lines)} refused documents are dead-lettered more "
                       f"than once after the replay, e.g. {twice[:3]}")
