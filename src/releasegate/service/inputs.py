"""Checks of plain input that every entry point (CLI, API, queue) shares."""

from __future__ import annotations

import re

from releasegate.config.models import KINDS
from releasegate.errors import UsageError

VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,127}")


def check_version(version: str) -> str:
    """``version`` if it is a version label, else UsageError saying what is wrong."""
    if VERSION.fullmatch(version):
        return version
    if not version:
        raise UsageError("version: it is empty")
    bad = next((c for c in version if not re.match(r"[0-9A-Za-z._+-]", c)), None)
    why = f"{bad!r} is not allowed" if bad else "it must start with a letter or digit"
    if bad is None and len(version) > 128:
        why = "it is longer than 128 characters"
    raise UsageError(
        f"version {version[:40]!r}: {why}; versions are letters, digits and . _ + - "
        "(starting with a letter or digit, at most 128)"
    )


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
