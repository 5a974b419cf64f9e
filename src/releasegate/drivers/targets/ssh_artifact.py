"""A version's directory as one tar archive, the same bytes every time it is built.

The archive's sha256 is what each host checks before installing it, so entries are sorted
and their owners, times and modes normalised (``__pycache__`` and ``.git`` left out, as the
local target's content hash does): building it again from unchanged files gives the same
hash, and a host that already holds it is not sent it again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tarfile
from pathlib import Path

from releasegate.errors import DriverError

_IGNORED = ("__pycache__", ".git")


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    if info.isdir():
        info.mode = 0o755
    elif info.isfile():
        info.mode = 0o755 if info.mode & 0o100 else 0o644
    return info


def build(source: Path, out: Path) -> tuple[Path, str, int]:
    """Write ``source`` as ``out`` (a tar); returns the archive, its sha256 and its size."""
    if not source.is_dir():
        raise DriverError(f"ssh target: the version's files are not at {source}")
    out.parent.mkdir(parents=True, exist_ok=True)
    # two environments may pack the same version at once: each writes its own file
    partial = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in _IGNORED)
            for name in sorted(dirs) + sorted(files):
                path = Path(root, name)
                rel = path.relative_to(source).as_posix()
                tar.add(path, arcname=rel, recursive=False, filter=_normalised)
    digest, size = sha256_file(partial), partial.stat().st_size
    os.replace(partial, out)
    return out, digest, size


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
