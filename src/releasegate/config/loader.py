"""Loads ``releasegate.yaml``: YAML with positions, model validation, cross-checks.

Every problem in a file is reported at once, each with ``file:line:column`` and the key
path to the value, in one :class:`~releasegate.errors.ConfigError`::

    releasegate.yaml:41:9: environments.production.window.days[1]: 'tusday' is not a day (did you mean 'tuesday'?)

The YAML is read by ruamel.yaml (YAML 1.2: ``on``/``yes`` stay strings) into its node
tree, which carries the line and column of every key and value; libyaml's C parser is
used when ``ruamel.yaml.clib`` is installed, the pure-Python one otherwise. Top-level keys
starting with ``x-`` are ignored (a home for anchors, as in docker-compose files).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from releasegate.config.catalog import DriverCatalog
from releasegate.config.crosscheck import crosscheck
from releasegate.config.document import Document, KeyPath, dotted, read_document
from releasegate.config.files import UnreadableFile, read_regular_file
from releasegate.config.models import Config
from releasegate.config.validation import translate
from releasegate.errors import ConfigError, Location, Problem

EXTENSION_PREFIX = "x-"
"""Top-level keys starting with ``x-`` are ignored: a place for YAML anchors."""


def load_config(path: Path, *, catalog: DriverCatalog | None = None) -> Config:
    """Read, validate and cross-check the config at ``path``.

    ``catalog`` holds the drivers that ``uses`` may name and their options models
    (:func:`releasegate.drivers.api.load_registry` gives every installed one). Without a
    catalog, the drivers and their ``with`` options are NOT checked: everything else is.
    Commands that only read records need no more; ``validate``, ``plan`` and ``deploy``
    should pass one (``compile_plan`` checks the drivers of the steps it plans anyway).
    """
    file = str(path)
    doc = read_document(_read(path), file)
    if not isinstance(doc.data, dict):
        what = "empty" if doc.data is None else f"a {_kind(doc.data)}"
        raise ConfigError(
            [
                Problem(
                    f"the top level must be a mapping with 'project' and 'environments', "
                    f"but the file is {what}",
                    location=doc.at(()),
                )
            ]
        )
    problems = list(doc.problems)
    config: Config | None = None
    data = {k: v for k, v in doc.data.items() if not k.startswith(EXTENSION_PREFIX)}
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(translate(exc, doc, Config))
    problems.extend(crosscheck(doc, config, catalog))
    if problems or config is None:
        raise ConfigError(_ordered(problems))
    return config


def _kind(value: object) -> str:
    return "list" if isinstance(value, list) else f"single value ({value!r:.40})"


def _read(path: Path) -> str:
    file = str(path)
    try:
        raw = read_regular_file(path)
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    "no config file here (create one with 'releasegate init')",
                    location=Location(file),
                )
            ]
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            [Problem("is a directory, not a config file", location=Location(file))]
        ) from None
    except UnreadableFile as exc:
        raise ConfigError([Problem(str(exc), location=Location(file))]) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(f"cannot be read: {exc.strerror or exc}", location=Location(file))]
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            [Problem("is not UTF-8 text", location=Location(file, line, column))]
        ) from None


def _ordered(problems: list[Problem]) -> list[Problem]:
    def key(p: Problem) -> tuple[int, int]:
        loc = p.location
        return (loc.line or 0, loc.column or 0) if loc else (0, 0)

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=key)


__all__ = ["Document", "KeyPath", "dotted", "load_config"]
