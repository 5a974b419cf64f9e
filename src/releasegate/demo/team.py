"""The demo's team: people who sign what a deployment waits for, as ``releasegate
confirm ID ITEM`` would, each in a role the config gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from releasegate.demo.background import Background
from releasegate.service.workspace import Workspace


@dataclass
class Team(Background):
    thread_name: ClassVar[str] = "demo-team"
    config_path: Path
    signed: list[str] = field(default_factory=list)

    def _run(self) -> None:
        from releasegate.service import records, signoffs

        ws = Workspace(self.config_path)
        config = ws.config
        looker = ws.actor(requested="demo-team")
        try:
            while not self._stop.wait(0.2):
                deps = records.history(ws, looker, limit=1)
                if not deps or deps[0].status != "running":
                    continue
                waiting = records.waiting_signatures(ws, looker, deps[0].id)
                for item in waiting:
                    conf = next((c for c in config.confirmations if c.id == item), None)
                    user = None if conf is None else _signer(ws, list(conf.by))
                    if conf is None or user is None:
                        continue
                    signoffs.confirm(ws, ws.actor(requested=user), deps[0].id, item, note="demo team")
                    self.signed.append(f"{user} ({', '.join(conf.by) or 'anyone'}) signed {item}")
        finally:
            ws.close()

    def take(self) -> list[str]:
        """What was signed since the last call."""
        taken, self.signed = self.signed, []
        return taken


def _signer(ws: Workspace, roles: list[str]) -> str | None:
    config = ws.config
    for name, user in config.users.items():
        if not roles or set(roles) & set(user.roles):
            return str(name)
    return None
