"""The ``ssh`` target: a rolling deploy across hosts, each swapped with zero downtime.

On every host the ``local`` target's supervisor runs (started over ssh by the agent,
``ssh_agent``): the same health-checked, quiesced swap as on one machine. This module is the
driver's face; the roll itself is ``ssh_roll``, its options ``ssh_options``. See
``docs/ssh-target.md``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import ClassVar

from releasegate.drivers import api
from releasegate.drivers.api import StepContext, StepResult
from releasegate.drivers.targets.ssh_hosts import host_runs
from releasegate.drivers.targets.ssh_options import SshOptions
from releasegate.drivers.targets.ssh_roll import Roll
from releasegate.drivers.targets.ssh_transport import Endpoint, call_agent
from releasegate.errors import DriverError


class SshTarget:
    """Deploys to a list of hosts over ssh, batch by batch, behind an optional load balancer."""

    name: ClassVar[str] = "ssh"
    Options: ClassVar[type[api.Options]] = SshOptions

    async def deploy(self, options: api.Options, ctx: StepContext) -> StepResult:
        """Ship ``ctx.release.version`` to every host and switch them batch by batch."""
        return await Roll(_opts(options), ctx, ctx.release.version, "deploy").run()

    async def rollback(self, options: api.Options, ctx: StepContext, to_version: str) -> StepResult:
        """Roll every host back to ``to_version`` the same way."""
        return await Roll(_opts(options), ctx, to_version, "rollback").run()

    async def current(self, options: api.Options, ctx: StepContext) -> str | None:
        """The version every host serves, or None when they differ or one cannot tell."""
        found = await self.versions(options, ctx)
        counts = Counter(found.values())
        return next(iter(counts)) if len(counts) == 1 else None

    async def versions(self, options: api.Options, ctx: StepContext) -> dict[str, str | None]:
        """Each host's live version (None: nothing runs, or the host cannot be reached)."""
        opts = _opts(options)
        hosts = host_runs(opts, ctx)

        async def one(dir_: str, endpoint: Endpoint) -> str | None:
            try:
                answer = await call_agent(
                    endpoint, {"op": "current", "dir": dir_},
                    timeout=opts.connect_timeout.total_seconds() + 20,
                )
            except DriverError:
                return None
            version = answer.get("version")
            return version if isinstance(version, str) else None

        answers = await asyncio.gather(*(one(h.dir, h.endpoint) for h in hosts))
        return {h.name: v for h, v in zip(hosts, answers, strict=True)}

    async def stop(self, options: api.Options, ctx: StepContext) -> None:
        """Stop the app on every host (its supervisor and every version it runs)."""
        opts = _opts(options)
        hosts = host_runs(opts, ctx)
        answers = await asyncio.gather(
            *(
                call_agent(h.endpoint, {"op": "stop", "dir": h.dir, "version": "-",
                                        "app": h.app}, timeout=120)
                for h in hosts
            ),
            return_exceptions=True,
        )
        # every host is asked, whichever fail; then the failures are reported together
        failed = [f"{h.name}: {a}" for h, a in zip(hosts, answers, strict=True)
                  if isinstance(a, BaseException)]
        if failed:
            raise DriverError("ssh target: could not stop " + "; ".join(failed))


def _opts(options: api.Options) -> SshOptions:
    if not isinstance(options, SshOptions):
        raise DriverError(f"ssh target: expected SshOptions, got {type(options).__name__}")
    return options
