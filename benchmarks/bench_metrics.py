"""Metrics benchmark: 1,000,000 synthetic runs over 5 years and 50 projects.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [--runs N] [--backend sqlite|postgresql|both]``
(needs the ``bench`` extra for pandas). Prints ``name: value unit`` lines:

* ``compute_metrics`` for one project × 90 days (target < 300 ms) and for everything
  (all projects, all environments) × 5 years (target < 3 s), best of 3, on each backend;
* the same figures computed by a straightforward pandas script over the same rows, in the
  same run (loading the rows timed apart from computing), and whether they agree;
* the query plans of the scoped figures.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import (
    JSON,
    Boolean,
    Engine,
    Float,
    Integer,
    String,
    Text,
    column,
    create_engine,
    insert,
    table,
    text,
)

from releasegate.metrics.compute import compute_metrics
from releasegate.metrics.queries import (
    Scope,
    durations,
    failures_deployed,
    lead_times,
    outcome_counts,
    recoveries,
)
from releasegate.metrics.sql import value_at
from releasegate.store.api import open_store
from releasegate.store.columns import UTCDateTime
from releasegate.store.facts_records import (
    defects,
    failure_links,
    outages,
    release_changes,
    release_facts,
)

END = datetime(2026, 11, 30, tzinfo=UTC)
START = END - timedelta(days=5 * 365)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_DEPLOYMENTS = table(
    "deployments", column("id", Integer), column("project", String), column("environment", String),
    column("version", String), column("kind", String), column("status", String),
    column("user", String), column("emergency", Boolean), column("rollback_of", Integer),
    column("plan", JSON), column("created_at", UTCDateTime()), column("started_at", UTCDateTime()),
    column("finished_at", UTCDateTime()), column("duration_s", Float),
)
_STEPS = table(
    "step_runs", column("deployment_id", Integer), column("step_id", String), column("phase", String),
    column("attempt", Integer), column("status", String), column("summary", Text),
    column("output", Text), column("evidence", JSON), column("started_at", UTCDateTime()),
    column("finished_at", UTCDateTime()),
)
_INCIDENTS = table(
    "incidents", column("id", Integer), column("title", Text), column("severity", String),
    column("impact", Integer), column("environment", String), column("action", String),
    column("opened_by", String), column("opened_at", UTCDateTime()), column("closed_at", UTCDateTime()),
    column("project", String),
)


def generate(runs: int, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Rows for every table, deterministic for a seed."""
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "deployments", "step_runs", "release_facts", "release_changes", "incidents",
        "failure_links", "defects", "outages")}
    span = (END - START).total_seconds()
    per_project = runs // 50
    next_id = 0
    for p in range(50):
        project = f"p{p:02d}"
        times = sorted(rng.random() * span for _ in range(per_project))
        live: dict[str, int] = {}
        for i, offset in enumerate(times):
            next_id += 1
            env = "production" if rng.random() < 0.6 else "staging"
            started = START + timedelta(seconds=offset)
            minutes = rng.uniform(5, 40)
            finished = started + timedelta(minutes=minutes)
            roll = rng.random()
            kind = "rollback" if roll < 0.04 and env in live else (
                "hotfix" if roll < 0.10 else "major" if roll < 0.15 else "normal")
            s = rng.random()
            status = ("succeeded" if s < 0.88 else "failed" if s < 0.93 else "rolled_back" if s < 0.98
                      else "rollback_failed" if s < 0.985 else "cancelled" if s < 0.99 else "checked")
            if kind == "rollback" and status == "checked":
                status = "succeeded"
            d = {"id": next_id, "project": project, "environment": env, "version": f"1.{i}.0",
                 "kind": kind, "status": status, "user": "bench", "emergency": False,
                 "rollback_of": live.get(env) if kind == "rollback" else None, "plan": {},
                 "created_at": started, "started_at": started, "finished_at": finished,
                 # as the store writes them when a run finishes (migration 0006)
                 "duration_s": (finished - started).total_seconds()}
            rows["deployments"].append(d)
            if env == "production" and kind != "rollback":
                rows["step_runs"].append(_step(next_id, "coverage", "gates", "succeeded", started,
                                               {"coverage_percent": round(rng.uniform(70, 95), 1)}))
            if status in ("failed", "rolled_back", "rollback_failed"):
                phase = "gates" if status == "failed" and rng.random() < 0.5 else "deploy"
                failed_at = started + timedelta(minutes=minutes * rng.uniform(0.3, 0.8))
                rows["step_runs"].append(_step(next_id, "release", phase, "failed", failed_at, {}))
            if status == "succeeded" and kind != "rollback":
                live[env] = next_id
                if env == "production":
                    _release(rows, rng, d)
    return rows


def _step(d: int, step: str, phase: str, status: str, at: datetime, evidence: dict[str, Any]) -> dict[str, Any]:
    return {"deployment_id": d, "step_id": step, "phase": phase, "attempt": 1, "status": status,
            "summary": "", "output": "", "evidence": evidence, "started_at": at, "finished_at": at}


def _release(rows: dict[str, list[dict[str, Any]]], rng: random.Random, d: dict[str, Any]) -> None:
    release_id = len(rows["release_facts"]) + 1
    live = d["finished_at"]
    rows["release_facts"].append({"id": release_id, "project": d["project"], "environment": "production",
                                  "version": d["version"], "commit": None, "previous_commit": None,
                                  "kind": d["kind"], "changelog": None, "live_at": live, "recorded_at": live})
    for _ in range(rng.randint(1, 3)):
        first = live - timedelta(hours=rng.lognormvariate(2.5, 1.0))
        rows["release_changes"].append({"release_id": release_id, "sha": "0" * 40, "first_commit_at": first,
                                        "merged_at": first, "subject": "change", "live_at": live,
                                        "lead_s": (live - first).total_seconds()})
    r = rng.random()
    if r < 0.01:
        incident_id = len(rows["incidents"]) + 1
        opened = live + timedelta(hours=rng.uniform(0.2, 6))
        rows["incidents"].append({"id": incident_id, "title": "errors", "severity": "high", "impact": 5,
                                  "environment": "production", "action": "fix", "opened_by": "ops",
                                  "opened_at": opened, "closed_at": opened + timedelta(minutes=rng.uniform(10, 240)),
                                  "project": d["project"]})
        rows["failure_links"].append({"deployment_id": d["id"], "cause": "incident", "incident_id": incident_id,
                                      "fixed_by": None, "ref_id": incident_id, "user": "ops", "note": None,
                                      "created_at": opened})
    elif r < 0.04:
        rows["defects"].append({"deployment_id": d["id"], "kind": rng.choice(["bug", "complaint", "performance"]),
                                "note": "", "user": "qa", "created_at": live})
    elif r < 0.045:
        rows["outages"].append({"deployment_id": d["id"], "started_at": live - timedelta(seconds=90),
                                "ended_at": live - timedelta(seconds=rng.uniform(0, 80)), "source": "probe", "note": None})


def load(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert every row, parents first, in chunks."""
    targets = {"deployments": _DEPLOYMENTS, "step_runs": _STEPS, "release_facts": release_facts,
               "release_changes": release_changes, "incidents": _INCIDENTS,
               "failure_links": failure_links, "defects": defects, "outages": outages}
    with engine.begin() as conn:
        for name, target in targets.items():
            batch = rows[name]
            for i in range(0, len(batch), 20_000):
                conn.execute(insert(target), batch[i:i + 20_000])
        if engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # what autovacuum does to a table that was loaded: statistics, and the visibility
        # map that lets the walks along the figures' indexes be index-only scans
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def best_of(n: int, fn: Callable[[], object]) -> tuple[float, float]:
    """The fastest of ``n`` runs: (wall ms, this process's CPU ms). On SQLite the CPU time
    is the query's (it runs in this process) and does not count the other processes of a
    busy machine; on PostgreSQL the server's time is in the wall figure only."""
    timings = []
    for _ in range(n):
        started, cpu = time.perf_counter(), _cpu()
        fn()
        timings.append(((time.perf_counter() - started) * 1000, (_cpu() - cpu) * 1000))
    return min(timings)


# -- the same figures in pandas -------------------------------------------------------------

def pandas_figures(engine: Engine, project: str | None, since: datetime, until: datetime) -> tuple[float, float, dict[str, float | None]]:
    """(load ms, compute ms, figures) computed from the rows with pandas."""
    started = time.perf_counter()
    with engine.connect() as conn:
        d = pd.read_sql(text("SELECT id, project, environment, kind, status, rollback_of, started_at, finished_at FROM deployments"), conn)
        s = pd.read_sql(text("SELECT deployment_id, phase, status FROM step_runs WHERE status = 'failed'"), conn)
        fl = pd.read_sql(text("SELECT deployment_id FROM failure_links"), conn)
        rf = pd.read_sql(text("SELECT id, project, live_at FROM release_facts"), conn)
        rc = pd.read_sql(text("SELECT release_id, first_commit_at FROM release_changes"), conn)
    loaded = time.perf_counter()
    for frame, cols in ((d, ["started_at", "finished_at"]), (rf, ["live_at"]), (rc, ["first_commit_at"])):
        for c in cols:
            frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601")
    scope = (d.finished_at >= since) & (d.finished_at < until)
    if project is not None:
        scope &= d.project == project
    runs = d[scope & d.status.isin(["succeeded", "failed", "rolled_back", "rollback_failed"])]
    change = runs[runs.kind.isin(["normal", "major", "hotfix"])]
    deployed_failed = set(s[s.phase == "deploy"].deployment_id)
    reached = (change.status != "failed") | change.id.isin(deployed_failed)
    deployed = change[reached]
    ok = deployed[deployed.status == "succeeded"]
    undone = set(d[(d.kind == "rollback") & (d.status == "succeeded")].rollback_of.dropna().astype(int))
    bad_later = ok.id.isin(undone | set(fl.deployment_id))
    failed = (deployed.status != "succeeded").sum() + bad_later.sum()
    rolled = deployed.status.isin(["rolled_back", "rollback_failed"]).sum() + ok.id.isin(undone).sum()
    live = rf[(rf.live_at >= since) & (rf.live_at < until) & ((rf.project == project) if project else True)]
    lead = rc.merge(live, left_on="release_id", right_on="id")
    lead_s = (lead.live_at - lead.first_commit_at).dt.total_seconds()
    lead_s = lead_s[lead_s >= 0].sort_values().to_numpy()
    dur = ((ok.finished_at - ok.started_at).dt.total_seconds()).sort_values().to_numpy()

    def rank(values: Any, p: int) -> float | None:
        return float(values[math.ceil(p * len(values) / 100) - 1]) if len(values) else None

    figures = {
        "success_rate": len(ok) / len(change) if len(change) else None,
        "change_failure_rate": failed / len(deployed) if len(deployed) else None,
        "rollback_rate": rolled / len(deployed) if len(deployed) else None,
        "lead_time": rank(lead_s, 50), "lead_time_p90": rank(lead_s, 90),
        "deployment_duration": rank(dur, 50),
    }
    return (loaded - started) * 1000, (time.perf_counter() - loaded) * 1000, figures


def sql_figures(engine: Engine, project: str | None, since: datetime, until: datetime) -> dict[str, float | None]:
    m = compute_metrics(engine, project=project, environment=None, since=since, until=until).metrics
    return {"success_rate": m["success_rate"].value, "change_failure_rate": m["change_failure_rate"].value,
            "rollback_rate": m["rollback_rate"].value, "lead_time": m["lead_time"].value,
            "lead_time_p90": m["lead_time"].extra.get("p90"),  # type: ignore[dict-item]
            "deployment_duration": m["deployment_duration"].value}


def agree(a: dict[str, float | None], b: dict[str, float | None]) -> bool:
    return all((a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None
               and math.isclose(a[k], b[k], rel_tol=1e-6, abs_tol=0.01)) for k in a)  # type: ignore[arg-type]


def plans(engine: Engine, scope: Scope) -> list[str]:
    """The query plans of the main statements, as the backend prints them (the p50 walks
    for the lead time and the duration across projects, at a made-up rank)."""
    out = []
    for name, stmt in (("outcome_counts", outcome_counts(scope)),
                       ("failures_deployed", failures_deployed(scope)),
                       ("lead_times", lead_times(scope)),
                       ("lead_time_p50_walk", value_at(lead_times(scope), 400_000, 1_000_000)),
                       ("duration_p50_walk", value_at(durations(scope), 400_000, 800_000)),
                       ("recoveries", recoveries(scope))):
        sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        with engine.connect() as conn:
            lines = [" | ".join(str(c) for c in row) for row in conn.execute(text(prefix + sql))]
        out.append(f"-- {name}\n" + "\n".join(lines))
    return out


def bench(url: str, rows: dict[str, list[dict[str, Any]]], label: str, plan_file: Path | None) -> None:
    store = open_store(url)
    store.close()
    engine = create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
    started = time.perf_counter()
    load(engine, rows)
    print(f"metrics.{label}.load: {time.perf_counter() - started:.1f} s")
    windows = {"one_project_90d": ("p07", END - timedelta(days=90)), "everything_5y": (None, START)}
    for name, (project, since) in windows.items():
        ms, cpu = best_of(3, lambda p=project, s=since: compute_metrics(engine, project=p, environment=None, since=s, until=END))  # type: ignore[misc]
        print(f"metrics.{label}.{name}: {ms:.0f} ms (process CPU {cpu:.0f} ms)")
        load_ms, compute_ms, pandas_result = pandas_figures(engine, project, since, END)
        same = agree(pandas_result, sql_figures(engine, project, since, END))
        print(f"metrics.{label}.{name}.pandas: load {load_ms:.0f} ms + compute {compute_ms:.0f} ms; agree={same}")
    if plan_file is not None:
        text_plans = []
        for title, scope in (("one project, 90 days", Scope("p07", None, END - timedelta(days=90), END)),
                             ("everything, 5 years", Scope(None, None, START, END))):
            text_plans.append(f"== {label}: {title}\n" + "\n".join(plans(engine, scope)))
        plan_file.write_text("\n\n".join(text_plans) + "\n", encoding="utf-8")
        print(f"metrics.{label}.plans: {plan_file}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--plans", type=Path, default=None, help="directory for the query plans")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = generate(args.runs)
    print(f"metrics.generate: {len(rows['deployments'])} runs, {len(rows['release_changes'])} changes, "
          f"{len(rows['step_runs'])} step runs in {time.perf_counter() - started:.1f} s")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            bench(f"sqlite:///{Path(folder) / 'state.db'}", rows, "sqlite",
                  args.plans / "plans-sqlite.txt" if args.plans else None)
    if args.backend in ("postgresql", "both"):
        name = "rg_bench_metrics"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            bench(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", rows, "postgresql",
                  args.plans / "plans-postgresql.txt" if args.plans else None)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps({"runs": args.runs}))


if __name__ == "__main__":
    main()
