"""Anchors: the event chain's head, written outside the database.

Whoever can write the database can delete the newest events and rewrite the chain-head row
to match: the chain alone then still verifies. An anchor is the head (last event id, its
hash) kept somewhere that person would also have to rewrite, and ``audit verify`` checks
the log against every anchor (:meth:`releasegate.store.api.Store.verify_chain`).

* :class:`GitAnchor` — each anchor is a commit of the empty tree on a ref of the project's
  repository (``refs/releasegate/anchors``), made with ``git commit-tree`` and ``git
  update-ref``: the ref's history is the list of anchors; the work tree, the index and
  HEAD are never touched. Pushed with the project, it is witnessed by every clone.
* :class:`FileAnchor` — append-only JSON lines in a file created 0600.

``audit.anchor`` in the config chooses one: ``git``, ``file:PATH`` or ``none``
(:func:`anchor_from_setting`).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from releasegate.errors import ConfigError, StoreError
from releasegate.store.records import Anchor, ChainHead

DEFAULT_REF = "refs/releasegate/anchors"
_GIT_TIMEOUT_S = 30
_IDENTITY = {
    "GIT_AUTHOR_NAME": "releasegate",
    "GIT_AUTHOR_EMAIL": "releasegate@localhost",
    "GIT_COMMITTER_NAME": "releasegate",
    "GIT_COMMITTER_EMAIL": "releasegate@localhost",
}
# set by git hooks and wrappers: they would point git elsewhere than repo_dir
_GIT_LOCATION_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")


class AnchorStore(Protocol):
    """Somewhere outside the database that keeps chain heads."""

    def write(self, head: ChainHead) -> Anchor:
        """Record ``head`` as an anchor (now) and return it."""
        ...

    def read(self) -> list[Anchor]:
        """Every anchor recorded, oldest first."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


class GitAnchor:
    """Anchors as commits on ``ref`` in the git repository holding ``repo_dir``."""

    def __init__(
        self,
        repo_dir: Path,
        ref: str = DEFAULT_REF,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.repo_dir = repo_dir
        self.ref = ref
        self._clock = clock

    def __repr__(self) -> str:
        return f"GitAnchor({str(self.repo_dir)!r}, {self.ref!r})"

    def write(self, head: ChainHead) -> Anchor:
        """Commit ``head`` on the ref (the previous anchor is its parent)."""
        anchor = Anchor(event_id=head.event_id, hash=head.hash, anchored_at=self._clock())
        stamp = f"{int(anchor.anchored_at.timestamp())} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        for _ in range(5):  # another writer moved the ref in between: build on its anchor
            parent = self._tip()
            tree = self._git("mktree", stdin="")
            argv = ["commit-tree", "--no-gpg-sign", tree, *(["-p", parent] if parent else [])]
            commit = self._git(*argv, stdin=_message(anchor, head), env=env)
            moved = self._run(
                "update-ref", "-m", "releasegate anchor", self.ref, commit, parent or ""
            )
            if moved.returncode == 0:
                return anchor
        raise StoreError(
            f"cannot write the anchor ref {self.ref} in {self.repo_dir}: it keeps moving"
        )

    def read(self) -> list[Anchor]:
        """The anchors on the ref, oldest first ([] if the ref does not exist yet)."""
        if self._tip() is None:
            return []
        log = self._git("log", "--reverse", "--format=%H%n%B%x00", self.ref)
        anchors = []
        for entry in filter(None, (part.strip() for part in log.split("\0"))):
            commit, _, body = entry.partition("\n")
            anchors.append(_parse(body, f"{self.ref} commit {commit[:12]}"))
        return anchors

    def _tip(self) -> str | None:
        found = self._run("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
        if found.returncode == 0:
            return found.stdout.strip()
        if found.returncode == 1 and not found.stderr.strip():
            return None  # no anchor yet
        reason = (found.stderr.strip().splitlines() or [f"exit {found.returncode}"])[-1]
        raise StoreError(f"cannot use the anchor ref {self.ref} in {self.repo_dir}: {reason}")

    def _git(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        done = self._run(*args, stdin=stdin, env=env)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise StoreError(f"cannot use the anchor ref {self.ref} in {self.repo_dir}: {reason}")
        return done.stdout.strip()

    def _run(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARIABLES}
        environment |= _IDENTITY | (env or {})
        try:
            return subprocess.run(
                ["git", "-C", str(self.repo_dir), *args],
                input=stdin,
                capture_output=True,
                text=True,
                env=environment,
                timeout=_GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreError(
                f"cannot run git for the anchor ref in {self.repo_dir}: {exc}"
            ) from exc


class FileAnchor:
    """Anchors as JSON lines appended to ``path`` (created 0600, never rewritten)."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _now) -> None:
        self.path = path
        self._clock = clock

    def __repr__(self) -> str:
        return f"FileAnchor({str(self.path)!r})"

    def write(self, head: ChainHead) -> Anchor:
        """Append ``head`` as one line."""
        anchor = Anchor(event_id=head.event_id, hash=head.hash, anchored_at=self._clock())
        line = json.dumps(
            {
                "event": anchor.event_id,
                "hash": anchor.hash,
                "anchored_at": anchor.anchored_at.isoformat(),
                "event_at": None if head.at is None else head.at.isoformat(),
            },
            sort_keys=True,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"cannot write the anchor file {self.path}: {exc.strerror or exc}"
            ) from exc
        return anchor

    def read(self) -> list[Anchor]:
        """The anchors in the file, oldest first ([] if it does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(
                f"cannot read the anchor file {self.path}: {exc.strerror or exc}"
            ) from exc
        anchors = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{self.path}:{number}"
            try:
                fields = json.loads(line)
                anchors.append(
                    Anchor(
                        event_id=int(fields["event"]),
                        hash=str(fields["hash"]),
                        anchored_at=datetime.fromisoformat(fields["anchored_at"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{where}: not an anchor ({exc})") from exc
        return anchors


def anchor_from_setting(setting: str, config_dir: Path) -> AnchorStore | None:
    """The anchor store ``audit.anchor`` names: ``git`` (the repository holding
    ``config_dir``), ``file:PATH`` (relative to ``config_dir``) or ``none`` (None)."""
    if setting == "none":
        return None
    if setting == "git":
        return GitAnchor(config_dir)
    if setting.startswith("file:") and setting[5:].strip():
        return FileAnchor(config_dir / Path(setting[5:].strip()).expanduser())
    raise ConfigError(f"audit.anchor: {setting!r} is not git, file:PATH or none")


def _message(anchor: Anchor, head: ChainHead) -> str:
    event_at = "" if head.at is None else f"event-at: {head.at.isoformat()}\n"
    return (
        f"releasegate anchor: event {anchor.event_id}\n\n"
        f"event: {anchor.event_id}\nhash: {anchor.hash}\n"
        f"anchored-at: {anchor.anchored_at.isoformat()}\n{event_at}"
    )


def _parse(body: str, where: str) -> Anchor:
    fields = dict(
        line.split(": ", 1)
        for line in body.splitlines()
        if ": " in line and not line.startswith("releasegate")
    )
    try:
        return Anchor(
            event_id=int(fields["event"]),
            hash=fields["hash"],
            anchored_at=datetime.fromisoformat(fields["anchored-at"]),
        )
    except (KeyError, ValueError) as exc:
        raise StoreError(f"{where}: not an anchor ({exc})") from exc
