"""Implementation of ``init`` and ``checklist coverage`` / ``checklist items``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from releasegate.cli.context import Globals
from releasegate.cli.exit_codes import Exit
from releasegate.config.checklist import Checklist, load_checklist
from releasegate.config.models import Config
from releasegate.errors import ConfigError, Problem


def init(g: Globals, *, from_checklist: Path | None, example: str | None, force: bool,
         directory: Path | None = None) -> int:
    """Write a starting config: from a checklist, a shipped example, or the template; or,
    with ``directory``, a whole example workspace."""
    from releasegate.config import init_writer

    if from_checklist is not None and example is not None:
        raise ConfigError("init: use either --from-checklist or --example, not both")
    if directory is not None:
        return _workspace(g, directory, example, force=force)
    path = g.config_path
    if from_checklist is not None:
        init_writer.write_from_checklist(path, from_checklist, force=force)
        what = f"from {from_checklist}"
    elif example is not None:
        init_writer.write_example(path, example, force=force)
        what = f"from the {example} example"
    else:
        init_writer.write_template(path, force=force)
        what = "from the template"
    if g.json:
        print(json.dumps({"written": str(path), "source": what}))
    else:
        print(f"wrote {path} ({what}); next: releasegate validate")
    return Exit.OK


def _workspace(g: Globals, directory: Path, example: str | None, *, force: bool) -> int:
    from releasegate.demo.example_workspace import write_example_workspace

    if example is None:
        raise ConfigError(f"init {directory}: a directory is for a whole example: "
                          "releasegate init --example camarketplace DIR")
    changes = write_example_workspace(directory, example, force=force)
    if g.json:
        print(json.dumps({"workspace": str(directory), "example": example, "changes": changes}))
        return Exit.OK
    print(f"wrote the {example} example to {directory}, a git repository with an origin")
    for change in changes:
        print(f"  {change}")
    print(f"next: cd {directory} && python tour.py start && . ./tour.env  (README.md: the tour)")
    return Exit.OK


def coverage(g: Globals, *, spec: Path | None) -> int:
    """Print how the config covers the checklist; exit 1 when items are missing."""
    from releasegate.config.checklist_coverage import STATUSES, compute_coverage

    config = _load_config(g)
    checklist = _spec(g, config, spec)
    result = compute_coverage(config, checklist)
    if g.json:
        print(json.dumps({"spec": checklist.source, **result.as_json()}, indent=2))
        return Exit.FAILED if result.missing else Exit.OK
    console = Console()
    print(f"checklist: {checklist.source}")
    table = Table()
    table.add_column("status")
    table.add_column("items", justify="right")
    table.add_column("share", justify="right")
    total = len(result.items) or 1
    for status in STATUSES:
        n = result.count(status)
        table.add_row(status, str(n), f"{round(100 * n / total)}%")
    console.print(table)
    print(result.summary())
    if result.missing:
        print("missing:")
        for entry in result.missing:
            print(f"  {entry.item.id} (line {entry.item.line}): {entry.item.text}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return Exit.FAILED if result.missing else Exit.OK


def items(g: Globals, *, spec: Path | None, why: bool = False) -> int:
    """List every item of the checklist: id, line and text (``why``: its kind, the words
    that decided it, and what in the config covers it)."""
    config = _load_config(g) if spec is None or (why and g.config_path.is_file()) else None
    checklist = load_checklist(spec) if spec is not None else _spec(g, _checked(config), None)
    rows: list[dict[str, object]] = [
        {"id": i.id, "line": i.line, "text": i.text, "parent": i.parent} for i in checklist.items]
    if why:
        _explain(rows, checklist, config)
    if g.json:
        print(json.dumps({"spec": checklist.source, "items": rows}, indent=2))
        return Exit.OK
    for row in rows:
        print(f"{row['line']:>5}  {row['id']}  {row['text']}")
        if why:
            print(f"       {row['kind']}: {row['why']}")
            if "status" in row:
                where = ", ".join(map(str, row["covered_by"])) or "nothing"  # type: ignore[call-overload]
                print(f"       {row['status']}: {where}")
    return Exit.OK


def _checked(config: Config | None) -> Config:
    assert config is not None  # loaded whenever no --spec is given
    return config


def _explain(rows: list[dict[str, object]], checklist: Checklist, config: Config | None) -> None:
    from releasegate.config.checklist_classify import classify
    from releasegate.config.checklist_coverage import compute_coverage

    placements = classify(checklist)
    covered = {c.item.id: c for c in compute_coverage(config, checklist).items} if config else {}
    for row in rows:
        placement = placements[str(row["id"])]
        row.update(kind=placement.kind, why=placement.why)
        coverage = covered.get(str(row["id"]))
        if coverage is not None:
            row.update(status=coverage.status, covered_by=list(coverage.where))


def _spec(g: Globals, config: Config, spec: Path | None) -> Checklist:
    if spec is not None:
        return load_checklist(spec)
    if not config.checklist:
        raise ConfigError(
            f"{g.config_path}: no checklist: set `checklist: FILE.md` in the config or pass --spec"
        )
    return load_checklist(Path(os.path.normpath(g.config_path.parent / config.checklist)))


def _load_config(g: Globals) -> Config:
    """The config, checked by the loader; drivers that are not installed here only warn.

    Coverage reads which items a config names; it does not run drivers, so a config whose
    drivers live on another machine can still be measured (``validate`` checks them).
    """
    if not g.config_path.is_file():
        raise ConfigError(f"{g.config_path}: no such config file (create one: releasegate init)")
    try:
        return g.workspace.config
    except ConfigError as exc:
        driver_problems = [p for p in exc.problems if _is_driver_problem(p)]
        if len(driver_problems) < len(exc.problems):
            raise
        config = _model_only(g.config_path)
        for problem in driver_problems:
            print(f"warning: {problem}", file=sys.stderr)
        return config


def _is_driver_problem(problem: Problem) -> bool:
    return problem.path.endswith(".uses") and "driver" in problem.message


def _model_only(path: Path) -> Config:
    from pydantic import ValidationError
    from ruamel.yaml import YAML

    try:
        return Config.model_validate(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:  # the loader reported no such problem; say it anyway
        raise ConfigError(f"{path}: {exc.errors()[0]['msg']}") from exc
