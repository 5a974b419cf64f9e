"""Notifications through apprise to local receivers: json://, a Mattermost webhook."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.drivers.notifiers.receivers import Receiver, serving

from releasegate.config.models import Window
from releasegate.config.records_models import Contact, NotificationSettings, NotifyRoute
from releasegate.drivers.notifiers.dispatch import Delivery, Notifications
from releasegate.errors import ConfigError, DriverError

DEPLOYMENT = {"id": 7, "environment": "production", "version": "1.2.0", "kind": "normal",
              "user": "ana"}
FAST = NotificationSettings(retries=2, retry_delay="10ms", timeout="5s")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def _run(notes: Notifications, *events: tuple[str, dict[str, object]], timeout: float = 30) -> list[Delivery]:
    async def go() -> list[Delivery]:
        await notes.start()
        for event, data in events:
            notes.publish(event, data, deployment_id=7)  # type: ignore[arg-type]
        return await notes.aclose(timeout=timeout)

    return asyncio.run(go())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_json_and_mattermost_receive_their_events(receiver: Receiver) -> None:
    routes = [
        NotifyRoute(url=f"json://127.0.0.1:{receiver.port}/deployments", on=["deployment.*"]),
        NotifyRoute(url=f"mmost://127.0.0.1:{receiver.port}/{receiver.token}", on=["deployment.failed"]),
    ]
    deliveries = _run(
        Notifications(routes, settings=FAST),
        ("deployment.started", {"deployment": DEPLOYMENT}),
        ("deployment.failed", {"deployment": DEPLOYMENT, "detail": "health check failed"}),
    )
    got = receiver.wait_for(3)
    json_posts = sorted(p["title"] for path, p in got if path == "/deployments")
    assert json_posts == ["❌ Failed: 1.2.0 to production", "🚀 Deploying 1.2.0 to production"]
    [(_, mattermost)] = [(path, p) for path, p in got if path.startswith("/hooks/")]
    assert "Deployment #7 failed: health check failed. A person must act." in mattermost["text"]
    assert {d.status for d in deliveries} == {"sent"}
    assert all(receiver.token not in d.destination for d in deliveries)


def test_a_failing_service_is_retried(receiver: Receiver) -> None:
    receiver.fail_first = 2
    notes = Notifications([NotifyRoute(url=f"json://127.0.0.1:{receiver.port}/x")], settings=FAST)
    [delivery] = _run(notes, ("deployment.succeeded", {"deployment": DEPLOYMENT}))
    assert (delivery.status, delivery.attempts) == ("sent", 3)


def test_an_unreachable_service_fails_and_is_reported() -> None:
    port = _closed_port()
    notes = Notifications([NotifyRoute(url=f"json://127.0.0.1:{port}/x")], settings=FAST)
    [delivery] = _run(notes, ("deployment.succeeded", {"deployment": DEPLOYMENT}))
    assert (delivery.status, delivery.attempts, delivery.deployment_id) == ("failed", 3, 7)
    assert delivery.error is not None
    assert delivery.error.startswith(f"json://127.0.0.1:{port}/…: ")


def test_publish_never_waits_for_a_slow_service(receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    notes = Notifications([NotifyRoute(url=f"json://127.0.0.1:{receiver.port}/x")], settings=FAST)

    async def go() -> list[Delivery]:
        await notes.start()
        notes.publish("deployment.started", {"deployment": DEPLOYMENT})
        assert receiver.received == []  # publish returned while the service holds nothing yet
        await asyncio.sleep(0)
        assert receiver.hold is not None
        receiver.hold.set()
        return await notes.aclose(timeout=30)

    [delivery] = asyncio.run(go())
    assert delivery.status == "sent"


def test_a_full_queue_drops_and_says_so(receiver: Receiver) -> None:
    notes = Notifications([NotifyRoute(url=f"json://127.0.0.1:{receiver.port}/x")],
                          settings=NotificationSettings(queue_size=1))
    deliveries = _run(notes, *[("deployment.started", {"deployment": DEPLOYMENT})] * 3)
    assert sorted(d.status for d in deliveries) == ["dropped", "dropped", "sent"]
    assert {d.error for d in deliveries if d.status == "dropped"} == {"the queue of 1 was full"}


def test_bad_urls_and_templates_are_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(DriverError, match=r"^notify\[0\].url: apprise cannot use this nosuch:// URL"):
        Notifications([NotifyRoute(url="nosuch://secret-token@host")])
    with pytest.raises(DriverError, match=r"^notify\[0\].url: not an apprise URL"):
        Notifications([NotifyRoute(url="just words")])
    (tmp_path / "bad.j2").write_text("Title\n{% if %}")
    with pytest.raises(ConfigError, match=r"bad.j2:2: "):
        Notifications([NotifyRoute(url="json://127.0.0.1/x", template="bad.j2")], workdir=tmp_path)


def test_a_team_template_replaces_the_message(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "ship.j2").write_text("Shipped {{ deployment.version }}\nby {{ deployment.user }}")
    route = NotifyRoute(url=f"json://127.0.0.1:{receiver.port}/x", template="ship.j2")
    _run(Notifications([route], workdir=tmp_path, settings=FAST),
         ("deployment.succeeded", {"deployment": DEPLOYMENT}))
    [(_, posted)] = receiver.wait_for(1)
    assert (posted["title"], posted["message"]) == ("Shipped 1.2.0", "by ana")


def _contact(role: str, port: int, availability: str) -> Contact:
    return Contact(role=role, reach=f"json://127.0.0.1:{port}/{role}",
                   availability=availability,  # type: ignore[arg-type]
                   hours=Window(days=["mon-fri"], hours=["09:00-18:00"], tz="Asia/Kolkata"),
                   on=["deployment.*"])


def test_urgent_events_reach_who_is_available_and_the_rest_wait(receiver: Receiver) -> None:
    night = datetime(2026, 1, 6, 20, 0, tzinfo=UTC)  # 01:30 in Kolkata, a Wednesday
    contacts = [_contact("on-call", receiver.port, "24/7"),
                _contact("backend-lead", receiver.port, "business-hours")]
    notes = Notifications([], contacts, FAST, clock=lambda: night)
    deliveries = _run(
        notes,
        ("deployment.failed", {"deployment": DEPLOYMENT, "detail": "smoke failed"}),
        ("deployment.succeeded", {"deployment": DEPLOYMENT}),
    )
    sent = sorted((d.event, d.destination.split(" <", 1)[0], d.status, d.due_at) for d in deliveries)
    nine_am = datetime(2026, 1, 7, 3, 30, tzinfo=UTC)  # 09:00 in Kolkata
    assert sent == [
        ("deployment.failed", "on-call", "sent", None),
        ("deployment.succeeded", "backend-lead", "deferred", nine_am),
        ("deployment.succeeded", "on-call", "sent", None),
    ]


def test_a_token_in_a_webhook_path_is_never_in_the_label() -> None:
    from releasegate.drivers.notifiers.apprise_send import destination

    for url in ("json://127.0.0.1:8065/hooks/t0k3n-abcdef123456", "mmost://127.0.0.1:8065/t0k3n-abcdef123456"):
        label = destination(url).label
        assert "t0k3n" not in label, label
        assert label.endswith("/…")
