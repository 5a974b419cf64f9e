"""``serve`` in team mode: the deploy route queues for live workers; /metrics shows the
queue's depth and job age."""

from __future__ import annotations

import httpx
import pytest
from tests.web.conftest import auth, serve
from tests.worker.conftest import Team, environment, wait_for

from releasegate.service import tokens
from releasegate.service.workspace import Workspace
from releasegate.web import create_app

pytestmark = pytest.mark.postgres


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_the_deploy_route_queues_when_workers_are_live(team: Team) -> None:
    team.write(environment("staging", team.out))
    made: list[Workspace] = []

    def factory() -> Workspace:
        made.append(team.ws())
        return made[-1]

    ws = factory()
    me = ws.actor(requested="ci", env_user=None)
    secret = tokens.create_token(ws, me, "t-ci", user="ci").secret
    try:
        for url in serve(create_app(factory)):
            with httpx.Client(base_url=url, timeout=60) as client:
                first = client.post("/api/v1/deployments", headers=auth(secret),
                                    json={"environment": "staging", "version": "1.0.0"})
                assert first.status_code == 202, first.text
                assert "queued" not in first.json()  # no worker: it runs in the server
                metrics = client.get("/metrics").text
                assert _metric(metrics, "releasegate_workers_live") == 0
                assert _metric(metrics, "releasegate_queue_jobs_waiting") == 0

                team.enqueue("staging", "1.0.1")  # waits: no worker yet
                wait_for("the job to age", lambda: _metric(
                    client.get("/metrics").text, "releasegate_queue_oldest_job_age_seconds") > 0.2)
                assert _metric(client.get("/metrics").text, "releasegate_queued_deployments_queued") == 1

                team.start_worker("a")
                wait_for("a live worker", lambda: _metric(
                    client.get("/metrics").text, "releasegate_workers_live") == 1)
                queued = client.post("/api/v1/deployments", headers=auth(secret),
                                     json={"environment": "staging", "version": "1.0.2"})
                assert queued.status_code == 202, queued.text
                id = queued.json()["queued"]["id"]
                [record] = team.wait_ended([id], timeout=60)
                assert (record.detail or "").startswith("succeeded")
                assert (team.out / "live-staging").read_text().strip() == "1.0.2"
    finally:
        for w in made:
            w.close()
