"""The installed versions of the local target: ``releases/<version>`` copies, newest N kept."""

from __future__ import annotations

import hashlib
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


_IGNORED = ("__pycache__", ".git")


def content_hash(directory: Path) -> str:
    """sha256 over every file's relative path, mode bit x and bytes (symlinks by target),
    in sorted order; ``__pycache__`` and ``.git`` are left out."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED)
        for name in sorted(files):
            path = Path(root, name)
            rel = path.relative_to(directory).as_posix()
            if path.is_symlink():
                digest.update(f"L {rel}\0{os.readlink(path)}\0".encode())
                continue
            executable = "x" if os.access(path, os.X_OK) else "-"
            digest.update(f"F {rel}\0{executable}\0".encode())
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            digest.update(b"\0")
    return digest.hexdigest()


def _hash_file(releases: Path, version: str) -> Path:
    return releases / f".{version}.sha256"


def installed_hash(releases: Path, version: str) -> str | None:
    """The content hash recorded when ``version`` was installed (None if not recorded)."""
    try:
        return _hash_file(releases, version).read_text().strip() or None
    except OSError:
        return None


def install(
    source: Path, releases: Path, version: str, *, reinstall: bool = False
) -> tuple[Path, str]:
    """Copy ``source`` to ``releases/<version>`` and record its content hash; returns the
    installed directory and the hash.

    An installed version is immutable: if ``source`` has changed since, this refuses (a
    DriverError) unless ``reinstall``, which installs the new files under the same label.
    A source that no longer exists leaves the installed copy as it is."""
    target = release_dir(releases, version)
    if target.is_dir():
        recorded = installed_hash(releases, version)
        if not source.is_dir():
            return target, recorded or content_hash(target)
        now = content_hash(source)
        if recorded is None:
            recorded = content_hash(target)
            _hash_file(releases, version).write_text(recorded + "\n")
        if now == recorded:
            return target, recorded
        if not reinstall:
            raise DriverError(
                f"local target: version {version} was installed from other files than "
                f"{source} holds now (installed sha256 {recorded[:12]}, now {now[:12]}); "
                f"give the new files a new version, or deploy with `reinstall: true`"
            )
    elif not source.is_dir():
        raise DriverError(
            f"local target: version {version} is not installed and its "
            f"directory {source} does not exist"
        )
    releases.mkdir(parents=True, exist_ok=True)
    partial = releases / f".{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial, symlinks=True, ignore=shutil.ignore_patterns(*_IGNORED))
    digest = content_hash(partial)
    if target.is_dir():
        # a running server of the old copy keeps its open files; its directory is renamed
        replaced = releases / f".{version}.replaced"
        shutil.rmtree(replaced, ignore_errors=True)
        target.rename(replaced)
    partial.rename(target)
    _hash_file(releases, version).write_text(digest + "\n")
    return target, digest


def forget_replaced(releases: Path, version: str) -> None:
    """Delete the copy a reinstall of ``version`` replaced (its server has stopped)."""
    shutil.rmtree(releases / f".{version}.replaced", ignore_errors=True)


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
        _hash_file(releases, version).unlink(missing_ok=True)
        seen.pop(version, None)
    (releases / "index.json").write_text(json.dumps(seen, indent=1, sort_keys=True))
    return removed


def _read_index(index: Path) -> dict[str, float]:
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}
