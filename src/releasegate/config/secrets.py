"""Secret references in config values: ``${env:NAME}`` and ``${file:PATH}``.

References stay unresolved in the :class:`~releasegate.config.models.Config`; a
:class:`SecretResolver` replaces them at run time, remembers every value it produced and
redacts those values from any text (logs, step output, records). ``$${`` writes a
literal ``${``. Errors name the reference, never a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from releasegate.errors import ConfigError

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HELP = "write ${env:NAME} or ${file:PATH}, or $${ for a literal ${ such as a shell variable"


@dataclass(frozen=True)
class Reference:
    """One ``${kind:name}`` in a value."""

    kind: str
    """``env`` or ``file``."""
    name: str

    def __str__(self) -> str:
        return f"${{{self.kind}:{self.name}}}"


def references_in(text: str) -> list[Reference]:
    """The references in ``text``; a ValueError explains a malformed one."""
    found: list[Reference] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "$${":
            continue
        if match.group(1) is None:
            raise ValueError(f"unterminated secret reference in {_clip(text)!r} ({_HELP})")
        found.append(_parse(match.group(1)))
    return found


def _parse(inner: str) -> Reference:
    kind, sep, name = inner.partition(":")
    if not sep or kind not in ("env", "file"):
        raise ValueError(f"'${{{inner}}}' is not a secret reference ({_HELP})")
    if kind == "env" and not _ENV_NAME.match(name):
        raise ValueError(f"'${{{inner}}}' does not name an environment variable ({_HELP})")
    if kind == "file" and not name.strip():
        raise ValueError(f"'${{{inner}}}' names no file ({_HELP})")
    return Reference(kind, name)


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def find_references(config: BaseModel) -> list[str]:
    """Every reference written anywhere in ``config``, in order, without repeats."""
    seen: dict[str, None] = {}
    for text in _strings(config.model_dump(mode="json", by_alias=True)):
        if "${" in text:
            try:
                for ref in references_in(text):
                    seen.setdefault(str(ref), None)
            except ValueError:  # the loader has reported it already
                continue
    return list(seen)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class SecretResolver:
    """Resolves references (the :class:`~releasegate.drivers.api.Secrets` protocol).

    ``base_dir`` anchors relative ``${file:...}`` paths (the config's directory);
    ``environ`` defaults to the process environment.
    """

    def __init__(self, base_dir: Path, *, environ: Mapping[str, str] | None = None) -> None:
        self._base_dir = base_dir
        self._environ = os.environ if environ is None else environ
        self._values: set[str] = set()

    def resolve(self, value: str) -> str:
        """``value`` with each reference replaced by the secret it names."""
        if "${" not in value:
            return value
        try:
            references_in(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return _TOKEN.sub(self._replace, value)

    def _replace(self, match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        ref = _parse(match.group(1))
        secret = self._lookup(ref)
        self._values.add(secret)
        return secret

    def _lookup(self, ref: Reference) -> str:
        if ref.kind == "env":
            found = self._environ.get(ref.name)
            if found is None:
                raise ConfigError(f"secret {ref} is not set: no environment variable {ref.name}")
            return found
        path = Path(ref.name).expanduser()
        if not path.is_absolute():
            path = self._base_dir / path
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise ConfigError(f"secret {ref} cannot be read: {reason}") from None

    def redact(self, text: str) -> str:
        """``text`` with every value this resolver produced replaced by ``***``: the value
        itself, its base64 and URL encodings, and a piece of it left at either end of a
        text that was cut (see :mod:`releasegate.config.redaction`)."""
        from releasegate.config.redaction import redact

        return redact(text, frozenset(self._values))
