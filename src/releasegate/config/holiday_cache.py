"""What the ``holidays`` package answered, kept on disk between commands.

A config with a holiday calendar made every command that reads it import ``holidays``
(its registry, calendars and the country's module: ~35 ms of CPU) to check the country
code and to find the holidays of a year. Both answers are facts of one installed version
of the package, so they are kept in ``$XDG_CACHE_HOME/releasegate`` (``~/.cache`` by
default) in a file named after that version and the registry file's modification time:
another version, or the package edited in place, reads another file. The version is read
from the ``.dist-info`` folder's name, without importing the package.

A file that cannot be read, holds something else, or cannot be written is no error: the
package is asked again, as it would be without a cache.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

_LOCK = threading.Lock()
_entries: dict[str, object] | None = None


@lru_cache(maxsize=1)
def cache_file() -> Path | None:
    """This installation's cache file, or None if the package or a home is not found."""
    try:
        spec = importlib.util.find_spec("holidays")  # finds the folder; runs nothing
    except (ImportError, ValueError):
        return None
    roots = list(spec.submodule_search_locations or []) if spec else []
    if not roots:
        return None
    package = Path(roots[0])
    try:
        stamp = (package / "registry.py").stat().st_mtime_ns
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (OSError, RuntimeError):  # no registry; no home directory
        return None
    versions = sorted(p.name[len("holidays-"):-len(".dist-info")]
                      for p in package.parent.glob("holidays-*.dist-info"))
    version = versions[-1] if len(versions) == 1 else "unknown"
    return base / "releasegate" / f"holidays-{version}-{stamp}.json"


def _load() -> dict[str, object]:
    global _entries
    if _entries is None:
        _entries = {}
        path = cache_file()
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                found = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(found, dict):
                    _entries = found
    return _entries


def get(key: str) -> object:
    """What was kept under ``key``, or None."""
    with _LOCK:
        return _load().get(key)


def put(key: str, value: object) -> None:
    """Keep ``value`` (JSON) under ``key``; the file is replaced whole, never half-written."""
    with _LOCK:
        entries = _load()
        entries[key] = value
        path = cache_file()
        if path is None:
            return
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".holidays-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(entries, out, separators=(",", ":"))
                os.replace(scratch, path)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(scratch)
                raise


def forget() -> None:
    """Drop what this process read (tests point ``XDG_CACHE_HOME`` elsewhere)."""
    global _entries
    with _LOCK:
        _entries = None
        cache_file.cache_clear()
