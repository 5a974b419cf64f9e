"""An environment's deployments mirrored to GitHub Deployments (``github:`` in its config).

Like notifications (:mod:`releasegate.service.notifying`), the engine is not told: the
reporter the use case hands it is wrapped, and the mirror posts from its own thread. What
GitHub was told is recorded as a ``github.deployment`` event of the deployment when the
use case closes the mirror; a connection that cannot be set up (an unset token, a bad
repository) is recorded as ``github.unavailable`` and the deployment goes on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from pydantic import JsonValue

from releasegate.service.workspace import Workspace

if TYPE_CHECKING:
    from releasegate.config.github_models import GitHubSettings
    from releasegate.engine.report import Reporter
    from releasegate.integrations.github_deployments import DeploymentMirror, Target


@contextlib.contextmanager
def github_deployments(ws: Workspace, env: str, reporter: Reporter | None, *, rollback: bool = False
                       ) -> Iterator[Reporter | None]:
    """``reporter``, wrapped so that the deployment to ``env`` (a manual rollback with
    ``rollback``) is mirrored on GitHub when the environment asks for it (else ``reporter``
    itself)."""
    environment = ws.config.environments.get(env)
    settings = environment.github if environment is not None else None
    if settings is None or not settings.deployments:
        yield reporter
        return
    from releasegate.errors import ReleasegateError
    from releasegate.integrations.github_deployments import DeploymentMirror, MirroringReporter

    try:
        target = _target(ws, env, settings, environment.url if environment else None)
    except ReleasegateError as exc:  # names the setting, never the secret's value
        ws.store.append_event("github.unavailable", {"environment": env, "reason": str(exc)})
        yield reporter
        return
    mirror = DeploymentMirror(target, rollback=rollback)
    mirror.start()
    try:
        yield MirroringReporter(reporter, mirror)
    finally:
        _record(ws, mirror, target)


class _Resumed:
    """A reporter for ``resume``, which learns the environment only when the engine says
    which deployment it continues: the mirror starts then, if that environment has one."""

    def __init__(self, ws: Workspace, inner: Reporter | None) -> None:
        self._ws, self._inner = ws, inner
        self.mirror: DeploymentMirror | None = None
        self.target: Target | None = None
        self._decided = False

    def event(self, type: str, data: Mapping[str, JsonValue]) -> None:
        if self._inner is not None:
            self._inner.event(type, data)
        if not self._decided and type == "deployment.started":
            self._decided = True
            plan = data.get("plan")
            env = str(plan.get("environment")) if isinstance(plan, dict) else ""
            self._start(env)
        if self.mirror is not None:
            self.mirror.publish(type, data)

    def _start(self, env: str) -> None:
        from releasegate.errors import ReleasegateError
        from releasegate.integrations.github_deployments import DeploymentMirror

        environment = self._ws.config.environments.get(env)
        settings = environment.github if environment is not None else None
        if settings is None or not settings.deployments:
            return
        try:
            self.target = _target(self._ws, env, settings, environment.url if environment else None)
        except ReleasegateError as exc:
            self._ws.store.append_event("github.unavailable", {"environment": env, "reason": str(exc)})
            return
        self.mirror = DeploymentMirror(self.target, resumed=True)
        self.mirror.start()


@contextlib.contextmanager
def github_resumed(ws: Workspace, reporter: Reporter | None) -> Iterator[Reporter]:
    """``reporter``, wrapped so that a resumed deployment's GitHub Deployment is found
    again and brought to its final status (when its environment has ``github:``)."""
    resumed = _Resumed(ws, reporter)
    try:
        yield resumed
    finally:
        if resumed.mirror is not None and resumed.target is not None:
            _record(ws, resumed.mirror, resumed.target)


def _record(ws: Workspace, mirror: DeploymentMirror, target: Target) -> None:
    """Close ``mirror`` and record what GitHub was told, per deployment."""
    for done in mirror.close(3 * target.timeout_s):
        if done.github_id is None and not done.errors:
            continue  # ended before it started (blocked under the lease): nothing to say
        ws.store.append_event("github.deployment", done.to_json(target), deployment_id=done.deployment_id)


def _target(ws: Workspace, env: str, settings: GitHubSettings, url: str | None) -> Target:
    from releasegate.config.secrets import SecretResolver
    from releasegate.errors import ConfigError, ReleasegateError
    from releasegate.integrations.github_api import GitHubError, check_repository, plain_setting
    from releasegate.integrations.github_deployments import Target

    where = f"environments.{env}.github"
    try:
        repository = check_repository(plain_setting(settings.repository, what=f"{where}.repository",
                                                    environ=os.environ))
        api_url = plain_setting(settings.api_url, what=f"{where}.api_url", environ=os.environ)
    except GitHubError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    try:
        token = SecretResolver(ws.root).resolve(settings.token)
    except (ReleasegateError, LookupError, ValueError, OSError) as exc:
        raise ConfigError(f"{where}.token: {exc}") from exc
    return Target(
        repository=repository, token=token, api_url=api_url,
        environment=settings.environment or env,
        environment_url=settings.environment_url or url,
        log_url=settings.log_url or _actions_run(),
        production=settings.production, transient=settings.transient,
        timeout_s=settings.timeout.total_seconds(),
    )


def _actions_run() -> str | None:
    """The GitHub Actions run this process belongs to, when it runs in one."""
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None
