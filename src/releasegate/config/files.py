"""Reading a config or checklist file: a regular file, of bounded size, or a clear refusal.

A named pipe given as the config would block ``open()`` until a writer came; a device such
as ``/dev/zero`` would be read until memory ran out. The file is opened without blocking
(``O_NONBLOCK`` does nothing to a regular file and lets a FIFO open at once), checked with
``fstat`` on the open descriptor (no gap between the check and the read), then read up to
the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 8 * 1024 * 1024
"""The largest config or checklist read (a 10,000-step config is about 1 MiB)."""


class UnreadableFile(OSError):
    """The path is not a regular file, or is larger than the limit: ``str()`` says which."""


def read_regular_file(path: Path, *, limit: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file at ``path``; :class:`UnreadableFile` for a directory,
    pipe, device or socket, or a file over ``limit`` bytes; other ``OSError`` as raised
    (``FileNotFoundError``, ``PermissionError``)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise UnreadableFile(f"is {_kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableFile(f"is larger than {limit // (1024 * 1024)} MiB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
