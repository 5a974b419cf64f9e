"""Implementation of validate and schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from releasegate.cli.context import Globals
from releasegate.errors import ConfigError


def validate(g: Globals) -> int:
    """Load the config; print a one-line summary, or raise the ConfigError with every problem."""
    try:
        config = g.workspace.config
    except ConfigError as exc:
        if g.json:
            problems = [
                {
                    "message": p.message,
                    "path": p.path,
                    "file": p.location.file if p.location else None,
                    "line": p.location.line if p.location else None,
                    "column": p.location.column if p.location else None,
                    "text": str(p),
                }
                for p in exc.problems
            ]
            print(
                json.dumps(
                    {"ok": False, "config": str(g.config_path), "problems": problems}, indent=2
                )
            )
            for p in exc.problems:
                print(f"error: {p}", file=sys.stderr)
            return 2  # the JSON above is the whole answer: no second error object
        raise
    from releasegate.service.configure import warnings

    for problem in warnings(g.workspace):
        print(f"warning: {problem}", file=sys.stderr)
    environments = len(config.environments)
    steps = sum(
        len(env.gates) + len(env.deploy) + len(env.post) + len(env.rollback.steps)
        for env in config.environments.values()
    )
    if g.json:
        summary = {
            "ok": True,
            "config": str(g.config_path),
            "environments": environments,
            "steps": steps,
        }
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{g.config_path}: OK ({_count(environments, 'environment')}, {_count(steps, 'step')})"
        )
    return 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def schema(g: Globals, *, out: Path | None) -> int:
    """Print the JSON Schema of releasegate.yaml, or write it to ``out``."""
    from releasegate.config.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        print(text, end="")
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the schema to {out}: {exc.strerror or exc}") from None
    if not g.json:
        print(f"wrote {out}")
    else:
        print(json.dumps({"ok": True, "schema": str(out)}))
    return 0
