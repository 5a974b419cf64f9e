"""Maps the error tree to exit codes and one-line messages; logs unexpected errors."""

from __future__ import annotations

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


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def handle(call: Callable[[], object]) -> int:
    """Run ``call`` and return the exit code the contract gives for what happened."""
    try:
        result = call()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _say("interrupted")
        return Exit.INTERRUPTED
    except typer.TyperException as exc:  # bad usage: typer already said what; we say it too
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _say(f"error: {exc.format_message()}")
        return Exit.USAGE
    except KeyboardInterrupt:
        _say("interrupted")
        return Exit.INTERRUPTED
    except ConfigError as exc:
        for problem in exc.problems:
            _say(f"error: {problem}")
        return Exit.USAGE
    except PolicyDenied as exc:
        _say(f"blocked: {exc}")
        if exc.explanation:
            _say(exc.explanation)
        return Exit.BLOCKED
    except LockedError as exc:
        _say(f"locked: {exc}")
        return Exit.LOCKED
    except StoreError as exc:
        _say(f"error: {exc}")
        return Exit.USAGE
    except ReleasegateError as exc:
        _say(f"error: {exc}")
        return Exit.FAILED
    except Exception as exc:  # noqa: BLE001 — last resort: one line, the traceback goes to a log
        log = _write_crash_log(exc)
        _say(f"internal error: {type(exc).__name__}: {exc} (full traceback in {log})")
        return Exit.INTERNAL
    return int(result) if isinstance(result, int) else Exit.OK


def _write_crash_log(exc: BaseException) -> Path:
    text = "".join(traceback.format_exception(exc))
    for folder in (Path.cwd() / ".releasegate", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"crash-{time.strftime('%Y%m%dT%H%M%S')}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path("<nowhere: no writable directory>")
