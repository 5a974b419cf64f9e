"""GitHub Deployments kept in step with releasegate's deployments.

When a deployment starts, a GitHub Deployment is created for its commit
(``POST /repos/{o}/{r}/deployments`` with ``auto_merge: false`` and ``required_contexts:
[]``: releasegate's gates have judged the commit already) and given the status
``in_progress``; when it ends, ``success``, ``failure`` or ``error`` (blocked, cancelled),
and a deployment that failed and was rolled back is also made ``inactive``. A ``rollback``
makes the environment's newest GitHub Deployment ``inactive``. GitHub itself marks the
earlier deployments of an environment inactive when a new one succeeds.

The requests are sent by a thread of their own, in order, so a slow GitHub never slows a
deployment; what happened there (or why nothing did) is handed back when it is closed, for
the use case to record. The token is never part of what is recorded.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import JsonValue

from releasegate.integrations.github_api import GitHub, GitHubError, tls_context


class Reporter(Protocol):
    """The engine's reporter, as :mod:`releasegate.engine.report` defines it."""

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None: ...

FINAL_STATE = {"succeeded": "success", "failed": "failure", "rollback_failed": "failure",
               "rolled_back": "failure", "blocked": "error", "cancelled": "error"}
"""A releasegate deployment's final status → its GitHub Deployment's state."""
DESCRIPTION_MAX = 140
"""GitHub refuses a longer deployment status description."""


@dataclass(frozen=True)
class Target:
    """Where the mirrored deployments go (resolved settings: the token's value included)."""

    repository: str
    token: str
    api_url: str
    environment: str
    environment_url: str | None = None
    log_url: str | None = None
    production: bool | None = None
    transient: bool = False
    timeout_s: float = 10.0


@dataclass
class Mirror:
    """What was done on GitHub for one releasegate deployment (recorded when closed)."""

    deployment_id: int | None
    github_id: int | None = None
    states: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self, target: Target) -> dict[str, JsonValue]:
        return {"repository": target.repository, "environment": target.environment,
                "github_deployment": self.github_id, "states": list(self.states),
                "errors": list(self.errors)}


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"


class DeploymentMirror:
    """Posts deployments and their statuses to GitHub from a thread of its own."""

    def __init__(self, target: Target, *, rollback: bool = False, resumed: bool = False) -> None:
        """``rollback``: the use case is a manual rollback (the engine starts none);
        ``resumed``: it continues an interrupted deployment, whose GitHub Deployment is
        found again by its payload rather than created twice."""
        self.target = target
        self._resumed = resumed
        self._queue: queue.Queue[tuple[str, dict[str, JsonValue]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="releasegate-github", daemon=True)
        self._mirrors: dict[int | None, Mirror] = {}
        self._kind = "rollback" if rollback else "normal"
        self._version = ""

    def start(self) -> None:
        self._thread.start()

    def publish(self, type: str, data: Mapping[str, JsonValue]) -> None:
        """Queue an engine event; returns at once."""
        if type in ("deployment.started", "deployment.finished"):
            self._queue.put((type, dict(data)))

    def close(self, timeout: float) -> list[Mirror]:
        """Wait up to ``timeout`` seconds for what is queued; what GitHub was told."""
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            for mirror in self._mirrors.values() or [self._mirror(None)]:
                mirror.errors.append(f"GitHub did not answer within {timeout:g}s: its deployment "
                                     "status may lag behind")
        return list(self._mirrors.values())

    def _mirror(self, deployment_id: int | None) -> Mirror:
        return self._mirrors.setdefault(deployment_id, Mirror(deployment_id))

    def _work(self) -> None:
        asyncio.run(self._drain())

    async def _drain(self) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=self.target.timeout_s, verify=tls_context()) as client:
            gh = GitHub(client, repository=self.target.repository, token=self.target.token,
                        api_url=self.target.api_url)
            while (item := await asyncio.to_thread(self._queue.get)) is not None:
                type, data = item
                dep_id = data.get("id") if isinstance(data.get("id"), int) else None
                mirror = self._mirror(dep_id if isinstance(dep_id, int) else None)
                try:
                    if type == "deployment.started":
                        await self._started(gh, mirror, data)
                    else:
                        await self._finished(gh, mirror, data)
                except GitHubError as exc:
                    mirror.errors.append(str(exc))

    async def _started(self, gh: GitHub, mirror: Mirror, data: dict[str, JsonValue]) -> None:
        plan = data.get("plan")
        plan = plan if isinstance(plan, dict) else {}
        self._kind = str(plan.get("kind") or "normal")
        self._version = str(plan.get("version") or "")
        if self._kind == "rollback" or mirror.github_id is not None:
            return  # a rollback changes which deployment is active
        if self._resumed:
            mirror.github_id = await self._find(gh, mirror.deployment_id)
            if mirror.github_id is not None:
                await self._status(gh, mirror, "in_progress", f"resuming {self._version}")
                return
        commit = plan.get("commit")
        body: dict[str, JsonValue] = {
            "ref": str(commit or self._version), "environment": self.target.environment,
            "auto_merge": False, "required_contexts": [], "task": "deploy",
            "description": _short(f"releasegate: {self._version} ({self._kind})"),
            "payload": {"releasegate": {"deployment": mirror.deployment_id, "version": self._version,
                                        "kind": self._kind}},
            "transient_environment": self.target.transient,
        }
        if self.target.production is not None:
            body["production_environment"] = self.target.production
        created = await gh.post("/deployments", body, what="creating a deployment")
        github_id = created.get("id") if isinstance(created, dict) else None
        if not isinstance(github_id, int):  # 202: GitHub merged the base branch in instead
            said = created.get("message") if isinstance(created, dict) else None
            raise GitHubError(f"GitHub created no deployment: {said or 'unexpected answer'}")
        mirror.github_id = github_id
        await self._status(gh, mirror, "in_progress", f"deploying {self._version}")

    async def _finished(self, gh: GitHub, mirror: Mirror, data: dict[str, JsonValue]) -> None:
        status = str(data.get("status"))
        detail = str(data.get("detail") or status)
        if self._kind == "rollback":
            if status == "succeeded":
                await self._deactivate_newest(gh, f"rolled back by releasegate: {detail}")
            return
        if mirror.github_id is None or status not in FINAL_STATE:
            return
        await self._status(gh, mirror, FINAL_STATE[status], detail)
        if status == "rolled_back":
            await self._status(gh, mirror, "inactive", f"rolled back: {detail}")

    async def _status(self, gh: GitHub, mirror: Mirror, state: str, description: str) -> None:
        body: dict[str, JsonValue] = {"state": state, "description": _short(description),
                                      "auto_inactive": True}
        if self.target.log_url:
            body["log_url"] = self.target.log_url
        if self.target.environment_url:
            body["environment_url"] = self.target.environment_url
        await gh.post(f"/deployments/{mirror.github_id}/statuses", body, what="posting a deployment status")
        mirror.states.append(state)

    async def _find(self, gh: GitHub, deployment_id: int | None) -> int | None:
        """The GitHub Deployment made for releasegate's ``deployment_id`` (among the
        environment's 30 newest), if any."""
        listed = await gh.get("/deployments", params={"environment": self.target.environment,
                                                      "per_page": 30},
                              what=f"the deployments of {self.target.environment}")
        for dep in listed if isinstance(listed, list) else []:
            payload = dep.get("payload") if isinstance(dep, dict) else None
            ours = payload.get("releasegate") if isinstance(payload, dict) else None
            if isinstance(ours, dict) and ours.get("deployment") == deployment_id:
                found = dep.get("id") if isinstance(dep, dict) else None
                return found if isinstance(found, int) else None
        return None

    async def _deactivate_newest(self, gh: GitHub, description: str) -> None:
        listed = await gh.get("/deployments", params={"environment": self.target.environment,
                                                      "per_page": 1}, what=f"the deployments of {self.target.environment}")
        newest = listed[0] if isinstance(listed, list) and listed else None
        github_id = newest.get("id") if isinstance(newest, dict) else None
        if isinstance(github_id, int):
            mirror = self._mirror(None)
            mirror.github_id = github_id
            await self._status(gh, mirror, "inactive", description)


class MirroringReporter:
    """A :class:`Reporter` that passes every event on and hands the mirror the ones that
    start and end a deployment."""

    def __init__(self, inner: Reporter | None, mirror: DeploymentMirror) -> None:
        self._inner = inner
        self._mirror = mirror

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if self._inner is not None:
            self._inner.event(type, data)
        self._mirror.publish(type, data)
