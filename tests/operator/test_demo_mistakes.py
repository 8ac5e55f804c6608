"""`lakelog demo` mistakes: every numeric flag and [demo] key is checked for range, zero where it
means nothing, NaN, infinities and overflow; pipeline lists for blanks and repeats; `--config`
must be a readable file; WAL sync settings need a WAL. Each mistake exits 2 with a message naming
the flag or key and what is allowed, before anything is created: no table, no WAL directory."""

from __future__ import annotations

import os

import pytest

import operator_lib as ol

RUN = ["--seconds", "1", "--rate", "100", "--producers", "1"]

FLAG_MISTAKES = [
    (["--rate", "0"], ["--rate must be greater than 0 and at most 1e+09 (got 0)"]),
    (["--rate", "nan"], ["--rate must be greater than 0", "(got nan)"]),
    (["--rate", "-5"], ["--rate must be greater than 0", "(got -5)"]),
    (["--rate", "inf"], ["--rate must be greater than 0", "(got inf)"]),
    (["--rate", "1e10"], ["--rate must be greater than 0 and at most 1e+09"]),
    (["--seconds", "nan"], ["--seconds must be between 0 and 86400", "(got nan)"]),
    (["--seconds", "-1"], ["--seconds must be between 0 and 86400", "(got -1)"]),
    (["--seconds", "inf"], ["--seconds must be between 0 and 86400", "(got inf)"]),
    (["--seconds", "1e300"], ["--seconds must be between 0 and 86400"]),
    (["--producers", "0"], ["--producers", "not in range", "1", "256"]),
    (["--producers", "-3"], ["--producers", "not in range"]),
    (["--producers", "99999999999999999999"], ["--producers", "99999999999999999999"]),
    (["--producers", "nan"], ["--producers", "nan"]),
    (["--metrics-port", "70000"], ["--metrics-port", "not in range"]),
    (["--sync-interval-ms", "-1"], ["--sync-interval-ms", "not in range"]),
    (["--pipelines", "a,a,b"], ["--pipelines: pipeline 'a' is named twice"]),
    (["--pipelines", " "], ["--pipelines: pipeline 1 is empty"]),
    (["--pipelines", ""], ["--pipelines: pipeline 1 is empty"]),
    (["--pipelines", "a,,b"], ["--pipelines: pipeline 2 is empty"]),
    (["--pipelines", "a,"], ["--pipelines: pipeline 2 is empty"]),
    (["--pipelines", "x" * 300], ["--pipelines: pipeline 1", "too long"]),
    (["--sync", "group"], ["--sync needs --wal dir"]),
    (["--sync", "none"], ["--sync needs --wal dir"]),
    (["--sync-interval-ms", "50"], ["--sync-interval-ms needs --wal dir"]),
    (["--wal", "{wal}", "--sync", "bogus"], ["unknown --sync mode 'bogus'"]),
    (["--wal", "{wal}", "--sync-interval-ms", "50"],
     ["--sync-interval-ms applies only to --sync interval"]),
    (["--wal", ""], ["--wal names no directory"]),
    (["--config", ""], ["--config names no file"]),
    (["--config", "{tmp}"], ["is a directory, not a toml file"]),
    (["--config", "{tmp}/missing.toml"], ["cannot open config file", "no such file or directory"]),
    (["--config", "{tmp}/file.toml/x.toml"], ["cannot open config file", "not a directory"]),
]


@pytest.mark.parametrize("args,messages", FLAG_MISTAKES,
                         ids=[" ".join(a) or "empty" for a, _ in FLAG_MISTAKES])
def test_flag_mistakes_exit_2_and_create_nothing(table, tmp_path, args, messages):
    wal = str(tmp_path / "wal")
    (tmp_path / "file.toml").write_text("")
    args = [a.format(wal=wal, tmp=str(tmp_path)) for a in args]
    # The short-run flags, except the one under test (a flag given twice is its own error).
    base = [x for flag, value in zip(RUN[::2], RUN[1::2]) if flag not in args
            for x in (flag, value)]
    proc = ol.run(["demo", "--table", table, *base, "--quiet", *args])
    ol.expect(proc, 2, *messages)
    ol.assert_readable(table, [])
    assert not os.path.exists(table)
    assert not os.path.exists(wal)


CONFIG_MISTAKES = [
    ("[demo]\nrate = 0\n", ["demo.rate: must be greater than 0 and at most 1e+09 (got 0)"]),
    ("[demo]\nrate = nan\n", ["demo.rate: must be greater than 0", "(got nan)"]),
    ("[demo]\nrate = -inf\n", ["demo.rate: must be greater than 0", "(got -inf)"]),
    ("[demo]\nseconds = inf\n", ["demo.seconds: must be between 0 and 86400", "(got inf)"]),
    ("[demo]\nseconds = -0.5\n", ["demo.seconds: must be between 0 and 86400"]),
    ("[demo]\nfailure_rate = nan\n", ["demo.failure_rate: must be between 0 and 1"]),
    ("[demo]\nproducers = 0\n", ["demo.producers: must be between 1 and 256"]),
    ("[demo]\nproducers = 99999999999999999999\n", ["demo.toml:2:"]),
    ("[demo]\npipelines = [\"a\", \"a\", \"b\"]\n", ["demo.pipelines: pipeline 'a' is named twice"]),
    ("[demo]\npipelines = [\"a\", \" \"]\n", ["demo.pipelines: pipeline 2 is blank"]),
    ("[demo]\npipelines = []\n", ["demo.pipelines: must name at least one pipeline"]),
    ("[defaults]\nhigh_water_mark = nan\n", ["defaults.high_water_mark: must be between 0 and 1"]),
    ("[wal]\nsync = \"none\"\n", ["[wal] sets sync but no wal directory"]),
    ("[wal]\nsync_interval_ms = 10\n", ["[wal] sets sync_interval_ms but no wal directory"]),
]


@pytest.mark.parametrize("toml,messages", CONFIG_MISTAKES,
                         ids=[t.replace("\n", " ").strip() for t, _ in CONFIG_MISTAKES])
def test_config_mistakes_exit_2_name_the_key_and_create_nothing(table, tmp_path, toml, messages):
    config = tmp_path / "demo.toml"
    config.write_text(toml)
    # The config's values are checked even where a flag would override them.
    proc = ol.run(["demo", "--table", table, "--config", str(config), "--seconds", "1", "--quiet"])
    ol.expect(proc, 2, *messages)
    ol.assert_readable(table, [])
    assert not os.path.exists(table)


def test_pipeline_names_are_trimmed_and_each_pipeline_logs_once(table):
    proc = ol.run(["demo", "--table", table, "--pipelines", " alpha , beta ", *RUN, "--quiet"])
    ol.expect(proc, 0)
    assert b"2 pipelines x 1 producers" in proc.stderr, ol.describe_proc(proc)
    rows = ol.assert_readable(table)
    assert {r[0] for r in rows} == {"alpha", "beta"}
    assert len(set(rows)) == len(rows)


def test_sync_is_accepted_with_a_wal_from_the_config(table, tmp_path):
    wal = str(tmp_path / "wal")
    config = tmp_path / "demo.toml"
    config.write_text(f'[wal]\ndir = "{wal}"\nsync = "interval"\n\n[demo]\npipelines = ["p"]\n')
    proc = ol.run(["demo", "--table", table, "--config", str(config), "--sync-interval-ms", "20",
                   *RUN, "--quiet"])
    ol.expect(proc, 0, f"WAL: {wal} (sync interval)")
    rows = ol.assert_readable(table)
    assert rows and {r[0] for r in rows} == {"p"}
    assert os.path.isfile(os.path.join(wal, "engine.json"))
