"""releasegate's end on each host of the ``ssh`` target.

``python -m releasegate.drivers.targets.ssh_agent`` reads one JSON request on stdin and
prints one JSON answer: ``prepare`` (make the directories, say whether the version is already
installed), ``install`` (check the shipped archive's sha256, unpack it), ``discard`` (remove a
half-shipped archive), ``swap`` (the
``local`` target's zero-downtime swap, its supervisor running on this host), ``current``,
``stop``. Failures are answers (``{"ok": false, "error": ...}``), never tracebacks, so the
controller can say what happened on which host.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate.drivers.targets import local_releases
from releasegate.drivers.targets.ssh_artifact import sha256_file
from releasegate.errors import DriverError

if TYPE_CHECKING:  # imported when a swap needs them: prepare and install stay quick
    from releasegate.drivers.api import BackupInfo, ConfirmationInfo, StepContext
    from releasegate.drivers.targets.local import LocalOptions


class _Plain:
    """The controller resolved the secrets before sending: values are used as they are."""

    def resolve(self, value: str) -> str:
        return value

    def redact(self, text: str) -> str:
        return text


class _NoFacts:
    """A swap reads no store facts; the controller records the evidence."""

    def record_backup(self, **_: Any) -> int:
        raise DriverError("the ssh agent has no store")

    def latest_backup(self, *, source: str) -> BackupInfo | None:
        return None

    def is_confirmed(self, item: str) -> ConfirmationInfo | None:
        return None


def _paths(request: dict[str, Any]) -> tuple[Path, Path]:
    root = Path(request["dir"]).expanduser().absolute()
    versions = root / "versions"
    return root, local_releases.release_dir(versions, request["version"])


def _marker(installed: Path) -> Path:
    return installed.with_name(f".{installed.name}.tar.sha256")


def prepare(request: dict[str, Any]) -> dict[str, Any]:
    root, installed = _paths(request)
    (root / "incoming").mkdir(parents=True, exist_ok=True)
    installed.parent.mkdir(parents=True, exist_ok=True)
    try:
        have = _marker(installed).read_text().strip() == request["sha256"] and installed.is_dir()
    except OSError:
        have = False
    return {"ok": True, "have": have}


def install(request: dict[str, Any]) -> dict[str, Any]:
    root, installed = _paths(request)
    archive = root / "incoming" / f"{installed.name}.tar"
    try:
        found = sha256_file(archive)
        if found != request["sha256"]:
            return {
                "ok": False,
                "error": f"the archive of {installed.name} arrived with sha256 {found}, "
                f"not {request['sha256']}: not installed",
            }
        fresh = installed.with_name(f".{installed.name}.new")
        shutil.rmtree(fresh, ignore_errors=True)
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.issym() or member.islnk() or member.name.startswith(("/", "..")) or (
                    "/../" in f"/{member.name}/"
                ):
                    return {"ok": False, "error": f"the archive holds an unsafe entry {member.name!r}"}
            tar.extractall(fresh)
        old = installed.with_name(f".{installed.name}.old")
        if installed.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(installed, old)
        os.replace(fresh, installed)
        _marker(installed).write_text(found + "\n")
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        return {"ok": False, "error": f"cannot install {installed.name} in {root}: {exc.strerror or exc}"}
    finally:
        archive.unlink(missing_ok=True)
    return {"ok": True, "sha256": found, "directory": str(installed)}


def _target(request: dict[str, Any]) -> tuple[LocalOptions, StepContext]:
    from releasegate.drivers.api import Release, StepContext
    from releasegate.drivers.targets.local import LocalOptions

    root = Path(request["dir"]).expanduser().absolute()
    raw = {**request.get("app", {}), "app": ".", "versions": "versions/{version}", "state_dir": "state"}
    opts = LocalOptions.model_validate(raw)
    lines: list[str] = []
    ctx = StepContext(
        release=Release(environment=request.get("environment", "ssh"), version=request.get("version", "-")),
        deployment_id=0,
        workdir=root,
        state_dir=root,
        url=None,
        secrets=_Plain(),
        facts=_NoFacts(),
        progress=lines.append,
    )
    return opts, ctx


async def swap(request: dict[str, Any]) -> dict[str, Any]:
    from releasegate.drivers.targets.local import LocalTarget

    opts, ctx = _target(request)
    result = await LocalTarget().deploy(opts, ctx)
    return {"ok": result.ok, "error": result.summary, "summary": result.summary,
            "evidence": dict(result.evidence)}


async def current(request: dict[str, Any]) -> dict[str, Any]:
    from releasegate.drivers.targets import local_control

    root = Path(request["dir"]).expanduser().absolute()
    found = await local_control.status(root / "state")
    return {"ok": True, "version": found.version if found else None}


async def stop(request: dict[str, Any]) -> dict[str, Any]:
    from releasegate.drivers.targets.local import LocalTarget

    opts, ctx = _target(request)
    await LocalTarget().stop(opts, ctx)
    return {"ok": True}


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request.get("op")
    if op == "prepare":  # with the live version: a host already serving it is left alone
        return {**prepare(request), "live": (await current(request))["version"]}
    if op == "install":
        return install(request)
    if op == "discard":  # a transfer that failed half-way: its part must not fill the disk
        root, installed = _paths(request)
        (root / "incoming" / f"{installed.name}.tar").unlink(missing_ok=True)
        return {"ok": True}
    if op == "swap":
        return await swap(request)
    if op == "current":
        return await current(request)
    if op == "stop":
        return await stop(request)
    return {"ok": False, "error": f"unknown request {op!r}"}


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
        answer = asyncio.run(handle(request))
    except DriverError as exc:
        answer = {"ok": False, "error": str(exc)}
    except (ValueError, KeyError, TypeError, OSError) as exc:
        answer = {"ok": False, "error": f"bad request or host problem: {exc!r}"}
    print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
