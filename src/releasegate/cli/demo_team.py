"""The demo's team: people who sign what a deployment waits for, as ``releasegate
confirm ID ITEM`` would, each in a role the config gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from releasegate.cli.background import Background
from releasegate.config.models import Config
from releasegate.store.api import open_store


@dataclass
class Team(Background):
    thread_name: ClassVar[str] = "demo-team"
    config: Config
    db_url: str
    signed: list[str] = field(default_factory=list)

    def _signer(self, roles: list[str]) -> str | None:
        for name, user in self.config.users.items():
            if not roles or set(roles) & set(user.roles):
                return name
        return None

    def _run(self) -> None:
        store = open_store(self.db_url)
        try:
            while not self._stop.wait(0.2):
                deps = store.list_deployments(limit=1)
                if not deps or deps[0].status != "running":
                    continue
                dep = deps[0]
                done = {c.item for c in store.list_confirmations(dep.id)}
                for run in store.list_step_runs(dep.id):
                    if run.status != "running" or not run.step_id.startswith("sign."):
                        continue
                    item = run.step_id.removeprefix("sign.")
                    conf = next((c for c in self.config.confirmations if c.id == item), None)
                    if conf is None or item in done:
                        continue
                    user = self._signer(list(conf.by))
                    if user is None:
                        continue
                    store.add_confirmation(deployment_id=dep.id, item=item, user=user, note="demo team")
                    done.add(item)
                    self.signed.append(f"{user} ({', '.join(conf.by) or 'anyone'}) signed {item}")
        finally:
            store.close()

    def take(self) -> list[str]:
        """What was signed since the last call."""
        taken, self.signed = self.signed, []
        return taken
