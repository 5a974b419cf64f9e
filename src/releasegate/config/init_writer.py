"""Writes a starting ``releasegate.yaml``: the template, a shipped example, or a checklist's.

* :func:`write_template` — a commented config for a two-environment team;
* :func:`write_example` — ``examples/<name>/releasegate.yaml`` from the source tree;
* :func:`write_from_checklist` — a config in which every item of a markdown checklist is
  a step, a policy setting or a confirmation (see ``docs/checklist.md``).

None of them overwrites an existing file unless told to.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import releasegate
from releasegate.config.checklist import load_checklist, read_checklist_text, slugify
from releasegate.config.checklist_assemble import config_from_checklist
from releasegate.config.checklist_yaml import dump
from releasegate.errors import ConfigError

_EXAMPLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def template_text() -> str:
    """The commented default config (``config/templates/releasegate.yaml``)."""
    return resources.files("releasegate.config").joinpath("templates/releasegate.yaml").read_text(
        encoding="utf-8"
    )


def write_template(path: Path, *, force: bool = False) -> Path:
    """Write the default config to ``path``."""
    return _write(path, template_text(), force=force)


def example_roots() -> list[Path]:
    """Where shipped examples are looked for: the package, then the source tree."""
    package = Path(releasegate.__file__).resolve().parent
    return [package / "examples", package.parents[1] / "examples"]


def write_example(path: Path, name: str, *, force: bool = False) -> Path:
    """Copy ``examples/<name>/releasegate.yaml`` to ``path``."""
    if not _EXAMPLE_NAME.match(name):
        raise ConfigError(f"--example: {name!r} is not an example name")
    for root in example_roots():
        source = root / name / "releasegate.yaml"
        if source.is_file():
            return _write(path, source.read_text(encoding="utf-8"), force=force)
    known = sorted({p.parent.name for root in example_roots() if root.is_dir()
                    for p in root.glob("*/releasegate.yaml")})
    listing = f" (available: {', '.join(known)})" if known else " (none is installed)"
    raise ConfigError(
        f"--example: no example named {name!r}: examples/{name}/releasegate.yaml is not in "
        f"this installation{listing}"
    )


def write_from_checklist(path: Path, spec: Path, *, force: bool = False) -> Path:
    """Write a config covering every item of the markdown checklist ``spec``."""
    checklist = load_checklist(spec)
    if not checklist.items:
        raise ConfigError(f"{spec}: no checklist items (- [ ] ...) found")
    text = read_checklist_text(spec)
    folder = path.resolve().parent
    relative = Path(os.path.relpath(spec.resolve(), folder)).as_posix()
    doc = config_from_checklist(checklist, text, project=_project(text, folder),
                                checklist_path=relative)
    header = [
        f"releasegate.yaml generated from {relative} by `releasegate init --from-checklist`.",
        f"Each of its {len(checklist)} items is referenced by the element that covers it",
        "(`checklist:` lists the item ids; `releasegate checklist items` shows them).",
        "Look for TODO: placeholders to replace with your own commands and values.",
        "Check it with `releasegate validate` and `releasegate checklist coverage`.",
        "",
    ]
    return _write(path, dump(doc, header=header), force=force)


def _project(text: str, folder: Path) -> str:
    title = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    name = slugify(title.group(1)) if title else ""
    name = re.sub(r"(^|-)(deployment-)?checklist$", "", name).strip("-")
    return name or slugify(folder.name) or "my-service"


def _write(path: Path, text: str, *, force: bool) -> Path:
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists: pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
