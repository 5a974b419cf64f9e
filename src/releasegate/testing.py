"""Helpers for testing drivers, shared by releasegate's tests and plugin authors.

``run_driver(driver, {"run": ["true"]})`` takes a driver through its whole life in one
call: the options dict is validated by the driver's ``Options`` model (a bad dict raises
pydantic's ``ValidationError``, as loading a config would), a :class:`StepContext` is built
from fakes, and the driver's ``run`` (or ``undo``/``verify``, or a target's
``deploy``/``rollback``) is awaited.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import JsonValue

from releasegate.drivers.api import (
    BackupInfo,
    ConfirmationInfo,
    Facts,
    Options,
    Release,
    Secrets,
    StepContext,
    StepDriver,
    StepResult,
    TargetDriver,
)
from releasegate.errors import DriverError

_REFERENCE = re.compile(r"\$\{(env|file):([^}]+)\}")


class StaticSecrets:
    """A ``Secrets`` over a dict: ``${env:NAME}`` reads ``values[NAME]``, ``${file:PATH}``
    reads a file. Every value it knows or has resolved is redacted to ``***``."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})
        self._resolved: set[str] = {v for v in self._values.values() if v}

    def resolve(self, value: str) -> str:
        def one(match: re.Match[str]) -> str:
            kind, name = match.group(1), match.group(2)
            if kind == "env":
                if name not in self._values:
                    raise DriverError(f"secret ${{env:{name}}} is not set")
                secret = self._values[name]
            else:
                try:
                    secret = Path(name).read_text().strip()
                except OSError as exc:
                    raise DriverError(f"secret file {name} cannot be read: {exc.strerror}") from exc
            if secret:
                self._resolved.add(secret)
            return secret

        return _REFERENCE.sub(one, value)

    def redact(self, text: str) -> str:
        for secret in sorted(self._resolved, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


@dataclass
class FakeFacts:
    """An in-memory ``Facts``: backups catalogued in a list, confirmations in a dict."""

    backups: list[BackupInfo] = field(default_factory=list)
    confirmations: dict[str, ConfirmationInfo] = field(default_factory=dict)
    deployment_id: int = 1

    def record_backup(
        self,
        *,
        location: str,
        checksum: str,
        size: int,
        duration_s: float,
        kind: str,
        source: str,
    ) -> int:
        info = BackupInfo(
            id=len(self.backups) + 1,
            location=location,
            checksum=checksum,
            size=size,
            created_at=time.time(),
            kind=kind,
            source=source,
            deployment_id=self.deployment_id,
        )
        self.backups.append(info)
        return info.id

    def latest_backup(self, *, source: str) -> BackupInfo | None:
        matching = [b for b in self.backups if b.source == source]
        return max(matching, key=lambda b: (b.created_at, b.id)) if matching else None

    def is_confirmed(self, item: str) -> ConfirmationInfo | None:
        return self.confirmations.get(item)

    def confirm(self, item: str, user: str, *, note: str | None = None) -> None:
        """Sign ``item`` as ``user`` (what ``releasegate confirm`` does in the store)."""
        self.confirmations[item] = ConfirmationInfo(item=item, user=user, at=time.time(), note=note)


def make_context(
    *,
    release: Release | None = None,
    url: str | None = None,
    workdir: Path | None = None,
    state_dir: Path | None = None,
    secrets: Secrets | None = None,
    facts: Facts | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StepContext:
    """A :class:`StepContext` made of fakes; anything not given gets a harmless default."""
    workdir = workdir or Path(os.getcwd())
    return StepContext(
        release=release or Release(environment="test", version="1.0.0"),
        deployment_id=getattr(facts, "deployment_id", 1),
        workdir=workdir,
        state_dir=state_dir or workdir / ".releasegate",
        url=url,
        secrets=secrets or StaticSecrets(),
        facts=facts or FakeFacts(),
        progress=progress or (lambda _line: None),
        env=dict(env or {}),
    )


Action = Literal["run", "undo", "verify", "deploy", "rollback"]


def run_driver(
    driver: StepDriver | TargetDriver,
    options: Mapping[str, JsonValue] | None = None,
    *,
    action: Action | None = None,
    to_version: str | None = None,
    release: Release | None = None,
    url: str | None = None,
    workdir: Path | None = None,
    state_dir: Path | None = None,
    secrets: Secrets | None = None,
    facts: Facts | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StepResult:
    """Validate ``options`` with the driver's ``Options`` and run one ``action`` of it.

    ``action`` defaults to ``run`` for a step and ``deploy`` for a target; ``rollback``
    needs ``to_version``.
    """
    parsed: Options = driver.Options.model_validate(dict(options or {}))
    ctx = make_context(
        release=release,
        url=url,
        workdir=workdir,
        state_dir=state_dir,
        secrets=secrets,
        facts=facts,
        env=env,
        progress=progress,
    )
    chosen = action or ("deploy" if isinstance(driver, TargetDriver) else "run")
    method = getattr(driver, chosen, None)
    if method is None:
        raise TypeError(f"{type(driver).__name__} has no {chosen}()")
    if chosen == "rollback":
        if to_version is None:
            raise TypeError("action='rollback' needs to_version")
        result: StepResult = asyncio.run(method(parsed, ctx, to_version))
    else:
        result = asyncio.run(method(parsed, ctx))
    return result
