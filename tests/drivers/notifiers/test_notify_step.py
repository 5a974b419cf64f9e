"""The ``notify`` step: one message now, through apprise, to local receivers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.drivers.notifiers.receivers import Receiver, serving

from releasegate.drivers.api import Release, StepResult
from releasegate.drivers.checks.notify import Notify, NotifyOptions
from releasegate.testing import StaticSecrets, make_context

RELEASE = Release(environment="production", version="1.2.0", kind="normal", previous_version="1.1.5")
CHANGELOG = """# Changelog

## [1.2.0] - 2026-11-02
### Added
- Payment reconciliation. It runs nightly.
### Internal
- Faster CI.
"""


class Records:
    """The config's routes and the deployment's announcement, as the engine gives them."""

    def __init__(self, routes: dict[str, str], announcement: str = "") -> None:
        self.routes, self.text = routes, announcement

    def receiver(self, name: str) -> str | None:
        return self.routes.get(name)

    def announcement(self) -> str:
        return self.text


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def _hook(receiver: Receiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/hooks/{receiver.token}"


def _run(options: dict[str, object], tmp_path: Path, receiver: Receiver,
         records: Records | None = None) -> StepResult:
    ctx = make_context(release=RELEASE, workdir=tmp_path, url="http://127.0.0.1:8102",
                       secrets=StaticSecrets({"HOOK": _hook(receiver)}))
    ctx = replace(ctx, records=records)
    return asyncio.run(Notify().run(NotifyOptions.model_validate(options), ctx))


def test_starting_goes_to_each_channel_and_is_recorded_without_the_url(
        tmp_path: Path, receiver: Receiver) -> None:
    result = _run({"to": "${env:HOOK}", "channels": ["#deployments", "#qa"], "message": "starting"},
                  tmp_path, receiver)
    assert result.ok, result.summary
    got = receiver.wait_for(2)
    assert [m["channel"] for _, m in got] == ["#deployments", "#qa"]
    assert got[0][1]["title"] == "🚀 Deploying 1.2.0 to production"
    assert "live now: 1.1.5" in got[0][1]["message"]
    evidence = result.evidence
    assert evidence["receiver"] == "url"
    assert evidence["channels"] == ["#deployments", "#qa"]
    assert evidence["deliveries"] == [{"channel": "#deployments", "result": "sent"},
                                      {"channel": "#qa", "result": "sent"}]
    assert len(str(evidence["sha256"])) == 64
    recorded = json.dumps(evidence) + result.summary
    assert receiver.token not in recorded
    assert str(receiver.port) not in recorded


def test_a_named_route_and_the_announcement(tmp_path: Path, receiver: Receiver) -> None:
    records = Records({"slack": "${env:HOOK}"}, "✅ Production Deployment Complete\n\nVersion: v1.2.0")
    result = _run({"to": "slack", "message": "announcement"}, tmp_path, receiver, records)
    assert result.ok, result.summary
    [(_, message)] = receiver.wait_for(1)
    assert (message["title"], message["message"]) == ("✅ Production Deployment Complete", "Version: v1.2.0")
    assert result.evidence["receiver"] == "slack"
    unknown = _run({"to": "teams", "message": "starting"}, tmp_path, receiver, records)
    assert not unknown.ok
    assert "no notify: route named 'teams'" in unknown.summary


def test_deployed_lists_the_changes_and_a_template_replaces_the_text(
        tmp_path: Path, receiver: Receiver) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    assert _run({"to": "${env:HOOK}", "message": "deployed"}, tmp_path, receiver).ok
    (tmp_path / "qa.j2").write_text("{{ version }} for QA\n{{ changes | length }} changes on {{ url }}",
                                    encoding="utf-8")
    assert _run({"to": "${env:HOOK}", "template": "qa.j2"}, tmp_path, receiver).ok
    deployed, templated = (m for _, m in receiver.wait_for(2))
    assert "- [Feature] Payment reconciliation." in deployed["message"]
    assert (templated["title"], templated["message"]) == ("1.2.0 for QA", "2 changes on http://127.0.0.1:8102")


def test_a_refused_delivery_fails_or_warns(tmp_path: Path) -> None:
    with serving(Receiver(fail_first=100)) as refusing:
        required = _run({"to": "${env:HOOK}", "message": "starting"}, tmp_path, refusing)
        optional = _run({"to": "${env:HOOK}", "message": "starting", "required": False}, tmp_path, refusing)
    assert not required.ok
    assert required.summary.startswith("1 of 1 deliveries refused")
    assert required.evidence["deliveries"][0]["result"] == "failed"  # type: ignore[index]
    assert optional.ok
    assert optional.summary.startswith("warning: 1 of 1 deliveries refused")
    for result in (required, optional):
        assert refusing.token not in result.summary + json.dumps(result.evidence)


def test_options_say_what_is_wrong(tmp_path: Path, receiver: Receiver) -> None:
    with pytest.raises(ValidationError, match="exactly one of message or template"):
        NotifyOptions.model_validate({"to": "x", "message": "starting", "template": "a.j2"})
    mailto = _run({"to": "mailto://u:p@example.invalid", "channels": ["#x"], "message": "starting"},
                  tmp_path, receiver)
    assert not mailto.ok
    assert "a mailto:// receiver has no channel" in mailto.summary
    assert "u:p" not in mailto.summary
    no_records = _run({"to": "${env:HOOK}", "message": "announcement"}, tmp_path, receiver)
    assert not no_records.ok
    assert "only inside a deployment" in no_records.summary
