"""Deployments reach notify: routes through apprise, asynchronously: real deployments,
local HTTP receivers (json://), and a service that is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.drivers.notifiers.receivers import Receiver, serving

from releasegate.engine.report import ListReporter
from releasegate.errors import ConfigError
from releasegate.service import deployments, metrics
from releasegate.service.metrics import sql_engine
from releasegate.store.facts_records import notification_log

from .conftest import actor, environment

FAST = "notifications: {retries: 1, retry_delay: 0s, timeout: 5s}\n"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as r:
        yield r


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def logged(ws):  # type: ignore[no-untyped-def]
    with sql_engine(ws.store).connect() as conn:
        return list(conn.execute(select(notification_log).order_by(notification_log.c.id)))


def test_a_deployment_is_announced_from_start_to_finish(make_ws, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    top = FAST + f"notify:\n  - {{url: 'json://127.0.0.1:{receiver.port}/chat', on: ['deployment.*']}}\n"
    ws = make_ws(environment("production"), top=top)
    view = ListReporter()
    done = deployments.deploy(ws, actor(ws, "dev"), "production", "1.4.0", reporter=view)
    assert done.status == "succeeded"
    titles = [body["title"] for _, body in receiver.wait_for(2)]
    assert titles == ["🚀 Deploying 1.4.0 to production", "✅ Deployed 1.4.0 to production"]
    assert view.types()[0] == "deployment.started"  # the terminal's view is untouched
    assert [(r.event, r.status, r.deployment_id) for r in logged(ws)] == [
        ("deployment.started", "sent", done.deployment_id),
        ("deployment.succeeded", "sent", done.deployment_id),
    ]


def test_a_success_carries_the_deployments_announcement(make_ws, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    top = FAST + f"notify:\n  - {{url: 'json://127.0.0.1:{receiver.port}/chat', on: ['deployment.succeeded']}}\n"
    ws = make_ws(environment("production"), top=top)
    done = deployments.deploy(ws, actor(ws, "dev"), "production", "1.4.0")
    [(_, body)] = receiver.wait_for(1)
    assert body["title"] == "✅ Deployed 1.4.0 to production"
    lines = body["message"].splitlines()
    assert lines[:3] == ["✅ Production Deployment Complete", "", "Version: v1.4.0"]
    assert "Downtime: None (zero-downtime deployment)" in lines
    assert metrics.announcement(ws, actor(ws, "dev"), done.deployment_id) == body["message"] + "\n"


TEAM_TEMPLATE = """\
Shipped {{ version }} to {{ environment }} in {{ duration }}.
{% for name, url in links.items() %}{{ name }} <{{ url }}>
{% endfor %}"""


def test_the_teams_announcement_template_is_used_by_show_and_notifications(make_ws, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    top = FAST + (
        f"notify:\n  - {{url: 'json://127.0.0.1:{receiver.port}/chat', on: ['deployment.succeeded']}}\n"
        "announcement: {template: team/announce.j2, links: {Dashboards: 'https://grafana.example/d/t'}}\n"
    )
    ws = make_ws(environment("production"), top=top)
    (ws.root / "team").mkdir()
    (ws.root / "team" / "announce.j2").write_text(TEAM_TEMPLATE)
    done = deployments.deploy(ws, actor(ws, "dev"), "production", "2.0.0")
    [(_, body)] = receiver.wait_for(1)
    shown = metrics.announcement(ws, actor(ws, "dev"), done.deployment_id)
    assert shown.startswith("Shipped 2.0.0 to production in ")
    assert shown.endswith("Dashboards <https://grafana.example/d/t>\n")
    assert body["message"] + "\n" == shown

    (ws.root / "team" / "announce.j2").write_text("{% for x in %}")
    with pytest.raises(ConfigError, match=r"announce\.j2:1: "):
        metrics.announcement(ws, actor(ws, "dev"), done.deployment_id)
    # a broken template never holds back the notification: it goes out without it
    deployments.deploy(ws, actor(ws, "dev"), "production", "2.0.1")
    [(_, second)] = receiver.wait_for(2)[1:]
    assert second["message"].startswith("Deployment #")
    [failed] = ws.store.list_events(types=("announcement.failed",))
    assert "announce.j2:1" in str(failed.data["reason"])


def test_a_service_that_is_down_never_fails_the_deployment(make_ws) -> None:  # type: ignore[no-untyped-def]
    port = _closed_port()
    top = FAST + f"notify:\n  - {{url: 'json://127.0.0.1:{port}/chat'}}\n"
    ws = make_ws(environment("production"), top=top)
    done = deployments.deploy(ws, actor(ws, "dev"), "production", "1.0")
    assert done.status == "succeeded"
    rows = logged(ws)
    assert {(r.status, r.attempts) for r in rows} == {("failed", 2)}
    assert all(f"127.0.0.1:{port}" in r.destination for r in rows)


def test_blocked_and_rolled_back_deployments_and_overdue_obligations_are_told(make_ws, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    top = FAST + (
        f"notify:\n  - {{url: 'json://127.0.0.1:{receiver.port}/chat', "
        "on: ['deployment.blocked', 'deployment.rolled_back', 'approval.requested', 'obligation.overdue']}\n"
    )
    approvals = "    approvals: {roles: [qa]}\n"
    ws = make_ws(environment("production", extra=approvals), top=top)
    dev = actor(ws, "dev")
    with pytest.raises(Exception, match="blocked by policy"):
        deployments.deploy(ws, dev, "production", "2.0")
    got = receiver.wait_for(2)
    assert sorted(body["title"] for _, body in got) == [
        "⛔ Blocked: 2.0 to production", "🖊️ Approval needed: 2.0 to production"]
    # an obligation past due is told once, at the next deployment
    adopted = deployments.adopt(ws, dev, "production", "1.0").deployment_id
    assert adopted is not None
    ws.store.add_obligation(deployment_id=adopted, kind="postmortem", text="post-mortem",
                            due_at=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(Exception, match="blocked by policy"):
        deployments.deploy(ws, dev, "production", "2.0")
    got = receiver.wait_for(5)
    assert [body["title"] for _, body in got].count(f"⏰ Overdue: postmortem for deployment #{adopted}") == 1


def test_a_manual_rollback_is_told_as_one(make_ws, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    top = FAST + f"notify:\n  - {{url: 'json://127.0.0.1:{receiver.port}/chat', on: ['deployment.rolled_back']}}\n"
    ws = make_ws(environment("production"), top=top)
    dev = actor(ws, "dev")
    deployments.deploy(ws, dev, "production", "1.0")
    deployments.deploy(ws, dev, "production", "1.1")
    back = deployments.rollback(ws, dev, "production", reason="checkout slow")
    assert back.status == "succeeded"
    [(_, body)] = receiver.wait_for(1)
    assert body["title"].startswith("↩️ Rolled back: ")
    assert ws.store.get_deployment(back.deployment_id).project == "t"


def test_an_unset_notifier_secret_is_recorded_and_the_deployment_goes_on(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws(environment("production"), top="notify:\n  - {url: '${env:RG_TEST_UNSET_URL}'}\n")
    assert deployments.deploy(ws, actor(ws, "dev"), "production", "1.0").status == "succeeded"
    [event] = ws.store.list_events(types=("notify.unavailable",))
    assert "RG_TEST_UNSET_URL" in str(event.data["reason"])
