"""A deterministic table of pipeline events for the analytics suites: several pipelines over
three days, runs that succeed, fail or are still running, ties at a run's last instant, null
stages, statuses, run ids and a null pipeline, and text that needs escaping."""

from __future__ import annotations

import datetime as dt
import random

T0 = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.timezone.utc)
NOW = "2026-11-25T00:00:00Z"
PIPELINES = ["index_loader", "billing", "ingest", "weird name/é,\"q\""]
STAGES = ["extract", "transform", "load", "publish"]


def iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def make_events(seed: int = 16, runs_per_pipeline: int = 12) -> list[dict]:
    rnd = random.Random(seed)
    events: list[dict] = []
    for p_index, pipeline in enumerate(PIPELINES):
        for r in range(runs_per_pipeline):
            run_id = f"{pipeline[:6]}-{r}"
            t = T0 + dt.timedelta(hours=r * 5 + p_index, minutes=rnd.randrange(60))
            fail_at = rnd.choice([None, None, None, 1, 2, 3])
            unfinished = r == runs_per_pipeline - 1 and p_index % 2 == 0
            for s_index, stage in enumerate(STAGES):
                t += dt.timedelta(seconds=rnd.randrange(1, 900), microseconds=rnd.randrange(10**6))
                started = {"pipeline": pipeline, "ts": iso(t), "level": "INFO",
                           "stage": stage, "status": "RUNNING", "run_id": run_id,
                           "message": f"{stage} started", "host": f"h{r % 3}"}
                if r % 3 == 0:
                    started["attributes"] = {"attempt": str(r), "stage_index": str(s_index)}
                events.append(started)
                if unfinished and s_index == 2:
                    break
                t += dt.timedelta(seconds=rnd.randrange(1, 600))
                failed = fail_at == s_index
                events.append({"pipeline": pipeline, "ts": iso(t),
                               "level": "ERROR" if failed else "INFO", "stage": stage,
                               "status": "FAILED" if failed else "SUCCESS", "run_id": run_id,
                               "message": (f"{stage} failed: disk full, retry {r}" if failed
                                           else f"{stage} done"), "host": f"h{r % 3}"})
                if failed:
                    if r % 4 == 0:  # a tie at the run's last instant: FAILED wins
                        events.append({"pipeline": pipeline, "ts": iso(t), "level": "INFO",
                                       "stage": "cleanup", "status": "SUCCESS",
                                       "run_id": run_id, "message": "cleanup done"})
                    break
        # Events outside any run, with nulls.
        for k in range(5):
            events.append({"pipeline": pipeline,
                           "ts": iso(T0 + dt.timedelta(hours=7 * k + p_index, seconds=k)),
                           "level": rnd.choice(["WARN", "DEBUG", "FATAL"]),
                           "status": rnd.choice([None, "FAILED", "SKIPPED"]),
                           "message": "heartbeat\nline two" if k == 0 else f"note {k}",
                           **({"attributes": {"quote\"d": "a\\b", "ключ": "значение"}}
                              if k == 0 else {})})
    events.append({"pipeline": "", "ts": iso(T0 + dt.timedelta(hours=30)), "status": "FAILED",
                   "stage": "orphan", "run_id": "orphan-1", "message": "null pipeline"})
    return events


SLA_TOML = """
[default]
max_staleness = "12h"
[pipeline.index_loader]
max_run_duration = "50m"
[pipeline.billing]
max_run_duration = "40m"
max_staleness = "2d"
[pipeline.silent]
max_staleness = "1h"
"""
