"""Which build is running: its manifest (version, commit, build time) and its behaviour.

Every version directory under ``examples/camarketplace/versions/`` pins one version with a
``manifest.json``. The code is shared; what differs between versions is the table below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import camarketplace


@dataclass(frozen=True)
class Features:
    """What a version does differently from the others."""

    schema: int  # the schema version this build needs (migrations up to this number)
    reconciliation: bool = False  # 1.2.0: payment reconciliation fields and endpoint
    failing_method: str | None = None  # 1.2.1: the gateway call for this method always fails
    slow_every: int = 0  # 1.2.1: every Nth request waits slow_delay seconds more
    slow_delay: float = 0.0


FEATURES: dict[str, Features] = {
    "1.1.5": Features(schema=1),
    "1.2.0": Features(schema=2, reconciliation=True),
    # The bad hotfix, on purpose: UPI payments fail every time and a debug flush on every
    # fourth request more than doubles p95 latency.
    "1.2.1": Features(
        schema=2, reconciliation=True, failing_method="upi", slow_every=4, slow_delay=0.08
    ),
}


class BuildError(RuntimeError):
    """The build manifest is missing or names a version this code does not know."""


@dataclass(frozen=True)
class Build:
    """One build of the service: what ``GET /monitoring/version`` reports."""

    version: str
    commit: str
    build_time: str

    @property
    def features(self) -> Features:
        """The behaviour of this version."""
        return FEATURES[self.version]


def load_build(path: Path) -> Build:
    """Read a ``manifest.json``; raise :class:`BuildError` naming the file when it is bad."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        build = Build(
            version=str(data["version"]),
            commit=str(data["commit"]),
            build_time=str(data["buildTime"]),
        )
    except FileNotFoundError as exc:
        raise BuildError(f"{path}: build manifest not found") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"{path}: not a build manifest ({exc})") from exc
    if build.version not in FEATURES:
        known = ", ".join(FEATURES)
        raise BuildError(f"{path}: unknown version {build.version!r} (known: {known})")
    return build


def find_manifest(environ: Mapping[str, str]) -> Path:
    """Where this process's build manifest is.

    In order: ``$CAMARKETPLACE_BUILD_DIR/manifest.json``; the manifest next to the
    ``camarketplace`` package that was imported (a version directory's pinning package);
    ``./manifest.json`` in the working directory.
    """
    env = environ.get("CAMARKETPLACE_BUILD_DIR")
    if env:
        return Path(env) / "manifest.json"
    pinned = Path(camarketplace.__file__).resolve().parent.parent / "manifest.json"
    if pinned.is_file():
        return pinned
    return Path.cwd() / "manifest.json"
