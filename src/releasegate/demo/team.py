"""The demo's team: people who sign what a deployment waits for, as ``releasegate
confirm ID ITEM`` would, each in a role the config gives them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from releasegate.demo.background import Background
from releasegate.identity import Actor
from releasegate.service.workspace import Workspace


@dataclass
class Team(Background):
    thread_name: ClassVar[str] = "demo-team"
    config_path: Path
    signed: list[str] = field(default_factory=list)

    def _run(self) -> None:
        ws = Workspace(self.config_path)
        looker = ws.actor(requested="demo-team")
        told: set[str] = set()
        try:
            while not self._stop.wait(0.2):
                try:
                    self._sign(ws, looker)
                except Exception as exc:  # noqa: BLE001 - the deploy waits for us: try again
                    said = f"{type(exc).__name__}: {exc}"
                    if said not in told:
                        told.add(said)
                        print(f"demo team: {said}; trying again", file=sys.stderr)
        finally:
            ws.close()

    def _sign(self, ws: Workspace, looker: Actor) -> None:
        """Sign what the running deployment waits for, where the config names a signer."""
        from releasegate.service import records, signoffs

        config = ws.config
        deps = records.history(ws, looker, limit=1)
        if not deps or deps[0].status != "running":
            return
        for item in records.waiting_signatures(ws, looker, deps[0].id):
            conf = next((c for c in config.confirmations if c.id == item), None)
            user = None if conf is None else _signer(ws, list(conf.by))
            if conf is None or user is None:
                continue
            signoffs.confirm(ws, ws.actor(requested=user), deps[0].id, item, note="demo team")
            self.signed.append(f"{user} ({', '.join(conf.by) or 'anyone'}) signed {item}")

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
