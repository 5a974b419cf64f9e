"""``statuspage``: open, update and resolve a maintenance on an Atlassian Statuspage page.

It speaks Statuspage's REST API v1 (``Authorization: OAuth <key>``):
``POST /v1/pages/{page}/incidents`` creates a maintenance (``scheduled_for`` now,
``scheduled_until`` now + ``expected``, status ``in_progress``);
``GET …/incidents/unresolved`` finds it again by name; ``PATCH …/incidents/{id}`` posts
an update or marks it ``completed``. The maintenance is named after the deployment, so
the three actions can be separate steps (``open`` in the gates, ``resolve`` after the
smoke tests). Undoing ``open`` (a rollback) completes the maintenance with a note.

An ``update`` can tell the customers what changed for them: ``{changes}`` in its body is
the version's user-facing changelog items (Keep a Changelog's Added, Changed, Deprecated,
Removed, Fixed, Security), and ``only_with_changes`` skips the update when there are none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

import httpx
from pydantic import Field, JsonValue

from releasegate.config.types import Duration
from releasegate.drivers.api import Options, StepContext, StepResult
from releasegate.drivers.httpcheck_common import http_client
from releasegate.drivers.process import resolve_secret
from releasegate.errors import DriverError

_BODIES = {
    "open": "Deployment of {version} to {environment} is in progress.",
    "update": "Deployment of {version} to {environment} continues.",
    "resolve": "Deployment of {version} to {environment} is complete.",
}


class StatuspageOptions(Options):
    """Options of ``statuspage``."""

    page: str = Field(description="The page's API URL, https://api.statuspage.io/v1/pages/PAGE_ID "
                      "(a secret reference is fine).")
    api_key: str = Field(description="The API key, sent as 'Authorization: OAuth KEY'; a secret "
                         "reference. Never printed.")
    action: Literal["open", "update", "resolve"] = Field(description="open, update or resolve.")
    name: str = Field("Deployment of {version} to {environment}",
                      description="The maintenance's name; {version}, {environment} and "
                      "{deployment} are filled in. update and resolve find it by this name.")
    body: str | None = Field(None, description="The update's text; default: one line per action.")
    expected: Duration = Field(timedelta(minutes=30),
                               description="open: how long the maintenance is scheduled for.")
    notify_subscribers: bool = Field(False, description="Deliver this update to the page's "
                                     "subscribers (deliver_notifications).")
    timeout: Duration = Field(timedelta(seconds=15), description="Give up on a request after this long.")
    changelog: str = Field("CHANGELOG.md", description="Where {changes} come from (relative to "
                           "the config): the version's entry, user-facing sections only.")
    only_with_changes: bool = Field(False, description="update: send nothing (and succeed) when "
                                    "the version's changelog entry has no user-facing items.")

USER_FACING = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
"""Keep a Changelog's sections that customers are told about."""


def user_facing_changes(path: Path, version: str) -> list[str]:
    """The first sentence of each item of ``version``'s entry in a user-facing section."""
    from releasegate.metrics.changelog import changelog_entry, entry_changes

    try:
        entry = changelog_entry(path.read_text(encoding="utf-8"), version) or ""
    except OSError as exc:
        raise DriverError(f"changelog {path.name}: cannot read it: {exc.strerror}") from exc
    found: list[str] = []
    for section in re.split(r"^### ", entry, flags=re.M)[1:]:
        heading, _, items = section.partition("\n")
        if heading.strip() in USER_FACING:
            found += [c.split("] ", 1)[-1] for c in entry_changes(items)]
    return found


def _fill(text: str, ctx: StepContext) -> str:
    rel = ctx.release
    return (text.replace("{version}", rel.version).replace("{environment}", rel.environment)
            .replace("{deployment}", str(ctx.deployment_id)))


class Statuspage:
    """Keeps the status page in step with the deployment."""

    name: ClassVar[str] = "statuspage"
    Options: ClassVar[type[StatuspageOptions]] = StatuspageOptions
    safe_to_rerun: ClassVar[bool] = True

    async def run(self, options: StatuspageOptions, ctx: StepContext) -> StepResult:
        body = options.body
        if options.only_with_changes or (body is not None and "{changes}" in body):
            try:
                items = user_facing_changes(ctx.workdir / options.changelog, ctx.release.version)
            except DriverError as exc:
                return StepResult(ok=False, summary=str(exc))
            if not items and options.only_with_changes:
                return StepResult(ok=True, summary=f"no user-facing changes in {options.changelog} "
                                  f"for {ctx.release.version}: nothing sent",
                                  evidence={"action": options.action, "sent": False})
            body = body and body.replace("{changes}", "\n".join(f"- {c}" for c in items))
        return await self._act(options, ctx, options.action, body)

    async def undo(self, options: StatuspageOptions, ctx: StepContext) -> StepResult:
        if options.action != "open":
            return StepResult(ok=True, summary="nothing to undo")
        body = f"Deployment of {ctx.release.version} to {ctx.release.environment} was rolled back."
        return await self._act(options, ctx, "resolve", body)

    async def _act(self, options: StatuspageOptions, ctx: StepContext, action: str,
                   body: str | None) -> StepResult:
        name = _fill(options.name, ctx)
        text = _fill(body or _BODIES[action], ctx)
        try:
            page = resolve_secret(ctx, options.page, what="page").rstrip("/")
            key = resolve_secret(ctx, options.api_key, what="api_key")
            async with http_client(timeout=options.timeout.total_seconds()) as client:
                api = _Api(client, page, key)
                if action == "open":
                    now = datetime.now(UTC)
                    incident = await api.call("POST", "/incidents", {
                        "name": name, "status": "in_progress", "body": text,
                        "scheduled_for": now.isoformat(),
                        "scheduled_until": (now + options.expected).isoformat(),
                        "deliver_notifications": options.notify_subscribers,
                    })
                else:
                    found = await api.find(name)
                    fields: dict[str, JsonValue] = {
                        "body": text, "deliver_notifications": options.notify_subscribers,
                    }
                    if action == "resolve":
                        fields["status"] = "completed"
                    incident = await api.call("PATCH", f"/incidents/{found}", fields)
        except DriverError as exc:
            return StepResult(ok=False, summary=ctx.secrets.redact(str(exc)))
        status = str(incident.get("status", "?"))
        return StepResult(
            ok=True,
            summary=f"status page: {name!r} is {status}",
            evidence={"incident_id": incident.get("id"), "status": status,
                      "shortlink": incident.get("shortlink"), "action": action,
                      "subscribers_notified": options.notify_subscribers},
        )


class _Api:
    def __init__(self, client: httpx.AsyncClient, page: str, key: str) -> None:
        self._client, self._page, self._key = client, page, key

    async def call(self, method: str, path: str, incident: dict[str, JsonValue] | None = None
                   ) -> dict[str, JsonValue]:
        try:
            response = await self._client.request(
                method, self._page + path, headers={"Authorization": f"OAuth {self._key}"},
                json=None if incident is None else {"incident": incident},
            )
        except httpx.HTTPError as exc:
            raise DriverError(f"status page cannot be reached: {exc.__class__.__name__}") from exc
        if response.status_code == 401:
            raise DriverError("status page refused the API key (401)")
        if response.status_code >= 400:
            raise DriverError(f"status page answered {response.status_code}: {_error(response)}")
        try:
            value = response.json()
        except ValueError as exc:
            raise DriverError("status page answered with something that is not JSON") from exc
        if not isinstance(value, dict | list):
            raise DriverError("status page answered with an unexpected shape")
        return value if isinstance(value, dict) else {"items": value}

    async def find(self, name: str) -> str:
        listed = (await self.call("GET", "/incidents/unresolved")).get("items", [])
        assert isinstance(listed, list)
        for incident in listed:
            if isinstance(incident, dict) and incident.get("name") == name:
                return str(incident["id"])
        raise DriverError(f"status page has no unresolved maintenance named {name!r}")


def _error(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:200]
    return "; ".join(map(str, error)) if isinstance(error, list) else str(error)
