"""Maps the error tree to exit codes and one-line messages; logs unexpected errors."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import typer

from releasegate.cli.exit_codes import Exit
from releasegate.errors import (
    ConfigError,
    LockedError,
    PolicyDenied,
    ReleasegateError,
    StoreError,
)


def handle(call: Callable[[], object], *, json_errors: bool = False) -> int:
    """Run ``call`` and return the exit code the contract gives for what happened.

    A failure is said on stderr, one line each (``error:``, ``blocked:``, ``locked:``,
    ``internal error:``). With ``json_errors`` (``--json``) it is also printed on stdout as
    one JSON object ``{"error": {"kind", "message", "details", "exit"}}``, so every exit
    path of every command under ``--json`` prints valid JSON."""
    try:
        result = call()
    except BaseException as exc:  # noqa: BLE001 — mapped below, re-raised if not ours
        code, kind, lines = _failure(exc)
        for i, line in enumerate(lines):
            prefixed = kind == "error" or (i == 0 and kind not in ("interrupted", "typer"))
            print(f"{kind}: {line}" if prefixed else line, file=sys.stderr)
        if json_errors and kind != "typer":
            print(json.dumps({"error": {
                "kind": kind, "message": lines[0] if lines else "", "details": lines[1:],
                "exit": int(code),
            }}), flush=True)
        return int(code)
    return int(result) if isinstance(result, int) else Exit.OK


def _failure(exc: BaseException) -> tuple[int, str, list[str]]:
    """The exit code, the kind of failure and the lines that say it."""
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code), "typer", []
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        return Exit.INTERRUPTED, "interrupted", ["interrupted"]
    if isinstance(exc, typer.TyperException):  # bad usage: typer says what, as click does
        show = getattr(exc, "show", None)
        if callable(show):
            show()
            return Exit.USAGE, "typer", []
        return Exit.USAGE, "error", [exc.format_message()]
    if isinstance(exc, ConfigError):
        return Exit.USAGE, "error", [str(p) for p in exc.problems]
    if isinstance(exc, PolicyDenied):
        return Exit.BLOCKED, "blocked", [str(exc), *exc.explanation.splitlines()]
    if isinstance(exc, LockedError):
        return Exit.LOCKED, "locked", [str(exc)]
    if isinstance(exc, StoreError):
        return Exit.USAGE, "error", [str(exc)]
    if isinstance(exc, ReleasegateError):
        return Exit.FAILED, "error", [str(exc)]
    if not isinstance(exc, Exception):  # SystemExit and the like are not ours to map
        raise exc
    log = _write_crash_log(exc)
    return Exit.INTERNAL, "internal error", [
        f"{type(exc).__name__}: {exc} (full traceback in {log})"
    ]


def _write_crash_log(exc: BaseException) -> Path:
    text = "".join(traceback.format_exception(exc))
    for folder in (Path.cwd() / ".releasegate", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{time.strftime('%Y%m%dT%H%M%S')}.log"
            # a traceback can hold what the code was handling: readable by its owner only
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return path
        except OSError:
            continue
    return Path("<nowhere: no writable directory>")
