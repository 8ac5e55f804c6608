"""`lakelog report` against Spark SQL on the same table: a table written partly by lakelog and
partly by Spark itself, a time window, an SLA file. Every number of the JSON report (events,
failures, successes, errors, success rate, top failing stages, last event, staleness, each run's
start, end, events and outcome, SLA verdicts and compliance, the hourly timeline) must equal
what Spark SQL computes with the definitions of docs/analytics.md."""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import analytics_data as ad  # noqa: E402
import lakelog_testlib as tl  # noqa: E402

SINCE = "2026-11-22T12:00:00Z"
RANK = "CASE WHEN status = 'FAILED' THEN 2 WHEN status = 'SUCCESS' THEN 1 ELSE 0 END"


def micros(text: str) -> int:
    import datetime as dt
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (t - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


def build_table(spark, table: str, events: list[dict]) -> None:
    ours, theirs = events[::2], events[1::2]
    tl.ingest(table, ours, batch_rows=97)
    tl.events_to_spark(spark, theirs).write.format("delta").mode("append").save(table)


def spark_answers(spark, table: str) -> dict:
    spark.read.format("delta").load(table).where(f"ts >= timestamp'{SINCE}'") \
        .createOrReplaceTempView("w")
    out: dict = {}
    for r in spark.sql("""
            SELECT pipeline, count(*) AS events, count_if(status = 'FAILED') AS failures,
                   count_if(status = 'SUCCESS') AS successes,
                   count_if(level IN ('ERROR', 'FATAL')) AS errors,
                   unix_micros(max(ts)) AS last
            FROM w GROUP BY pipeline""").collect():
        out[r.pipeline] = {"events": r.events, "failures": r.failures, "successes": r.successes,
                           "errors": r.errors, "last": r.last, "stages": [], "runs": {},
                           "timeline": []}
    for r in spark.sql("""
            SELECT pipeline, stage, count(*) AS n FROM w WHERE status = 'FAILED'
            GROUP BY pipeline, stage ORDER BY pipeline, n DESC, stage ASC NULLS FIRST""").collect():
        out[r.pipeline]["stages"].append({"stage": r.stage, "failures": r.n})
    for r in spark.sql(f"""
            WITH r AS (SELECT pipeline, run_id, min(ts) AS s, max(ts) AS e, count(*) AS n
                       FROM w WHERE run_id IS NOT NULL GROUP BY pipeline, run_id),
                 l AS (SELECT w.pipeline, w.run_id, max({RANK}) AS rank
                       FROM w JOIN r ON w.pipeline <=> r.pipeline AND w.run_id = r.run_id
                                        AND w.ts = r.e
                       GROUP BY w.pipeline, w.run_id)
            SELECT r.pipeline, r.run_id, unix_micros(r.s) AS s, unix_micros(r.e) AS e, r.n,
                   CASE l.rank WHEN 2 THEN 'FAILED' WHEN 1 THEN 'SUCCESS' ELSE 'RUNNING' END
                     AS outcome
            FROM r JOIN l ON r.pipeline <=> l.pipeline AND r.run_id = l.run_id""").collect():
        out[r.pipeline]["runs"][r.run_id] = {"start": r.s, "end": r.e, "events": r.n,
                                             "outcome": r.outcome}
    for r in spark.sql("""
            SELECT pipeline, unix_micros(date_trunc('HOUR', ts)) AS b, count(*) AS events,
                   count_if(status = 'FAILED') AS failures,
                   count_if(status = 'SUCCESS') AS successes
            FROM w GROUP BY pipeline, date_trunc('HOUR', ts) ORDER BY pipeline, b""").collect():
        out[r.pipeline]["timeline"].append(
            {"start": r.b, "events": r.events, "failures": r.failures, "successes": r.successes})
    return out


def sla_for(pipeline):
    durations = {"index_loader": 50 * 60, "billing": 40 * 60}
    staleness = {"billing": 2 * 86400}
    return durations.get(pipeline), staleness.get(pipeline, 12 * 3600)


def test_report_equals_spark_sql(spark, table, tmp_path):
    events = ad.make_events()
    build_table(spark, table, events)
    sla_path = tmp_path / "sla.toml"
    sla_path.write_text(ad.SLA_TOML)
    proc = tl.run_lakelog(["report", "--table", table, "--format", "json", "--now", ad.NOW,
                           "--since", SINCE, "--sla", str(sla_path), "--runs", "100000",
                           "--top-stages", "5", "--bucket", "1h"])
    assert proc.returncode == 0, tl.describe_proc(proc)
    report = json.loads(proc.stdout)
    ours = {p["pipeline"]: p for p in report["pipelines"]}
    expected = spark_answers(spark, table)
    now = micros(ad.NOW)

    assert set(ours) == set(expected) | {"silent"}
    assert ours["silent"]["events"] == 0 and ours["silent"]["state"] == "no_data"
    assert report["events"] == sum(e["events"] for e in expected.values())
    assert None in expected, "the null pipeline is part of the comparison"
    for name, exp in expected.items():
        got = ours[name]
        where = f"pipeline {name!r}"
        for key in ("events", "failures", "successes", "errors"):
            assert got[key] == exp[key], f"{where}: {key} {got[key]} != Spark's {exp[key]}"
        decided = exp["successes"] + exp["failures"]
        assert got["success_rate"] == (exp["successes"] / decided if decided else None), where
        assert got["top_failing_stages"] == exp["stages"][:5], where
        assert got["last_event_micros"] == exp["last"], where
        assert got["staleness_seconds"] == (now - exp["last"]) / 1e6, where
        runs = {r["run_id"]: r for r in got["recent_runs"]}
        assert set(runs) == set(exp["runs"]), where
        max_duration, max_staleness = sla_for(name)
        met = breached = 0
        for run_id, er in exp["runs"].items():
            r = runs[run_id]
            assert (micros(r["start"]), micros(r["end"])) == (er["start"], er["end"]), (where, run_id)
            assert r["duration_seconds"] == (er["end"] - er["start"]) / 1e6, (where, run_id)
            assert (r["events"], r["outcome"]) == (er["events"], er["outcome"]), (where, run_id)
            duration = (er["end"] - er["start"]) / 1e6
            if er["outcome"] == "FAILED":
                verdict = "breached"
            elif er["outcome"] == "SUCCESS":
                verdict = "breached" if max_duration and duration > max_duration else "met"
            else:
                verdict = ("breached" if max_duration and (now - er["start"]) / 1e6 > max_duration
                           else "pending")
            assert r["sla"] == verdict, (where, run_id, r)
            met += verdict == "met"
            breached += verdict == "breached"
        outcomes = [r["outcome"] for r in exp["runs"].values()]
        assert got["runs"] == {"total": len(outcomes), "succeeded": outcomes.count("SUCCESS"),
                               "failed": outcomes.count("FAILED"),
                               "running": outcomes.count("RUNNING"),
                               "met_sla": met, "breached_sla": breached}, where
        assert got["sla_compliance"] == (met / (met + breached) if met + breached else None), where
        assert got["fresh"] == ((now - exp["last"]) / 1e6 <= max_staleness), where
        timeline = [{"start": micros(b["start"]), "events": b["events"],
                     "failures": b["failures"], "successes": b["successes"]}
                    for b in got["timeline"]]
        assert timeline == exp["timeline"], where
    # The same numbers in the CSV form.
    csv_proc = tl.run_lakelog(["report", "--table", table, "--format", "csv", "--now", ad.NOW,
                               "--since", SINCE, "--sla", str(sla_path)])
    assert csv_proc.returncode == 0, tl.describe_proc(csv_proc)
    import csv
    import io
    rows = {r["pipeline"]: r for r in csv.DictReader(io.StringIO(csv_proc.stdout.decode()))}
    for name, exp in expected.items():
        row = rows[name or ""]
        assert (int(row["events"]), int(row["failures"])) == (exp["events"], exp["failures"])
