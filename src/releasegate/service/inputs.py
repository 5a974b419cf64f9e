"""Checks of plain input that every entry point (CLI, API, queue) shares."""

from __future__ import annotations

from releasegate.config.models import KINDS, Config
from releasegate.errors import UsageError


def check_version(config: Config, version: str) -> str:
    """``version`` if the project's version grammar (``versions.pattern``) allows it, else
    a ConfigError saying what is wrong (exit 2)."""
    from releasegate.config.versions import check_version as check

    check(config, version)
    return version


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"--kind {kind!r}: use {', '.join(KINDS)}")
    return kind


def check_environment(names: list[str], env: str, *, allow_all: bool = False) -> str | None:
    """``env`` (None for ``all`` where allowed), else UsageError naming the known ones."""
    if allow_all and env == "all":
        return None
    if env not in names:
        from releasegate.config.timespec import did_you_mean

        extra = " or 'all'" if allow_all else ""
        raise UsageError(
            f"unknown environment {env!r}{did_you_mean(env, names)} "
            f"(known: {', '.join(names)}{extra})"
        )
    return env


MAX_ID = 2**63 - 1
"""Ids are 64-bit in both databases: a larger number names nothing (and must not reach a
driver that overflows on it)."""


def check_id(id: int, what: str) -> int:
    """``id`` if it can name a ``what`` (a deployment, a freeze, …), else UsageError."""
    if not 0 < id <= MAX_ID:
        raise UsageError(f"there is no {what} {id}")
    return id
