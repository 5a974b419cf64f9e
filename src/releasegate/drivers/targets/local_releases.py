"""The installed versions of the local target: ``releases/<version>`` copies, newest N kept."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from releasegate.errors import DriverError


def install(source: Path, releases: Path, version: str) -> Path:
    """Copy ``source`` to ``releases/<version>`` (once: an installed version is immutable)."""
    target = releases / version
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
