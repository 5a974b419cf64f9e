"""The installed versions of the local target: ``releases/<version>`` copies, newest N kept."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from releasegate.errors import DriverError


def release_dir(releases: Path, version: str) -> Path:
    """``releases/<version>``, or a DriverError if ``version`` is not one plain directory
    name there (``..``, ``a/b``, an absolute path): a version never leads elsewhere.

    Checked on the normalised path, not the resolved one: ``releases`` itself may be a
    symlink to another disk.
    """
    root = os.path.normpath(os.path.abspath(releases))
    found = os.path.normpath(os.path.join(root, version))
    plain = version and "\0" not in version and os.sep not in version and "/" not in version
    if not plain or os.path.dirname(found) != root or found == root:
        raise DriverError(
            f"local target: version {version!r} is not a plain name: it would lead outside {root}"
        )
    return Path(found)


def install(source: Path, releases: Path, version: str) -> Path:
    """Copy ``source`` to ``releases/<version>`` (once: an installed version is immutable)."""
    target = release_dir(releases, version)
    if target.is_dir():
        return target
    if not source.is_dir():
        raise DriverError(
            f"local target: version {version} is not installed and its "
            f"directory {source} does not exist"
        )
    releases.mkdir(parents=True, exist_ok=True)
    partial = releases / f".{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(
        source, partial, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".git")
    )
    partial.rename(target)
    return target


def record_live(releases: Path, version: str) -> None:
    """Remember when ``version`` last went live (the order pruning keeps)."""
    index = releases / "index.json"
    seen = _read_index(index)
    seen[version] = time.time()
    index.write_text(json.dumps(seen, indent=1, sort_keys=True))


def prune(releases: Path, *, keep: int, protect: set[str]) -> list[str]:
    """Delete installed versions beyond the ``keep`` most recently live; returns them."""
    seen = _read_index(releases / "index.json")
    installed = [p.name for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")]
    newest_first = sorted(installed, key=lambda v: seen.get(v, 0.0), reverse=True)
    removed = [v for v in newest_first[keep:] if v not in protect]
    for version in removed:
        shutil.rmtree(releases / version, ignore_errors=True)
        seen.pop(version, None)
    (releases / "index.json").write_text(json.dumps(seen, indent=1, sort_keys=True))
    return removed


def _read_index(index: Path) -> dict[str, float]:
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
