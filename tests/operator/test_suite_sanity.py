"""The suite's own footing: a plain ingest is read back whole by delta-rs through operator_lib,
so a failure elsewhere in this suite is about the mistake it tests, not about the helpers."""

import operator_lib as ol


def test_plain_ingest_reads_back(table, tmp_path):
    path = ol.write_lines(str(tmp_path / "in.ndjson"), [ol.event(i) for i in range(5)])
    proc = ol.run(["ingest", "--table", table, "--input", path])
    ol.expect(proc, 0)
    ol.assert_readable(table, [f"e-{i}" for i in range(5)])
