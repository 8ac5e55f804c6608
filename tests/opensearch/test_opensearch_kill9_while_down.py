"""`kill -9` of a `lakelog demo --wal --opensearch` while OpenSearch is down: the table has
committed rounds that OpenSearch never got (so the crash surely leaves OpenSearch behind the
table, not only by chance), the WAL must keep them across the crash, and a restart on the same
WAL with the node back gives both sinks every event exactly once."""

from __future__ import annotations

import signal
import subprocess
import time

from event_rows import search_rows, table_rows

def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_while_opensearch_is_down_then_a_restart_completes_both_once(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    table = str(tmp_path / "table")
    wal = str(tmp_path / "wal")
    pattern = f"{index_prefix}-*"
    args = ["--table", table, "--wal", wal, "--opensearch", opensearch.url,
            "--opensearch-index", f"{index_prefix}-%Y.%m.%d"]
    proc = subprocess.Popen([lakelog_bin, "demo", "--quiet", "--seconds", "120", "--rate", "200",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Both sinks have taken something before the node goes away.
        wait_for(lambda: opensearch.count(pattern) > 0, 60, "the first documents")
        opensearch.stop()
        # The table goes on committing without OpenSearch.
        rows_when_down = sum(table_rows(table).values())
        wait_for(lambda: sum(table_rows(table).values()) > rows_when_down + 300, 60,
                 "table commits while OpenSearch is down")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        opensearch.start()
    before = table_rows(table)
    behind = before - search_rows(opensearch, pattern)
    assert sum(behind.values()) >= 300, "OpenSearch was not behind the table at the crash"
    again = subprocess.run([lakelog_bin, "demo", "--quiet", "--seconds", "0", *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=240)
    assert again.returncode == 0, again.stderr[-3000:]
    after = table_rows(table)
    in_search = search_rows(opensearch, pattern)
    assert not (before - after), "events of the crashed run left the table"
    assert max(after.values()) == 1, "a row twice in the table"
    assert in_search == after, (
        f"{sum((after - in_search).values())} table events not in OpenSearch, "
        f"{sum((in_search - after).values())} OpenSearch documents not in the table")
