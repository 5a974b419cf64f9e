"""The version grammar: which strings may name a version of the project.

A version reaches shell commands (``{version}``), paths (the ``local`` target's release
directories), git tags and URLs, so it is checked at every entry point (CLI, API, queue)
before anything is recorded or run. The default grammar is
``[0-9A-Za-z][0-9A-Za-z._+-]{0,127}``: ``1.2.0``, ``v2.0.0-rc.1``, ``2026.11.30+build.7``;
a project may set its own with ``versions: {pattern: REGEX}``. Whatever the pattern, a
version is at most :data:`MAX_LENGTH` characters and holds no control character.
"""

from __future__ import annotations

import re
from functools import lru_cache

from releasegate.config.models import DEFAULT_VERSION_PATTERN, Config
from releasegate.errors import ConfigError

MAX_LENGTH = 255
"""No pattern lets a longer version through (and a slow pattern never sees one)."""
_FIRST = re.compile(r"[0-9A-Za-z]")
_REST = re.compile(r"[0-9A-Za-z._+-]")


def check_version(config: Config, version: str) -> None:
    """Raise :class:`ConfigError` saying what is wrong if ``version`` is not one the
    project's grammar (``versions.pattern``) allows; return None if it is."""
    problem = version_problem(config.versions.pattern, version)
    if problem is not None:
        raise ConfigError(f"version {_show(version)}: {problem}")


def version_problem(pattern: str, version: str) -> str | None:
    """What is wrong with ``version`` under ``pattern``, or None."""
    default = pattern == DEFAULT_VERSION_PATTERN
    rule = (
        f"versions match {pattern}"
        if default
        else f"versions match the project's pattern {pattern!r} (versions.pattern)"
    )
    if not version:
        return f"a version cannot be empty; {rule}"
    if len(version) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    if default:
        if not _FIRST.match(version[0]):
            return f"{version[0]!r} cannot start a version; {rule}"
        bad = next((c for c in version if not _REST.match(c)), None)
        if bad is not None:
            return f"{bad!r} is not allowed; {rule}"
    else:
        bad = next((c for c in version if not c.isprintable() or c.isspace()), None)
        if bad is not None:
            return f"{bad!r} is not allowed; {rule}"
    if not _compiled(pattern).fullmatch(version):
        return f"does not match; {rule}" if not default else f"longer than 128 characters; {rule}"
    return None


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _show(version: str) -> str:
    text = repr(version)
    return text if len(text) <= 60 else text[:57] + "...'"
