"""The kinds of app the local target runs (``asgi``, ``wsgi``, ``command``) and the
interpreter each runs under: what the supervisor is told to start for one version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.errors import DriverError

if TYPE_CHECKING:
    from releasegate.drivers.targets.local import LocalOptions

SERVE_COMMAND = (
    "{python}",
    "{serve}",
    "--fd",
    "{fd}",
    "--app-dir",
    "{version_dir}",
    "--drain-timeout",
    "{drain_timeout}",
)
"""``local_serve.py`` run as a file by the app's interpreter (``{serve}`` is its path)."""


def interpreter(opts: LocalOptions, workdir: Path, version_dir: Path) -> str | None:
    """The app's own Python (from ``python`` or ``venv``), or None for releasegate's.

    Relative paths are relative to the config file; ``{version_dir}`` is the installed
    version (a version may bring its own venv)."""
    raw = opts.python if opts.python is not None else opts.venv
    if raw is None:
        return None
    path = workdir / raw.replace("{version_dir}", str(version_dir))
    python = path if opts.python is not None else path / "bin" / "python"
    if not python.is_file():
        what = "python" if opts.python is not None else "venv"
        raise DriverError(
            f"local target: {what} {raw!r}: {python} does not exist (or is not a file)"
        )
    # not resolved: a venv's bin/python is a symlink, and the venv is found from its path
    return str(python.absolute())


def launch(opts: LocalOptions, workdir: Path, version_dir: Path) -> dict[str, Any]:
    """The ``command``, ``protocol``, ``workers`` and ``python`` of a ``swap`` request."""
    if opts.command is not None:
        command = list(opts.command)
        default_protocol = "listen-fds"
    elif opts.wsgi is not None:
        command = [*SERVE_COMMAND, "--wsgi", opts.wsgi]
        default_protocol = "releasegate"
    else:
        command = [*SERVE_COMMAND, opts.asgi or "app:app"]
        default_protocol = "releasegate"
    protocol = (opts.protocol or default_protocol) == "releasegate"
    return {
        "command": command,
        "protocol": protocol,
        "workers": opts.workers,
        "python": interpreter(opts, workdir, version_dir),
    }
