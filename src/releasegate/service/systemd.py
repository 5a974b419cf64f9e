"""``releasegate target systemd-unit ENV``: the systemd units that bring an environment's
local target back after a reboot, without a deployment.

Two units, named ``releasegate-<project>-<env>``:

* a ``.socket`` unit holds the listening socket (socket activation). It outlives the
  supervisor, so while the supervisor starts (at boot, on ``systemctl restart``, after an
  upgrade) connections wait in its queue instead of being refused;
* a ``.service`` unit (``Type=notify``) runs the supervisor in the foreground on that socket
  (or on its own, without the socket unit) and, once it is ready, ``releasegate target
  start ENV``: the recorded live version is started and ``target.started`` recorded.

Nothing secret is written: a store URL with a password is left to an ``EnvironmentFile``.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from releasegate.errors import UsageError
from releasegate.identity import Actor
from releasegate.service.inputs import check_environment
from releasegate.service.workspace import Workspace


@dataclass(frozen=True)
class Units:
    """The unit files' names and text."""

    name: str
    service: str
    socket: str
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "service": self.service, "socket": self.socket, "notes": list(self.notes)}


async def _awaited(call: Awaitable[object]) -> object:
    return await call


def _quote(arg: str) -> str:
    """One argument of an ``Exec*=`` line: systemd's quoting, with ``%`` and ``$`` escaped."""
    text = arg.replace("%", "%%").replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _exec(argv: list[str]) -> str:
    return " ".join(_quote(a) for a in argv)


def _store_lines(ws: Workspace, env: str) -> tuple[list[str], list[str]]:
    """``--db`` for the start command, or an EnvironmentFile when the URL holds a password."""
    if ws.db_url is None:
        return [], []
    if urlsplit(ws.db_url).password:
        path = f"/etc/releasegate/{env}.env"
        return [f"EnvironmentFile={path}"], [
            f"the store's URL holds a password: put RELEASEGATE_DATABASE_URL=... in {path} "
            "(mode 0600), it is not written into the unit"
        ]
    return [f"Environment=RELEASEGATE_DATABASE_URL={ws.db_url.replace('%', '%%')}"], []


def units(ws: Workspace, actor: Actor, env: str, *, name: str | None = None) -> Units:
    """The ``.service`` and ``.socket`` units of ``env``'s local target, named ``name``
    (default ``releasegate-<project>-<env>``)."""
    check_environment(list(ws.config.environments), env)
    call = ws.engine(actor).target_call(env, "supervisor_command")
    if call is None:
        raise UsageError(
            f"the target of {env} has no supervisor to start at boot (only the local target has)"
        )
    found = asyncio.run(_awaited(call))
    assert isinstance(found, dict)
    name = name or re.sub(r"[^A-Za-z0-9:_.-]", "-", f"releasegate-{ws.config.project}-{env}")
    host, port = str(found["host"]), int(found["port"])
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    start = [sys.executable, "-m", "releasegate", "--config", str(ws.config_path.resolve()),
             "target", "start", env]
    environment, notes = _store_lines(ws, env)
    service = "\n".join([
        "[Unit]",
        f"Description=releasegate: the local target of {env} ({ws.config.project})",
        f"Wants={name}.socket",
        f"After={name}.socket network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"User={getpass.getuser()}",
        f"WorkingDirectory={_quote(str(ws.root))}",
        *environment,
        f"ExecStart={_exec([str(a) for a in found['argv']])}",
        "# the recorded live version, started without a deployment (recorded: target.started)",
        f"ExecStartPost={_exec(start)}",
        "# SIGTERM to the supervisor only: it drains and stops every version it started",
        "KillMode=mixed",
        f"TimeoutStopSec={int(float(found['stop_timeout_s']))}",
        "Restart=on-failure",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])
    socket = "\n".join([
        "[Unit]",
        f"Description=releasegate: the listening socket of {env}'s local target ({ws.config.project})",
        "",
        "[Socket]",
        f"ListenStream={listen}",
        "NoDelay=true",
        "Backlog=2048",
        "",
        "[Install]",
        "WantedBy=sockets.target",
        "",
    ])
    return Units(name, service, socket, tuple(notes))


def write(found: Units, out: Path) -> list[Path]:
    """Write the service unit to ``out`` (``NAME.service``) and the socket unit beside it."""
    if out.suffix != ".service":
        raise UsageError(f"--out {out}: name the file NAME.service (the socket unit is written beside it)")
    socket_path = out.with_suffix(".socket")
    try:
        out.write_text(found.service)
        socket_path.write_text(found.socket)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    return [out, socket_path]
