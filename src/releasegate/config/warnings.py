"""Advice about a config that loads: things that work but should not be so (``validate``
prints them as ``warning:`` lines and still exits 0)."""

from __future__ import annotations

from pathlib import Path

from releasegate.config.document import Document, KeyPath, read_document
from releasegate.config.files import read_regular_file
from releasegate.config.identity_check import identity_warnings
from releasegate.config.models import Config
from releasegate.errors import Problem

PHASES = ("gates", "deploy", "post")


def config_warnings(config: Config, path: Path) -> list[Problem]:
    """Every warning about ``config`` (loaded from ``path``), located in the file."""
    doc = read_document(read_regular_file(path).decode("utf-8"), str(path))
    return [*identity_warnings(config, doc), *_secrets_in_argv(config, doc)]


def _secrets_in_argv(config: Config, doc: Document) -> list[Problem]:
    """A secret reference in a command's arguments is readable by every local user in
    /proc/PID/cmdline while the step runs: pass it in ``env`` instead."""
    found: list[Problem] = []
    for name, env in config.environments.items():
        steps = [(phase, i, s) for phase in PHASES for i, s in enumerate(getattr(env, phase))]
        steps += [("rollback.steps", i, s) for i, s in enumerate(env.rollback.steps)]
        for phase, i, step in steps:
            run = step.with_.get("run")
            args = [run] if isinstance(run, str) else run if isinstance(run, list) else []
            for j, arg in enumerate(args):
                if isinstance(arg, str) and "${" in arg.replace("$${", ""):
                    where: KeyPath = ("environments", name, *phase.split("."), i, "with", "run")
                    if isinstance(run, list):
                        where = (*where, j)
                    found.append(doc.problem(
                        where,
                        "a secret reference in the command's arguments is readable by every "
                        "local user (/proc/PID/cmdline) while the step runs: pass it in "
                        "`env:` and read the variable in the command",
                    ))
    return found
