"""``{version}``-style placeholders in the commands a config gives (a ``command`` step's
``run:``, the ``command`` target's commands).

Only ``{name}`` with ``name`` an identifier is a placeholder, so the braces of other text
stay as written: ``${env:NAME}`` (a secret reference or a shell variable), ``{'a': 1}`` in
Python code, awk's ``{print $1}``, Go templates' ``{{.State}}``. ``{{name}}`` is the literal
text ``{name}``. An unknown name is an error when the config is loaded (with its file and
line), never a literal left in a command that then does something else.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

STEP_PLACEHOLDERS = ("version", "previous_version", "environment", "deployment_id")
"""What a ``command`` step's ``run:`` may name: the release as the step sees it (in
``rollback.steps``, the version being restored and the one rolled back from)."""

_TOKEN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown(parts: Iterable[str], known: Iterable[str]) -> list[str]:
    """The placeholder names in ``parts`` that are not in ``known`` (each once, in order)."""
    allowed = set(known)
    found: dict[str, None] = {}
    for part in parts:
        for match in _TOKEN.finditer(part):
            name = match.group(2)
            if name is not None and name not in allowed:
                found[name] = None
    return list(found)


def problem(value: str | list[str], known: Iterable[str]) -> str | None:
    """Why ``value`` names placeholders that do not exist, or None (the caller's error
    names the field)."""
    names = list(known)
    bad = unknown([value] if isinstance(value, str) else value, names)
    if not bad:
        return None
    listed = ", ".join(f"{{{n}}}" for n in names)
    return (
        f"unknown placeholder {', '.join(f'{{{b}}}' for b in bad)} "
        f"(known: {listed}; write {{{{{bad[0]}}}}} for the literal text {{{bad[0]}}})"
    )


def fill(text: str, values: Mapping[str, str], *, shell: bool = False) -> str:
    """``text`` with each ``{name}`` replaced by its value (shell-quoted with ``shell``) and
    ``{{name}}`` turned into ``{name}``; names not in ``values`` are left as written."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "{" + match.group(1) + "}"
        name = match.group(2)
        if name not in values:
            return match.group(0)
        return shlex.quote(values[name]) if shell else values[name]

    return _TOKEN.sub(one, text)
