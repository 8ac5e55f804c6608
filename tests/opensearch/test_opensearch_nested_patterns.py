"""Two lakelog writers on one cluster whose index patterns nest (`P-app-%Y.%m.%d` and
`P-%Y.%m.%d`): each installs its own index template, and templates of equal priority may not
overlap (the cluster refuses the second). The sink gives a longer, more specific pattern a
higher priority, so both templates stand and both writers deliver every event at once, each
index with lakelog's explicit mappings."""

from __future__ import annotations

import subprocess

from event_rows import search_rows, table_rows

def test_a_refused_template_costs_no_event_of_a_writer_with_a_wal(
        opensearch, lakelog_bin, index_prefix, tmp_path):
    def demo(*args):
        return subprocess.run([lakelog_bin, "demo", "--quiet", "--rate", "100", *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=180)

    first = demo("--table", str(tmp_path / "a"), "--wal", str(tmp_path / "wal-a"),
                 "--seconds", "1", "--opensearch", opensearch.url,
                 "--opensearch-index", f"{index_prefix}-app-%Y.%m.%d")
    assert first.returncode == 0, first.stderr[-3000:]

    table = str(tmp_path / "b")
    wal = str(tmp_path / "wal-b")
    second = demo("--table", table, "--wal", wal, "--seconds", "1",
                  "--opensearch", opensearch.url, "--opensearch-index", f"{index_prefix}-%Y.%m.%d")
    in_table = table_rows(table)
    assert sum(in_table.values()) > 200
    assert second.returncode == 0, second.stderr[-3000:]
    for name in (f"{index_prefix}-app", index_prefix):
        template = opensearch.get(f"/_index_template/{name}")["index_templates"][0]
        assert template["index_template"]["index_patterns"] == [f"{name}-*"]
    assert (opensearch.get(f"/_index_template/{index_prefix}-app")["index_templates"][0]
            ["index_template"]["priority"] >
            opensearch.get(f"/_index_template/{index_prefix}")["index_templates"][0]
            ["index_template"]["priority"])
    # Every event of the second writer, in its own indices.
    after = table_rows(table)
    in_search = search_rows(opensearch, f"{index_prefix}-2*")
    missing = in_table - in_search
    assert not missing, (
        f"{sum(missing.values())} of the {sum(in_table.values())} events of the table never "
        f"reached OpenSearch")
    assert in_search == after
