"""Fixtures of the ssh target's tests: a workdir with an app of several versions."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from releasegate.drivers.api import Release, StepResult
from releasegate.drivers.targets.ssh import SshTarget
from releasegate.drivers.targets.ssh_options import SshOptions
from releasegate.testing import make_context

APP = Path(__file__).parents[1] / "local_app" / "app.py"
# a route that answers after ?s= seconds: a request still in flight when its host is drained
SLOW = """

import asyncio


async def slow(request: Request) -> JSONResponse:
    await asyncio.sleep(float(request.query_params.get("s", "2")))
    return JSONResponse({"version": VERSION})


app.router.routes.append(Route("/slow", slow))
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """``versions/1.0.0``, ``2.0.0``, ``3.0.0`` of the tiny app (with ``/slow?s=N``), and
    ``bad`` (fails its health check)."""
    for version in ("1.0.0", "2.0.0", "3.0.0", "bad"):
        target = tmp_path / "work" / "versions" / version
        target.mkdir(parents=True)
        shutil.copy(APP, target / "app.py")
        with (target / "app.py").open("a") as handle:
            handle.write(SLOW)
        if version == "bad":
            with (target / "app.py").open("a") as handle:
                handle.write("\nos.environ['APP_HEALTH'] = 'fail'\n")
    return tmp_path / "work"


Deploy = Callable[..., StepResult]


def deployer(workdir: Path, raw: dict[str, Any]) -> tuple[Deploy, Deploy]:
    """``deploy(version, progress=None)`` and ``rollback(version)`` with these options."""
    options = SshOptions.model_validate(raw)
    target = SshTarget()

    def deploy(version: str, progress: Callable[[str], None] | None = None) -> StepResult:
        ctx = make_context(release=Release("production", version), workdir=workdir,
                           progress=progress)
        return asyncio.run(target.deploy(options, ctx))

    def rollback(version: str) -> StepResult:
        ctx = make_context(release=Release("production", "x"), workdir=workdir)
        return asyncio.run(target.rollback(options, ctx, version))

    return deploy, rollback
